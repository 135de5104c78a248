// Row shapes of the l3 area's tables (see migrations.ts). Booleans are 0/1, timestamps ISO
// strings, lists JSON text; store.ts converts rows to records at the edge. Routers' and floating
// IPs' ports are ordinary rows of the core's network_port, with their addresses in its IPAM.
import type { CoreTables } from '../core/tables.js';

export interface L3Tables {
  network_router: {
    id: string;
    project_id: string;
    name: string;
    description: string;
    admin_state_up: number;
    status: string;
    /** The external network of the gateway; null without a gateway. */
    gw_network_id: string | null;
    /** The gateway port (device_owner network:router_gateway); null without a gateway. */
    gw_port_id: string | null;
    enable_snat: number;
    /** JSON [{destination, nexthop}]: the extraroute extension's static routes. */
    routes: string;
    created_at: string;
    updated_at: string;
    revision_number: number;
  };
  /** A router's interfaces: its ports on internal subnets (device_owner network:router_interface). */
  network_router_port: {
    port_id: string;
    router_id: string;
  };
  network_floating_ip: {
    id: string;
    project_id: string;
    description: string;
    floating_network_id: string;
    /** The port holding the address on the external network (device_owner network:floatingip). */
    floating_port_id: string;
    floating_ip_address: string;
    /** The associated port and which of its addresses is translated; null when not associated. */
    fixed_port_id: string | null;
    fixed_ip_address: string | null;
    /** The router that translates it, found at association; null when not associated. */
    router_id: string | null;
    created_at: string;
    updated_at: string;
    revision_number: number;
  };
}

/** What l3 code runs its queries on: its own tables and the core's. */
export type L3Db = CoreTables & L3Tables;
