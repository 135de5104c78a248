// /v2.0/subnets: create (CIDR, gateway and pool rules, no overlap within the network, the DHCP
// port's address), list, show, update (pools never strand an allocated address), delete
// (refused while ports other than the DHCP port hold addresses on it).
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import { isoNow } from '../../../../lib/db/columns.js';
import {
  type Cidr,
  cidrContains,
  cidrsOverlap,
  defaultGateway,
  defaultPools,
  formatAddress,
  formatCidr,
  inRanges,
  parseAddress,
} from '../../../../lib/net/addresses.js';
import { authorize } from '../../../common/authorize.js';
import { requireAuth } from '../../../common/context.js';
import { BadRequest, Conflict } from '../../../common/errors.js';
import { listResponse, sortKeys, type View } from '../../pagination.js';
import { checkQuota } from '../../security/area.js';
import { checkPools, formatPools, parseCidrAttribute } from '../addresses.js';
import {
  type Attributes,
  createBodies,
  owningProject,
  readBoolean,
  readInteger,
  readList,
  readString,
  readUuid,
  refuseReadOnly,
  resourceBody,
} from '../attributes.js';
import { databaseFilter, NOTHING_HIDDEN, passesFilters, type Query, shaper } from '../listing.js';
import { recordChange } from '../outbox.js';
import { DHCP_OWNER, ensureDhcpAddress, removeDhcpAddress } from '../ports.js';
import {
  asSeenBy,
  type Caller,
  type CoreService,
  callerOf,
  childTarget,
  subnetNotFound,
  visibleNetwork,
  write,
} from '../service.js';
import {
  deleteSubnetRow,
  findNetwork,
  findSubnet,
  type HostRoute,
  insertSubnet,
  listSubnets,
  lockNetwork,
  type NetworkRecord,
  type SubnetRecord,
  subnetsOfNetwork,
  updateSubnetRow,
} from '../store.js';
import type { CoreTables } from '../tables.js';
import { subnetView } from '../views.js';

const CREATE_ATTRIBUTES = new Set([
  'name',
  'description',
  'network_id',
  'ip_version',
  'cidr',
  'gateway_ip',
  'allocation_pools',
  'dns_nameservers',
  'host_routes',
  'enable_dhcp',
  'project_id',
  'tenant_id',
  'subnetpool_id',
  'use_default_subnetpool',
  'ipv6_ra_mode',
  'ipv6_address_mode',
  'service_types',
]);
const UPDATE_ATTRIBUTES = new Set([
  'name',
  'description',
  'gateway_ip',
  'allocation_pools',
  'dns_nameservers',
  'host_routes',
  'enable_dhcp',
  'network_id',
  'ip_version',
  'cidr',
]);

type Params = { subnet_id: string };

/** gateway_ip: absent → the default; null → none; else an address inside the CIDR. */
function readGateway(attributes: Attributes, cidr: Cidr): { value: bigint | undefined; given: boolean } {
  if (!Object.hasOwn(attributes, 'gateway_ip')) return { value: undefined, given: false };
  const raw = attributes.gateway_ip;
  if (raw === null) return { value: undefined, given: true };
  const address = typeof raw === 'string' ? parseAddress(raw) : undefined;
  if (!address || address.version !== cidr.version) {
    throw new BadRequest(`Invalid input for gateway_ip. Reason: '${String(raw)}' is not a valid IP address.`);
  }
  const reserved =
    cidr.version === 4 && cidr.prefix < 31 && (address.value === cidr.network || address.value === cidr.last);
  if (!cidrContains(cidr, address.value) || reserved) {
    throw new BadRequest(
      `Invalid input for operation: Gateway ip ${String(raw)} is not a valid address of subnet ${formatCidr(cidr)}.`,
      'InvalidInput',
    );
  }
  return { value: address.value, given: true };
}

function readPools(attributes: Attributes): { start: string; end: string }[] | undefined {
  const list = readList(attributes, 'allocation_pools');
  if (list === undefined) return undefined;
  return list.map((pool) => {
    const entry = pool as Record<string, unknown> | null;
    if (
      typeof entry !== 'object' ||
      entry === null ||
      typeof entry.start !== 'string' ||
      typeof entry.end !== 'string'
    ) {
      throw new BadRequest(
        `Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '${JSON.stringify(pool)}'.`,
      );
    }
    return { start: entry.start, end: entry.end };
  });
}

