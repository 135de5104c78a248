// The Subnet kind's actuator: Neutron subnets, and the subnet's router interface (routerRef;
// docs/operator.md says why the interface belongs to the Subnet). The interface routerRef
// describes is the one on the subnet's gateway address, which is what add_router_interface
// {subnet_id} makes; interfaces on other addresses (added by port) are not the Subnet's to
// describe and are left alone.
import {
  cidrContains,
  defaultGateway,
  formatAddress,
  parseAddress,
  parseCidr,
} from '../../lib/net/addresses.js';
import type { KindSpec } from '../crds/convention.js';
import { Subnet } from '../crds/network.js';
import {
  changedFields,
  dependencyId,
  getOrUndefined,
  ifFound,
  referenced,
} from '../framework/actuator-helpers.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import {
  canonicalAddress,
  canonicalCidr,
  creationProjectId,
  listMatching,
  type NeutronPort,
  neutron,
  projectIdOf,
  type Route,
  routerInterfaces,
  routeSet,
} from './neutron.js';

/** A subnet as Neutron's API shows it. */
export interface NeutronSubnet {
  id: string;
  name: string;
  description?: string;
  project_id?: string;
  network_id: string;
  ip_version: 4 | 6;
  cidr: string;
  gateway_ip: string | null;
  allocation_pools?: { start: string; end: string }[];
  dns_nameservers?: string[];
  host_routes?: { destination: string; nexthop: string }[];
  enable_dhcp?: boolean;
  ipv6_address_mode?: string | null;
  ipv6_ra_mode?: string | null;
  tags?: string[];
}

type SubnetSpec = KindSpec<typeof Subnet>;
export type SubnetResource = NonNullable<SubnetSpec['resource']>;

const spec = (context: ActuatorContext) => context.object.spec as SubnetSpec;
/** A managed object always has spec.resource (the CRD's rule). */
const resourceOf = (context: ActuatorContext) => spec(context).resource as SubnetResource;

/** The gateway_ip `gateway` stands for on `cidr`: Automatic is the first usable address. */
export function gatewayAddress(gateway: SubnetResource['gateway'], cidr: string): string | null {
  if (gateway?.type === 'None') return null;
  if (gateway?.type === 'IP' && gateway.ip !== undefined) return canonicalAddress(gateway.ip);
  const block = parseCidr(cidr);
  if (!block) throw new Error(`${cidr} is not a CIDR block`);
  const first = defaultGateway(block);
  return first === undefined ? null : formatAddress(block.version, first);
}

const poolSet = (pools: readonly { start: string; end: string }[]) =>
  pools
    .map((pool) => ({ start: canonicalAddress(pool.start), end: canonicalAddress(pool.end) }))
    .sort((a, b) => `${a.start} ${a.end}`.localeCompare(`${b.start} ${b.end}`));

/**
 * The fields of `current` to change so that it matches `resource`. A list left out is Neutron's
 * default (no DNS servers, no host routes), a gateway left out is Automatic; allocation pools
 * left out are whatever Neutron made of the CIDR and gateway, and a description left out is
 * not looked at.
 */
export function subnetChanges(
  resource: SubnetResource,
  objectName: string,
  current: NeutronSubnet,
): Partial<NeutronSubnet> {
  const desired: Partial<NeutronSubnet> = {
    name: resource.name ?? objectName,
    gateway_ip: gatewayAddress(resource.gateway, current.cidr),
    dns_nameservers: (resource.dnsNameservers ?? []).map(canonicalAddress),
    host_routes: routeSet(
      (resource.hostRoutes ?? []).map((route) => ({
        destination: route.destination,
        nexthop: route.nextHop,
      })),
    ),
    enable_dhcp: resource.enableDHCP ?? true,
  };
  if (resource.description !== undefined) desired.description = resource.description;
  if (resource.allocationPools !== undefined) desired.allocation_pools = poolSet(resource.allocationPools);
  const comparable: NeutronSubnet = {
    ...current,
    gateway_ip: current.gateway_ip === null ? null : canonicalAddress(current.gateway_ip),
    dns_nameservers: (current.dns_nameservers ?? []).map(canonicalAddress),
    host_routes: routeSet(current.host_routes ?? []),
    allocation_pools: poolSet(current.allocation_pools ?? []),
  };
  return changedFields(desired, comparable);
}

/** The interface ports of routers on the subnet. */
const interfacesOn = (context: ActuatorContext, subnet: NeutronSubnet) =>
  routerInterfaces(context, { fixed_ips: `subnet_id=${subnet.id}` });

/** Whether `port` holds the subnet's gateway address: the interface routerRef describes. */
const onGateway = (port: NeutronPort, subnet: NeutronSubnet) =>
  subnet.gateway_ip !== null &&
  port.fixed_ips.some(
    (fixed) =>
      fixed.subnet_id === subnet.id &&
      canonicalAddress(fixed.ip_address) === canonicalAddress(subnet.gateway_ip ?? ''),
  );

/** Whether `address` lies in `cidr` (both as Neutron spells them). */
export function inCidr(address: string, cidr: string): boolean {
  const block = parseCidr(cidr);
  const parsed = parseAddress(address);
  return block !== undefined && parsed?.version === block.version && cidrContains(block, parsed.value);
}

/**
 * Takes the subnet off the router of `port`. Neutron refuses while a route of the router has
 * its next hop on the subnet (RouterInterfaceInUseByRoute), and such a route cannot work
 * without it: those routes go first (a Router object naming one shows it pending until a
 * subnet with that next hop is attached again), or a topology deleted at once would wait
 * forever, the Router held by this Subnet and this Subnet by the Router's route.
 */
