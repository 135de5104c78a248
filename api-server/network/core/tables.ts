// Row shapes of the core area's tables (see migrations.ts). Booleans are 0/1, timestamps ISO
// strings, lists and maps JSON text; store.ts converts rows to records at the edge.
import type { Generated } from 'kysely';

export interface CoreTables {
  network_network: {
    id: string;
    project_id: string;
    name: string;
    description: string;
    admin_state_up: number;
    shared: number;
    external: number;
    port_security_enabled: number;
    mtu: number;
    status: string;
    network_type: string;
    /** '' when the type has none (vxlan, local). */
    physical_network: string;
    segmentation_id: number | null;
    created_at: string;
    updated_at: string;
    revision_number: number;
  };
  /**
   * One row per segment in use. The primary key (type, physical network, id) is what makes two
   * networks never share a VNI or VLAN, whatever the dialect and however many api-servers.
   */
  network_segment_allocation: {
    network_type: string;
    physical_network: string;
    segmentation_id: number;
    network_id: string;
  };
  network_subnet: {
    id: string;
    network_id: string;
    project_id: string;
    name: string;
    description: string;
    ip_version: number;
    cidr: string;
    gateway_ip: string | null;
    /** JSON [{start, end}]. */
    allocation_pools: string;
    /** JSON [address]. */
    dns_nameservers: string;
    /** JSON [{destination, nexthop}]. */
    host_routes: string;
    enable_dhcp: number;
    created_at: string;
    updated_at: string;
    revision_number: number;
  };
  network_port: {
    id: string;
    network_id: string;
    project_id: string;
    name: string;
    description: string;
    mac_address: string;
    admin_state_up: number;
    status: string;
    device_id: string;
    device_owner: string;
    /** JSON [{subnet_id, ip_address}]: a copy of the port's IPAM rows, in order, for reads. */
    fixed_ips: string;
    port_security_enabled: number;
    /** JSON [{ip_address, mac_address}]. */
    allowed_address_pairs: string;
    /** JSON [{opt_name, opt_value, ip_version}]. */
    extra_dhcp_opts: string;
    binding_host_id: string;
    binding_vnic_type: string;
    /** JSON object. */
    binding_profile: string;
    created_at: string;
    updated_at: string;
    revision_number: number;
  };
  /**
   * IPAM: one row per address in use. The primary key (subnet, address key) is what makes an
   * address go to one port only; the key is the address as fixed-width hex so it sorts.
   */
  network_ip_allocation: {
    subnet_id: string;
    ip_key: string;
    ip_address: string;
    port_id: string;
    network_id: string;
  };
  network_port_security_group: {
    port_id: string;
    security_group_id: string;
  };
  /** Changes for the data plane, written in the transaction of the change (see outbox.ts). */
  network_outbox: {
    seq: Generated<number>;
    message_id: string;
    body: string;
    created_at: string;
  };
}