function readNameservers(attributes: Attributes, version: 4 | 6): string[] | undefined {
  const list = readList(attributes, 'dns_nameservers');
  if (list === undefined) return undefined;
  const seen = new Set<string>();
  return list.map((item) => {
    const address = typeof item === 'string' ? parseAddress(item) : undefined;
    if (!address || address.version !== version) {
      throw new BadRequest(
        `Invalid input for dns_nameservers. Reason: '${String(item)}' is not a valid nameserver.`,
      );
    }
    const text = formatAddress(address.version, address.value);
    if (seen.has(text)) {
      throw new BadRequest(`Invalid input for dns_nameservers. Reason: Duplicate nameserver '${text}'.`);
    }
    seen.add(text);
    return text;
  });
}

function readHostRoutes(attributes: Attributes, version: 4 | 6): HostRoute[] | undefined {
  const list = readList(attributes, 'host_routes');
  if (list === undefined) return undefined;
  return list.map((item) => {
    const route = item as Record<string, unknown> | null;
    if (typeof route !== 'object' || route === null) {
      throw new BadRequest(
        `Invalid input for host_routes. Reason: '${JSON.stringify(item)}' is not a host route.`,
      );
    }
    const destination = parseCidrAttribute(route.destination, 'host_routes');
    const nexthop = typeof route.nexthop === 'string' ? parseAddress(route.nexthop) : undefined;
    if (destination.version !== version || !nexthop || nexthop.version !== version) {
      throw new BadRequest(
        `Invalid input for host_routes. Reason: '${JSON.stringify(item)}' does not match the subnet's IP version.`,
      );
    }
    return { destination: formatCidr(destination), nexthop: formatAddress(nexthop.version, nexthop.value) };
  });
}

/** What `sort_key` may name (Neutron's sortable subnet attributes). */
const SUBNET_SORT_KEYS = sortKeys(
  'name',
  'ip_version',
  'network_id',
  'subnetpool_id',
  'cidr',
  'gateway_ip',
  'enable_dhcp',
  'ipv6_ra_mode',
  'ipv6_address_mode',
);

