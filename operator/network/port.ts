// The Port kind's actuator: a Neutron port on a Network, with its addresses, security groups
// (the project's default group when none are named, as Neutron does) and allowed address
// pairs. Every mutable field is reconciled by one PUT of what differs.
import type { KindSpec } from '../crds/convention.js';
import { Port } from '../crds/network.js';
import { changedFields, dependencyId, ifFound, referenced } from '../framework/actuator-helpers.js';
import { jsonEqual } from '../framework/diff.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import {
  canonicalAddress,
  creationProjectId,
  listMatching,
  type NeutronPort,
  neutron,
  projectIdOf,
} from './neutron.js';

type PortSpec = KindSpec<typeof Port>;
type PortResource = NonNullable<PortSpec['resource']>;
type FixedIP = NeutronPort['fixed_ips'][number];
/** A fixed IP as a create or update asks for it: a subnet, an address, or both. */
export type WantedFixedIP = { subnet_id?: string; ip_address?: string };
type AddressPair = { ip_address: string; mac_address?: string };

const spec = (context: ActuatorContext) => context.object.spec as PortSpec;
const nameOf = (context: ActuatorContext) => spec(context).resource?.name ?? context.object.metadata.name;

/** An address or prefix as Neutron spells it (`10.0.0.5`, `2001:db8::/64`). */
function canonicalPrefix(text: string): string {
  const [address, length] = text.split('/');
  return length === undefined ? canonicalAddress(text) : `${canonicalAddress(address ?? '')}/${length}`;
}

/**
 * The fixed_ips to PUT so the port has exactly the wanted addresses, or undefined when it has.
 * A wanted entry with an address takes the port's entry holding it; one with only a subnet
 * takes an address the port already has there (Neutron would otherwise allocate another);
 * the port's addresses no entry takes are dropped.
 */
export function fixedIPsToSet(
  wanted: readonly WantedFixedIP[],
  current: readonly FixedIP[],
): WantedFixedIP[] | undefined {
  const left = [...current];
  const take = (matches: (fixed: FixedIP) => boolean) => {
    const index = left.findIndex(matches);
    return index < 0 ? undefined : left.splice(index, 1)[0];
  };
  const resolved: (WantedFixedIP & { kept: boolean })[] = wanted.map((entry) => ({ ...entry, kept: false }));
  for (const entry of resolved) {
    if (entry.ip_address === undefined) continue;
    const address = canonicalAddress(entry.ip_address);
    const held = take(
      (fixed) =>
        canonicalAddress(fixed.ip_address) === address &&
        (entry.subnet_id === undefined || fixed.subnet_id === entry.subnet_id),
    );
    if (held) Object.assign(entry, { subnet_id: held.subnet_id, ip_address: held.ip_address, kept: true });
  }
  for (const entry of resolved) {
    if (entry.ip_address !== undefined || entry.subnet_id === undefined) continue;
    const held = take((fixed) => fixed.subnet_id === entry.subnet_id);
    if (held) Object.assign(entry, { ip_address: held.ip_address, kept: true });
  }
  if (left.length === 0 && resolved.every((entry) => entry.kept)) return undefined;
  return resolved.map(({ kept: _, ...entry }) => entry);
}

/** Address pairs as a comparable set: canonical spelling, the port's MAC where none is given. */
export function addressPairSet(pairs: readonly AddressPair[], portMac: string | undefined): AddressPair[] {
  const canonical = pairs.map((pair) => ({
    ip_address: canonicalPrefix(pair.ip_address),
    mac_address: (pair.mac_address ?? portMac ?? '').toLowerCase(),
  }));
  const key = (pair: AddressPair) => `${pair.ip_address} ${pair.mac_address}`;
  return [...new Map(canonical.map((pair) => [key(pair), pair])).values()].sort((a, b) =>
    key(a).localeCompare(key(b)),
  );
}

/** The spec's fixed IPs with each subnetRef as the subnet's ID. */
const wantedFixedIPs = (context: ActuatorContext, resource: PortResource): WantedFixedIP[] | undefined =>
  resource.fixedIPs?.map((entry) =>
    JSON.parse(
      JSON.stringify({
        subnet_id: dependencyId(context, 'Subnet', entry.subnetRef),
        ip_address: entry.ipAddress,
      }),
    ),
  );

const securityGroupIds = (context: ActuatorContext, resource: PortResource) =>
  resource.securityGroupRefs?.map((name) => dependencyId(context, 'SecurityGroup', name) as string);

const sorted = (ids: readonly string[]) => [...ids].sort();

/** The ID of the port's project's default security group, where it has one. */
async function defaultGroupId(
  context: ActuatorContext,
  projectId: string | undefined,
): Promise<string | undefined> {
  for await (const group of neutron(context).list<{ id: string; name: string; project_id?: string }>(
    '/security-groups',
    'security_groups',
    { query: { name: 'default', project_id: projectId } },
  ))
    if (group.name === 'default' && (projectId === undefined || group.project_id === projectId))
      return group.id;
  return undefined;
}

/**
 * The security groups the port should have: the named ones; none with port security off;
 * else its project's default group (which Neutron gives a port created without groups, and
 * which a port whose groups are no longer named goes back to).
 */
async function wantedSecurityGroups(
  context: ActuatorContext,
  resource: PortResource,
  current: NeutronPort,
): Promise<string[] | undefined> {
  const named = securityGroupIds(context, resource);
  if (named !== undefined) return sorted(named);
  if ((resource.portSecurityEnabled ?? current.port_security_enabled) === false) return [];
  const fallback = await defaultGroupId(context, current.project_id);
  return fallback === undefined ? undefined : [fallback];
}