async function detach(context: ActuatorContext, port: NeutronPort, subnet: NeutronSubnet): Promise<void> {
  const path = `/routers/${port.device_id}`;
  const router = (await ifFound(neutron(context).get<{ router: { routes?: Route[] } }>(path)))?.body.router;
  const routes = router?.routes ?? [];
  const kept = routes.filter((route) => !inCidr(route.nexthop, subnet.cidr));
  if (kept.length < routes.length) await neutron(context).put(path, { router: { routes: kept } });
  await ifFound(neutron(context).put(`${path}/remove_router_interface`, { port_id: port.id }));
}

export const subnetActuator: Actuator<NeutronSubnet> = {
  kind: Subnet,

  dependencies(object) {
    const { resource, import: imported } = object.spec as SubnetSpec;
    return referenced([
      ['Network', resource?.networkRef ?? imported?.filter?.networkRef],
      ['Project', resource?.projectRef ?? imported?.filter?.projectRef],
      ['Router', resource?.routerRef],
    ]);
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    return getOrUndefined(neutron(context), `/subnets/${encodeURIComponent(id)}`, 'subnet');
  },

  async listForAdoption(context) {
    const resource = resourceOf(context);
    const name = resource.name ?? context.object.metadata.name;
    const networkId = dependencyId(context, 'Network', resource.networkRef);
    const projectId = await creationProjectId(context, resource.projectRef);
    return listMatching<NeutronSubnet>(context, 'subnets', {
      name,
      network_id: networkId,
      project_id: projectId,
    });
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const fields = {
      name: filter.name,
      network_id: dependencyId(context, 'Network', filter.networkRef),
      project_id: projectIdOf(context, filter.projectRef),
      ip_version: filter.ipVersion,
      cidr: filter.cidr === undefined ? undefined : canonicalCidr(filter.cidr),
    };
    return listMatching<NeutronSubnet>(context, 'subnets', fields, filter.tags);
  },

  async create(context) {
    const resource = resourceOf(context);
    const body: Record<string, unknown> = {
      name: resource.name ?? context.object.metadata.name,
      network_id: dependencyId(context, 'Network', resource.networkRef),
      ip_version: resource.ipVersion ?? 4,
      cidr: resource.cidr,
      enable_dhcp: resource.enableDHCP ?? true,
    };
    const projectId = projectIdOf(context, resource.projectRef);
    if (projectId) body.project_id = projectId;
    if (resource.description !== undefined) body.description = resource.description;
    // Automatic is Neutron's own choice: nothing to send.
    if (resource.gateway && resource.gateway.type !== 'Automatic')
      body.gateway_ip = gatewayAddress(resource.gateway, resource.cidr);
    if (resource.allocationPools) body.allocation_pools = resource.allocationPools;
    if (resource.dnsNameservers) body.dns_nameservers = resource.dnsNameservers;
    if (resource.hostRoutes)
      body.host_routes = resource.hostRoutes.map((route) => ({
        destination: route.destination,
        nexthop: route.nextHop,
      }));
    if (resource.ipv6AddressMode) body.ipv6_address_mode = resource.ipv6AddressMode;
    if (resource.ipv6RAMode) body.ipv6_ra_mode = resource.ipv6RAMode;
    return (await neutron(context).post<{ subnet: NeutronSubnet }>('/subnets', { subnet: body })).body.subnet;
  },

  async update(context, current) {
    const resource = resourceOf(context);
    const changes = subnetChanges(resource, context.object.metadata.name, current);
    const routerId = dependencyId(context, 'Router', resource.routerRef);
    let interfaces = await interfacesOn(context, current);
    // The gateway-address interface goes when the subnet is meant to be on another router or
    // none, and before its address moves (Neutron refuses to move a gateway a router holds);
    // the attach below puts it back on the new address.
    const leaving = interfaces.filter(
      (port) => onGateway(port, current) && (port.device_id !== routerId || 'gateway_ip' in changes),
    );
    for (const port of leaving) await detach(context, port, current);
    interfaces = interfaces.filter((port) => !leaving.includes(port));
    let subnet = current;
    if (Object.keys(changes).length > 0)
      subnet = (
        await neutron(context).put<{ subnet: NeutronSubnet }>(`/subnets/${current.id}`, { subnet: changes })
      ).body.subnet;
    const attach = routerId !== undefined && !interfaces.some((port) => port.device_id === routerId);
    if (attach)
      await neutron(context).put(`/routers/${routerId}/add_router_interface`, { subnet_id: current.id });
    return subnet !== current || attach || leaving.length > 0 ? subnet : undefined;
  },

  async delete(context, current) {
    // Neutron refuses to delete a subnet a router is on: the interface routerRef made goes
    // first. One someone added on another address keeps the subnet (a 409, retried).
    for (const port of await interfacesOn(context, current))
      if (onGateway(port, current)) await detach(context, port, current);
    await ifFound(neutron(context).delete(`/subnets/${current.id}`));
  },

  observe(found) {
    const resource = {
      name: found.name,
      description: found.description,
      projectId: found.project_id,
      networkId: found.network_id,
      ipVersion: found.ip_version,
      cidr: found.cidr,
      gatewayIP: found.gateway_ip ?? undefined,
      allocationPools: found.allocation_pools,
      dnsNameservers: found.dns_nameservers,
      hostRoutes: found.host_routes?.map((route) => ({
        destination: route.destination,
        nextHop: route.nexthop,
      })),
      enableDHCP: found.enable_dhcp,
      ipv6AddressMode: found.ipv6_address_mode ?? undefined,
      ipv6RAMode: found.ipv6_ra_mode ?? undefined,
      tags: found.tags,
    };
    // A subnet has no status in Neutron: once it exists it can be used.
    return { resource: JSON.parse(JSON.stringify(resource)), available: true };
  },
};