export const subnetRoutes: FastifyPluginAsync<CoreService> = async (app, service) => {
  const { policy } = service;
  app.addHook('preHandler', requireAuth(service.identity));

  /** The views of `subnets` passing the query's filters (no subnet attribute is hidden). */
  function viewsOf(subnets: SubnetRecord[], query: Query): View[] {
    return subnets.map(subnetView).filter((view) => passesFilters(view, query, NOTHING_HIDDEN));
  }

  function render(subnets: SubnetRecord[], query: Query): View[] {
    return viewsOf(subnets, query).map(shaper(NOTHING_HIDDEN, query));
  }

  /** The subnet and its network, when the caller may see them (404 SubnetNotFound otherwise). */
  async function visibleSubnet(
    caller: Caller,
    id: string,
  ): Promise<{ subnet: SubnetRecord; network: NetworkRecord }> {
    const subnet = await findSubnet(service.db, id);
    const stored = subnet ? await findNetwork(service.db, subnet.networkId) : undefined;
    const network = stored ? asSeenBy(caller, stored) : undefined;
    if (!subnet || !network) throw subnetNotFound(id);
    const visible =
      caller.admin ||
      subnet.projectId === caller.projectId ||
      network.projectId === caller.projectId ||
      network.shared;
    if (!visible) throw subnetNotFound(id);
    return { subnet, network };
  }

  /**
   * Checks one subnet of a create body and returns the write that makes it, to run inside the
   * request's transaction (more than once, if the transaction is retried).
   */
  async function planSubnet(request: FastifyRequest, caller: Caller, attributes: Attributes) {
    const networkId = readUuid(attributes, 'network_id');
    if (networkId === undefined)
      throw new BadRequest("Failed to parse request. Required attribute 'network_id' not specified");
    for (const unsupported of ['subnetpool_id', 'ipv6_ra_mode', 'ipv6_address_mode'] as const) {
      if (attributes[unsupported] !== undefined && attributes[unsupported] !== null) {
        throw new BadRequest(`Invalid input for operation: ${unsupported} is not supported.`, 'InvalidInput');
      }
    }
    if (attributes.use_default_subnetpool === true) {
      throw new BadRequest(
        'Invalid input for operation: no default subnet pool is configured.',
        'InvalidInput',
      );
    }
    const services = readList(attributes, 'service_types');
    if (services && services.length > 0) {
      throw new BadRequest('Invalid input for operation: service_types are not supported.', 'InvalidInput');
    }
    const ipVersion = readInteger(attributes, 'ip_version');
    if (ipVersion !== 4 && ipVersion !== 6) {
      throw new BadRequest(
        `Invalid input for ip_version. Reason: '${String(attributes.ip_version)}' is not in [4, 6].`,
      );
    }
    if (attributes.cidr === undefined) {
      throw new BadRequest('Bad subnets request: a cidr must be specified in the absence of a subnet pool.');
    }
    const cidr = parseCidrAttribute(attributes.cidr);
    if (cidr.version !== ipVersion) {
      throw new BadRequest(
        `Invalid input for operation: Cannot mix IPv${ipVersion} and IPv${cidr.version} networks (cidr ${String(attributes.cidr)}).`,
        'InvalidInput',
      );
    }
    const network = await visibleNetwork(service.db, caller, networkId);
    const projectId = owningProject(attributes, caller.projectId, caller.admin);
    authorize(policy, request, 'create_subnet', childTarget(projectId, network));

    const gateway = readGateway(attributes, cidr);
    const gatewayValue = gateway.given ? gateway.value : defaultGateway(cidr);
    const requestedPools = readPools(attributes);
    const pools = requestedPools
      ? checkPools(cidr, requestedPools, gatewayValue)
      : defaultPools(cidr, gatewayValue);
    const now = isoNow();
    const subnet: SubnetRecord = {
      id: randomUUID(),
      networkId,
      projectId,
      name: readString(attributes, 'name') ?? '',
      description: readString(attributes, 'description') ?? '',
      ipVersion,
      cidr: formatCidr(cidr),
      gatewayIp: gatewayValue === undefined ? null : formatAddress(cidr.version, gatewayValue),
      allocationPools: formatPools(cidr.version, pools),
      dnsNameservers: readNameservers(attributes, ipVersion) ?? [],
      hostRoutes: readHostRoutes(attributes, ipVersion) ?? [],
      enableDhcp: readBoolean(attributes, 'enable_dhcp') ?? true,
      createdAt: now,
      updatedAt: now,
      revisionNumber: 1,
    };
    return async (trx: Transaction<CoreTables>): Promise<SubnetRecord> => {
      await lockNetwork(trx, service.database.dialect, networkId);
      const current = await visibleNetwork(trx, caller, networkId);
      await checkQuota(trx, projectId, 'subnet');
      for (const other of await subnetsOfNetwork(trx, networkId)) {
        if (cidrsOverlap(parseCidrAttribute(other.cidr), cidr)) {
          throw new BadRequest(
            `Invalid input for operation: Requested subnet with cidr: ${subnet.cidr} for network: ${networkId} overlaps with another subnet.`,
            'InvalidInput',
          );
        }
      }
      await insertSubnet(trx, subnet);
      await recordChange(trx, { kind: 'subnet', action: 'create', id: subnet.id, projectId });
      if (subnet.enableDhcp && service.config.network.dhcp) {
        await ensureDhcpAddress(trx, service.ipam, current, subnet, service.config.network.baseMac);
      }
      return subnet;
    };
  }

  app.post('/v2.0/subnets', async (request, reply) => {
    const caller = await callerOf(service, request);
    const { bulk, items } = createBodies(request.body, 'subnet', 'subnets', CREATE_ATTRIBUTES);
    const plans: ((trx: Transaction<CoreTables>) => Promise<SubnetRecord>)[] = [];
    for (const attributes of items) plans.push(await planSubnet(request, caller, attributes));
    // A bulk create makes all of its subnets or, on the first refusal, none.
    const subnets = await write(service, async (trx) => {
      const made: SubnetRecord[] = [];
      for (const plan of plans) made.push(await plan(trx));
      return made;
    });
    const views = subnets.map(subnetView);
    return reply.code(201).send(bulk ? { subnets: views } : { subnet: views[0] });
  });

  app.get('/v2.0/subnets', async (request) => {
    const caller = await callerOf(service, request);
    const query = request.query as Query;
    const subnets = await listSubnets(service.db, caller.viewer, databaseFilter(query));
    return listResponse(request, 'subnets', viewsOf(subnets, query), {
      sortKeys: SUBNET_SORT_KEYS,
      findMarker: async (id) => subnetView((await visibleSubnet(caller, id)).subnet),
      shape: shaper(NOTHING_HIDDEN, query),
    });
  });

  app.get<{ Params: Params }>('/v2.0/subnets/:subnet_id', async (request) => {
    const caller = await callerOf(service, request);
    const { subnet, network } = await visibleSubnet(caller, request.params.subnet_id);
    authorize(policy, request, 'get_subnet', childTarget(subnet.projectId, network));
    const query = request.query as Query;
    return { subnet: render([subnet], { fields: query.fields })[0] };
  });

  app.put<{ Params: Params }>('/v2.0/subnets/:subnet_id', async (request) => {
    const caller = await callerOf(service, request);
    const attributes = resourceBody(request.body, 'subnet', UPDATE_ATTRIBUTES);
    refuseReadOnly(attributes, ['network_id', 'ip_version', 'cidr']);
    const { subnet: current, network } = await visibleSubnet(caller, request.params.subnet_id);
    authorize(policy, request, 'update_subnet', childTarget(current.projectId, network));
    const updated = await write(service, async (trx) => {
      await lockNetwork(trx, service.database.dialect, network.id);
      const subnet = await findSubnet(trx, current.id);
      if (!subnet) throw subnetNotFound(current.id);
      const cidr = parseCidrAttribute(subnet.cidr);
      const gateway = readGateway(attributes, cidr);
      const currentGateway = subnet.gatewayIp === null ? undefined : parseAddress(subnet.gatewayIp)!.value;
      const gatewayValue = gateway.given ? gateway.value : currentGateway;
      const requestedPools = readPools(attributes);
      const pools = requestedPools
        ? checkPools(cidr, requestedPools, gatewayValue)
        : checkPools(cidr, subnet.allocationPools, gatewayValue);
      if (requestedPools) {
        const allocations = await trx
          .selectFrom('network_ip_allocation')
          .select(['ip_key', 'ip_address'])
          .where('subnet_id', '=', subnet.id)
          .execute();
        const stranded = allocations.find(
          (row) =>
            !inRanges(pools, parseAddress(row.ip_address)!.value) &&
            parseAddress(row.ip_address)!.value !== gatewayValue,
        );
        if (stranded) {
          throw new Conflict(
            `Unable to complete operation on subnet ${subnet.id}: allocated address ${stranded.ip_address} would fall outside the new allocation pools.`,
            'SubnetInUse',
          );
        }
        service.ipam.forget(subnet.id);
      }
      const record: SubnetRecord = {
        ...subnet,
        name: readString(attributes, 'name') ?? subnet.name,
        description: readString(attributes, 'description') ?? subnet.description,
        gatewayIp: gatewayValue === undefined ? null : formatAddress(cidr.version, gatewayValue),
        allocationPools: formatPools(cidr.version, pools),
        dnsNameservers: readNameservers(attributes, subnet.ipVersion) ?? subnet.dnsNameservers,
        hostRoutes: readHostRoutes(attributes, subnet.ipVersion) ?? subnet.hostRoutes,
        enableDhcp: readBoolean(attributes, 'enable_dhcp') ?? subnet.enableDhcp,
        updatedAt: isoNow(),
        revisionNumber: subnet.revisionNumber + 1,
      };
      await updateSubnetRow(trx, record);
      await recordChange(trx, {
        kind: 'subnet',
        action: 'update',
        id: record.id,
        projectId: record.projectId,
      });
      if (record.enableDhcp && !subnet.enableDhcp && service.config.network.dhcp) {
        await ensureDhcpAddress(trx, service.ipam, network, record, service.config.network.baseMac);
      }
      if (!record.enableDhcp && subnet.enableDhcp) await removeDhcpAddress(trx, network.id, record.id);
      return record;
    });
    return { subnet: subnetView(updated) };
  });

  app.delete<{ Params: Params }>('/v2.0/subnets/:subnet_id', async (request, reply) => {
    const caller = await callerOf(service, request);
    const { subnet, network } = await visibleSubnet(caller, request.params.subnet_id);
    authorize(policy, request, 'delete_subnet', childTarget(subnet.projectId, network));
    await write(service, async (trx) => {
      await lockNetwork(trx, service.database.dialect, network.id);
      const users = await trx
        .selectFrom('network_ip_allocation')
        .innerJoin('network_port', 'network_port.id', 'network_ip_allocation.port_id')
        .select(['network_port.id', 'network_port.device_owner'])
        .where('network_ip_allocation.subnet_id', '=', subnet.id)
        .execute();
      if (users.some((user) => user.device_owner !== DHCP_OWNER)) {
        throw new Conflict(
          `Unable to complete operation on subnet ${subnet.id}: One or more ports have an IP allocation from this subnet.`,
          'SubnetInUse',
        );
      }
      await removeDhcpAddress(trx, network.id, subnet.id);
      await deleteSubnetRow(trx, subnet.id);
      await recordChange(trx, {
        kind: 'subnet',
        action: 'delete',
        id: subnet.id,
        projectId: subnet.projectId,
      });
    });
    service.ipam.forget(subnet.id);
    return reply.code(204).send();
  });
};
