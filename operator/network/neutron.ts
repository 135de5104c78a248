// What the Neutron actuators share: the client, the project a create lands in, Neutron's
// spelling of addresses and routes, and the router interface ports.
import { formatAddress, formatCidr, parseAddress, parseCidr } from '../../lib/net/addresses.js';
import type { QueryValue } from '../../lib/openstack/index.js';
import { dependencyId, matchesFilter } from '../framework/actuator-helpers.js';
import type { ActuatorContext } from '../framework/reconciler.js';

export const neutron = (context: ActuatorContext) => context.client.service('network');

export const projectIdOf = (context: ActuatorContext, projectRef: string | undefined) =>
  dependencyId(context, 'Project', projectRef);

/**
 * The project a create would put the resource in: the named one, else the credentials' own
 * (admin credentials list every project's resources, and a namesake there is not ours).
 */
export async function creationProjectId(
  context: ActuatorContext,
  projectRef: string | undefined,
): Promise<string | undefined> {
  const named = projectIdOf(context, projectRef);
  if (named !== undefined || context.client.cloud.authType === 'none') return named;
  return (await context.client.session.token()).projectId;
}

/**
 * The resources of a Neutron collection (`/ports`, answered under `ports`) whose fields equal
 * every defined one of `fields` and that carry every tag of `tags`: asked of the server as a
 * filter, and checked again here, since a filter the server ignores must not widen the match.
 */
export async function listMatching<T extends { tags?: string[] }>(
  context: ActuatorContext,
  collection: string,
  fields: Record<string, QueryValue>,
  tags?: readonly string[],
): Promise<T[]> {
  const found: T[] = [];
  const query = { ...fields, tags: tags?.join(',') };
  for await (const candidate of neutron(context).list<T>(`/${collection}`, collection.replace(/-/g, '_'), {
    query,
  }))
    if (matchesFilter(candidate, fields, tags)) found.push(candidate);
  return found;
}

/** Neutron's spelling of an address (`2001:DB8::0:1` is `2001:db8::1`), so equal ones compare equal. */
export function canonicalAddress(text: string): string {
  const address = parseAddress(text);
  return address ? formatAddress(address.version, address.value) : text;
}

/** Neutron's spelling of a CIDR; one that is not a CIDR stays as it is (and matches nothing). */
export function canonicalCidr(text: string): string {
  const block = parseCidr(text);
  return block ? formatCidr(block) : text;
}

export type Route = { destination: string; nexthop: string };
const canonicalRoute = (route: Route): Route => ({
  destination: canonicalCidr(route.destination),
  nexthop: canonicalAddress(route.nexthop),
});
/** Routes as a set: Neutron keeps no order and counts duplicates once. */
export const routeSet = (routes: readonly Route[]): Route[] =>
  [
    ...new Map(
      routes.map(canonicalRoute).map((route) => [`${route.destination} ${route.nexthop}`, route]),
    ).values(),
  ].sort((a, b) => `${a.destination} ${a.nexthop}`.localeCompare(`${b.destination} ${b.nexthop}`));
/** A port as Neutron's API shows it (the fields the actuators read). */
export interface NeutronPort {
  id: string;
  name: string;
  description?: string;
  project_id?: string;
  network_id: string;
  status?: string;
  admin_state_up?: boolean;
  mac_address?: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  security_groups?: string[];
  port_security_enabled?: boolean;
  allowed_address_pairs?: { ip_address: string; mac_address?: string }[];
  device_owner?: string;
  device_id?: string;
  tags?: string[];
}

/** The device owners of a router's interface ports (legacy, distributed and HA routers). */
const ROUTER_INTERFACE_OWNERS = [
  'network:router_interface',
  'network:router_interface_distributed',
  'network:ha_router_replicated_interface',
];

/** The router interface ports matching `query` (a port list filter such as fixed_ips). */
export async function routerInterfaces(
  context: ActuatorContext,
  query: Record<string, string>,
): Promise<NeutronPort[]> {
  const found: NeutronPort[] = [];
  for await (const port of neutron(context).list<NeutronPort>('/ports', 'ports', { query }))
    if (port.device_owner !== undefined && ROUTER_INTERFACE_OWNERS.includes(port.device_owner))
      found.push(port);
  return found;
}
