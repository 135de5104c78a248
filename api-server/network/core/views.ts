// Records → Neutron's JSON. Attributes policy hides from the caller are left out by the routes
// (see hiddenAttributes in service.ts); `fields=` narrows the result further.
import type { NetworkRecord, PortRecord, SubnetRecord } from './store.js';

/** Neutron shows standard-attr timestamps to the second, with a Z. */
export function neutronTime(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

export function networkView(network: NetworkRecord, subnetIds: readonly string[]): Record<string, unknown> {
  return {
    id: network.id,
    name: network.name,
    description: network.description,
    admin_state_up: network.adminStateUp,
    status: network.status,
    subnets: [...subnetIds],
    shared: network.shared,
    'router:external': network.external,
    port_security_enabled: network.portSecurityEnabled,
    mtu: network.mtu,
    availability_zone_hints: [],
    availability_zones: [],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'provider:network_type': network.segment.networkType,
    'provider:physical_network': network.segment.physicalNetwork || null,
    'provider:segmentation_id': network.segment.segmentationId,
    project_id: network.projectId,
    tenant_id: network.projectId,
    created_at: neutronTime(network.createdAt),
    updated_at: neutronTime(network.updatedAt),
    revision_number: network.revisionNumber,
    tags: [],
  };
}

export function subnetView(subnet: SubnetRecord): Record<string, unknown> {
  return {
    id: subnet.id,
    name: subnet.name,
    description: subnet.description,
    network_id: subnet.networkId,
    ip_version: subnet.ipVersion,
    cidr: subnet.cidr,
    gateway_ip: subnet.gatewayIp,
    allocation_pools: subnet.allocationPools,
    dns_nameservers: subnet.dnsNameservers,
    host_routes: subnet.hostRoutes,
    enable_dhcp: subnet.enableDhcp,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    service_types: [],
    project_id: subnet.projectId,
    tenant_id: subnet.projectId,
    created_at: neutronTime(subnet.createdAt),
    updated_at: neutronTime(subnet.updatedAt),
    revision_number: subnet.revisionNumber,
    tags: [],
  };
}

export const BOUND_VIF_TYPE = 'ovs';

/** What a port bound to an Open vSwitch host tells the hypervisor (Neutron's ovs vif details). */
export const OVS_VIF_DETAILS = {
  port_filter: true,
  connectivity: 'l2',
  ovs_hybrid_plug: false,
  datapath_type: 'netdev',
  bridge_name: 'br-int',
};

export function portView(port: PortRecord): Record<string, unknown> {
  const bound = port.bindingHostId !== '';
  return {
    id: port.id,
    name: port.name,
    description: port.description,
    network_id: port.networkId,
    mac_address: port.macAddress,
    admin_state_up: port.adminStateUp,
    status: port.status,
    device_id: port.deviceId,
    device_owner: port.deviceOwner,
    fixed_ips: port.fixedIps,
    allowed_address_pairs: port.allowedAddressPairs,
    extra_dhcp_opts: port.extraDhcpOpts,
    security_groups: port.securityGroups,
    port_security_enabled: port.portSecurityEnabled,
    'binding:host_id': port.bindingHostId,
    'binding:vif_type': bound ? BOUND_VIF_TYPE : 'unbound',
    'binding:vif_details': bound ? OVS_VIF_DETAILS : {},
    'binding:vnic_type': port.bindingVnicType,
    'binding:profile': port.bindingProfile,
    project_id: port.projectId,
    tenant_id: port.projectId,
    created_at: neutronTime(port.createdAt),
    updated_at: neutronTime(port.updatedAt),
    revision_number: port.revisionNumber,
    tags: [],
  };
}