export const portActuator: Actuator<NeutronPort> = {
  kind: Port,

  dependencies(object) {
    const { resource, import: imported } = object.spec as PortSpec;
    return referenced([
      ['Network', resource?.networkRef ?? imported?.filter?.networkRef],
      ['Project', resource?.projectRef ?? imported?.filter?.projectRef],
      ...[...new Set(resource?.fixedIPs?.map((entry) => entry.subnetRef))].map(
        (name): [string, string | undefined] => ['Subnet', name],
      ),
      ...(resource?.securityGroupRefs ?? []).map((name): [string, string] => ['SecurityGroup', name]),
    ]);
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    const found = await ifFound(
      neutron(context).get<{ port: NeutronPort }>(`/ports/${encodeURIComponent(id)}`),
    );
    return found?.body.port;
  },

  async listForAdoption(context) {
    const resource = spec(context).resource;
    const name = nameOf(context);
    const projectId = await creationProjectId(context, resource?.projectRef);
    const networkId = dependencyId(context, 'Network', resource?.networkRef);
    return listMatching<NeutronPort>(context, 'ports', {
      name,
      project_id: projectId,
      network_id: networkId,
    });
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const fields = {
      name: filter.name,
      network_id: dependencyId(context, 'Network', filter.networkRef),
      project_id: projectIdOf(context, filter.projectRef),
    };
    return listMatching<NeutronPort>(context, 'ports', fields, filter.tags);
  },

  async create(context) {
    const resource = spec(context).resource as PortResource;
    const body: Record<string, unknown> = {
      name: nameOf(context),
      network_id: dependencyId(context, 'Network', resource.networkRef),
      admin_state_up: resource.adminStateUp ?? true,
    };
    if (resource.description !== undefined) body.description = resource.description;
    const projectId = projectIdOf(context, resource.projectRef);
    if (projectId) body.project_id = projectId;
    if (resource.macAddress !== undefined) body.mac_address = resource.macAddress;
    const fixedIPs = wantedFixedIPs(context, resource);
    if (fixedIPs !== undefined) body.fixed_ips = fixedIPs;
    // Left out, Neutron gives the port its project's default group.
    const groups = securityGroupIds(context, resource);
    if (groups !== undefined) body.security_groups = groups;
    if (resource.portSecurityEnabled !== undefined) body.port_security_enabled = resource.portSecurityEnabled;
    if (resource.allowedAddressPairs !== undefined)
      body.allowed_address_pairs = resource.allowedAddressPairs.map((pair) =>
        JSON.parse(JSON.stringify({ ip_address: pair.ipAddress, mac_address: pair.macAddress })),
      );
    return (await neutron(context).post<{ port: NeutronPort }>('/ports', { port: body })).body.port;
  },

  async update(context, current) {
    const resource = spec(context).resource as PortResource;
    const desired: Partial<NeutronPort> = {
      name: nameOf(context),
      admin_state_up: resource.adminStateUp ?? true,
    };
    if (resource.description !== undefined) desired.description = resource.description;
    if (resource.portSecurityEnabled !== undefined)
      desired.port_security_enabled = resource.portSecurityEnabled;
    const changes: Record<string, unknown> = changedFields(desired, current);
    const groups = await wantedSecurityGroups(context, resource, current);
    if (groups !== undefined && !jsonEqual(groups, sorted(current.security_groups ?? [])))
      changes.security_groups = groups;
    const fixedIPs = wantedFixedIPs(context, resource);
    const fixedIPsChange = fixedIPs === undefined ? undefined : fixedIPsToSet(fixedIPs, current.fixed_ips);
    if (fixedIPsChange !== undefined) changes.fixed_ips = fixedIPsChange;
    if (resource.allowedAddressPairs !== undefined) {
      const pairs = resource.allowedAddressPairs.map((pair) =>
        JSON.parse(JSON.stringify({ ip_address: pair.ipAddress, mac_address: pair.macAddress })),
      );
      if (
        !jsonEqual(
          addressPairSet(pairs, current.mac_address),
          addressPairSet(current.allowed_address_pairs ?? [], current.mac_address),
        )
      )
        changes.allowed_address_pairs = pairs;
    }
    if (Object.keys(changes).length === 0) return undefined;
    return (await neutron(context).put<{ port: NeutronPort }>(`/ports/${current.id}`, { port: changes })).body
      .port;
  },

  async delete(context, current) {
    await ifFound(neutron(context).delete(`/ports/${current.id}`));
  },

  observe(found) {
    const resource = {
      name: found.name,
      description: found.description,
      projectId: found.project_id,
      networkId: found.network_id,
      status: found.status,
      adminStateUp: found.admin_state_up,
      macAddress: found.mac_address,
      fixedIPs: found.fixed_ips.map((fixed) => ({ subnetId: fixed.subnet_id, ipAddress: fixed.ip_address })),
      securityGroupIds: found.security_groups,
      portSecurityEnabled: found.port_security_enabled,
      allowedAddressPairs: found.allowed_address_pairs?.map((pair) => ({
        ipAddress: pair.ip_address,
        macAddress: pair.mac_address,
      })),
      deviceOwner: found.device_owner || undefined,
      deviceId: found.device_id || undefined,
      tags: found.tags,
    };
    // A port is DOWN until a device uses it, and usable all the same (a server, a floating IP).
    return {
      resource: JSON.parse(JSON.stringify(resource)),
      available: found.status !== 'ERROR',
      message: `Port is ${found.status ?? 'in an unknown state'}`,
    };
  },
};
