// Records → Neutron's JSON for routers (with the ext-gw-mode and extraroute attributes) and
// floating IPs (with fip-port-details). `fields=` narrows the result in the routes.
import type { PortRecord } from '../core/store.js';
import { neutronTime } from '../core/views.js';
import type { FloatingIpRecord, RouterRecord } from './store.js';

export function routerView(
  router: RouterRecord,
  gatewayPort: PortRecord | undefined,
): Record<string, unknown> {
  return {
    id: router.id,
    name: router.name,
    description: router.description,
    admin_state_up: router.adminStateUp,
    status: router.status,
    external_gateway_info:
      router.gatewayNetworkId === null
        ? null
        : {
            network_id: router.gatewayNetworkId,
            enable_snat: router.enableSnat,
            external_fixed_ips: gatewayPort?.fixedIps ?? [],
          },
    routes: router.routes,
    project_id: router.projectId,
    tenant_id: router.projectId,
    created_at: neutronTime(router.createdAt),
    updated_at: neutronTime(router.updatedAt),
    revision_number: router.revisionNumber,
    tags: [],
  };
}

/**
 * A floating IP is ACTIVE while associated and DOWN otherwise: the status the L3 agent reports
 * in Neutron once it has set the NAT up, which no data plane reports here yet.
 */
export function floatingIpView(
  floatingIp: FloatingIpRecord,
  fixedPort: PortRecord | undefined,
): Record<string, unknown> {
  const associated = floatingIp.fixedPortId !== null;
  return {
    id: floatingIp.id,
    floating_ip_address: floatingIp.floatingIpAddress,
    floating_network_id: floatingIp.floatingNetworkId,
    router_id: associated ? floatingIp.routerId : null,
    port_id: floatingIp.fixedPortId,
    fixed_ip_address: associated ? floatingIp.fixedIpAddress : null,
    status: associated ? 'ACTIVE' : 'DOWN',
    description: floatingIp.description,
    port_details: fixedPort
      ? {
          name: fixedPort.name,
          network_id: fixedPort.networkId,
          mac_address: fixedPort.macAddress,
          admin_state_up: fixedPort.adminStateUp,
          status: fixedPort.status,
          device_id: fixedPort.deviceId,
          device_owner: fixedPort.deviceOwner,
        }
      : null,
    project_id: floatingIp.projectId,
    tenant_id: floatingIp.projectId,
    created_at: neutronTime(floatingIp.createdAt),
    updated_at: neutronTime(floatingIp.updatedAt),
    revision_number: floatingIp.revisionNumber,
    tags: [],
  };
}
