// /v2.0/networks: create (with a segment from the tenant network types, or the provider
// attributes an admin gives), list with filters, show, update, delete.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import { isoNow } from '../../../../lib/db/columns.js';
import { authorize } from '../../../common/authorize.js';
import { requireAuth } from '../../../common/context.js';
import { BadRequest, Conflict } from '../../../common/errors.js';
import { listResponse, sortKeys, type View } from '../../pagination.js';
import { checkQuota } from '../../security/area.js';
import {
  type Attributes,
  createBodies,
  owningProject,
  readBoolean,
  readInteger,
  readList,
  readNullableString,
  readString,
  refuseReadOnly,
  resourceBody,
} from '../attributes.js';
import { databaseFilter, passesFilters, type Query, shaper } from '../listing.js';
import { recordChange } from '../outbox.js';
import { runNetworkDeletionHooks } from '../ports.js';
import {
  allocateSegment,
  checkProviderSegment,
  networkMtu,
  releaseSegment,
  type Segment,
} from '../segments.js';
import {
  asSeenBy,
  type Caller,
  type CoreService,
  callerOf,
  hiddenAttributes,
  networkNotFound,
  networkTarget,
  visibleNetwork,
  write,
} from '../service.js';
import {
  deleteNetworkRow,
  deletePortRow,
  deleteSubnetRow,
  findNetwork,
  insertNetwork,
  listNetworks,
  lockNetwork,
  type NetworkRecord,
  portsOfNetwork,
  subnetIdsOf,
  subnetsOfNetwork,
  updateNetworkRow,
} from '../store.js';
import type { CoreTables } from '../tables.js';
import { networkView } from '../views.js';

const PROVIDER = ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'];

const CREATE_ATTRIBUTES = new Set([
  'name',
  'description',
  'admin_state_up',
  'shared',
  'router:external',
  'port_security_enabled',
  'mtu',
  'project_id',
  'tenant_id',
  'availability_zone_hints',
  ...PROVIDER,
]);
const UPDATE_ATTRIBUTES = new Set([
  'name',
  'description',
  'admin_state_up',
  'shared',
  'router:external',
  'port_security_enabled',
  'mtu',
  ...PROVIDER,
]);

/** The smallest MTU an IPv4 network can have (RFC 791). */
const MIN_MTU = 68;

/**
 * The MTU a body asks for (net-mtu-writable), checked against the largest the segment allows
 * as Neutron's ML2 does; undefined when it asks for none.
 */
function requestedMtu(attributes: Attributes, largest: number): number | undefined {
  const mtu = readInteger(attributes, 'mtu');
  if (mtu === undefined || mtu === null) return undefined;
  if (mtu > largest)
    throw new BadRequest(
      `Invalid input for operation: Requested MTU is too big, maximum is ${largest}.`,
      'InvalidInput',
    );
  if (mtu < MIN_MTU)
    throw new BadRequest(
      `Invalid input for operation: Requested MTU is too small, minimum is ${MIN_MTU}.`,
      'InvalidInput',
    );
  return mtu;
}

/** Attribute actions ("create_network:shared") for the attributes a body sets to a non-default. */
function attributeActions(prefix: string, attributes: Attributes): string[] {
  const actions: string[] = [];
  if (attributes.shared === true) actions.push(`${prefix}:shared`);
  if (attributes['router:external'] === true) actions.push(`${prefix}:router:external`);
  if (attributes.port_security_enabled !== undefined) actions.push(`${prefix}:port_security_enabled`);
  for (const name of PROVIDER) {
    if (attributes[name] !== undefined && attributes[name] !== null) actions.push(`${prefix}:${name}`);
  }
  return actions;
}

type Params = { network_id: string };

/** What `sort_key` may name (Neutron's sortable network attributes). */
const NETWORK_SORT_KEYS = sortKeys('name', 'admin_state_up', 'status', 'shared');

export const networkRoutes: FastifyPluginAsync<CoreService> = async (app, service) => {
  const { policy } = service;
  app.addHook('preHandler', requireAuth(service.identity));

  /** The views of `networks` as the caller sees them, those passing the query's filters. */
  async function viewsOf(caller: Caller, networks: NetworkRecord[], query: Query): Promise<View[]> {
    const hidden = hiddenAttributes(service, caller, 'network');
    const subnets = await subnetIdsOf(
      service.db,
      networks.map((network) => network.id),
    );
    return networks
      .map((network) => networkView(asSeenBy(caller, network), subnets.get(network.id) ?? []))
      .filter((view) => passesFilters(view, query, hidden));
  }

  async function render(caller: Caller, networks: NetworkRecord[], query: Query): Promise<View[]> {
    return (await viewsOf(caller, networks, query)).map(
      shaper(hiddenAttributes(service, caller, 'network'), query),
    );
  }

  /**
   * Checks one network of a create body and returns the write that makes it, to run inside
   * the request's transaction (more than once, if the transaction is retried).
   */
  function planNetwork(request: FastifyRequest, caller: Caller, attributes: Attributes) {
    const projectId = owningProject(attributes, caller.projectId, caller.admin);
    const shared = readBoolean(attributes, 'shared') ?? false;
    const external = readBoolean(attributes, 'router:external') ?? false;
    const target = networkTarget({ projectId, shared, external });
    authorize(policy, request, 'create_network', target);
    for (const action of attributeActions('create_network', attributes)) {
      authorize(policy, request, action, target);
    }
    const hints = readList(attributes, 'availability_zone_hints');
    if (hints && hints.length > 0) {
      throw new BadRequest(
        `Availability zone ${String(hints[0])} could not be found.`,
        'AvailabilityZoneNotFound',
      );
    }
    const networkType = readString(attributes, 'provider:network_type', 16);
    const physicalNetwork = readNullableString(attributes, 'provider:physical_network', 64);
    const segmentationId = readInteger(attributes, 'provider:segmentation_id');
    const provided =
      networkType !== undefined || physicalNetwork || (segmentationId ?? undefined) !== undefined;
    const requested = provided
      ? checkProviderSegment(service.settings, { networkType, physicalNetwork, segmentationId })
      : undefined;
    const now = isoNow();
    const id = randomUUID();
    return async (trx: Transaction<CoreTables>): Promise<NetworkRecord> => {
      await checkQuota(trx, projectId, 'network');
      const segment: Segment = await allocateSegment(trx, service.settings, id, requested);
      const largestMtu = networkMtu(service.settings, segment);
      const record: NetworkRecord = {
        id,
        projectId,
        name: readString(attributes, 'name') ?? '',
        description: readString(attributes, 'description') ?? '',
        adminStateUp: readBoolean(attributes, 'admin_state_up') ?? true,
        shared,
        external,
        portSecurityEnabled: readBoolean(attributes, 'port_security_enabled') ?? true,
        mtu: requestedMtu(attributes, largestMtu) ?? largestMtu,
        status: 'ACTIVE',
        segment,
        createdAt: now,
        updatedAt: now,
        revisionNumber: 1,
      };
      await insertNetwork(trx, record);
      await recordChange(trx, { kind: 'network', action: 'create', id, projectId });
      return record;
    };
  }

  app.post('/v2.0/networks', async (request, reply) => {
    const caller = await callerOf(service, request);
    const { bulk, items } = createBodies(request.body, 'network', 'networks', CREATE_ATTRIBUTES);
    const plans = items.map((attributes) => planNetwork(request, caller, attributes));
    // A bulk create makes all of its networks or, on the first refusal, none.
    const networks = await write(service, async (trx) => {
      const made: NetworkRecord[] = [];
      for (const plan of plans) made.push(await plan(trx));
      return made;
    });
    const views = await render(caller, networks, {});
    return reply.code(201).send(bulk ? { networks: views } : { network: views[0] });
  });

  app.get('/v2.0/networks', async (request) => {
    const caller = await callerOf(service, request);
    authorize(policy, request, 'get_network', {
      project_id: caller.projectId ?? '',
      tenant_id: caller.projectId ?? '',
    });
    const query = request.query as Query;
    const networks = await listNetworks(service.db, caller.viewer, databaseFilter(query));
    return listResponse(request, 'networks', await viewsOf(caller, networks, query), {
      sortKeys: NETWORK_SORT_KEYS,
      findMarker: async (id) =>
        (await viewsOf(caller, [await visibleNetwork(service.db, caller, id)], {}))[0],
      shape: shaper(hiddenAttributes(service, caller, 'network'), query),
    });
  });

  app.get<{ Params: Params }>('/v2.0/networks/:network_id', async (request) => {
    const caller = await callerOf(service, request);
    const network = await visibleNetwork(service.db, caller, request.params.network_id);
    authorize(policy, request, 'get_network', networkTarget(network));
    const query = request.query as Query;
    const [view] = await render(caller, [network], { fields: query.fields });
    return { network: view };
  });

  app.put<{ Params: Params }>('/v2.0/networks/:network_id', async (request) => {
    const caller = await callerOf(service, request);
    const attributes = resourceBody(request.body, 'network', UPDATE_ATTRIBUTES);
    const current = await visibleNetwork(service.db, caller, request.params.network_id);
    const target = networkTarget(current);
    authorize(policy, request, 'update_network', target);
    for (const action of attributeActions('update_network', attributes))
      authorize(policy, request, action, target);
    if (attributes.shared === false && current.shared)
      authorize(policy, request, 'update_network:shared', target);
    if (attributes['router:external'] === false && current.external) {
      authorize(policy, request, 'update_network:router:external', target);
    }
    refuseReadOnly(attributes, PROVIDER);
    const updated = await write(service, async (trx) => {
      await lockNetwork(trx, service.database.dialect, current.id);
      // The stored network, not the caller's view of it: RBAC grants must not be written back.
      const network = await findNetwork(trx, current.id);
      if (!network) throw networkNotFound(current.id);
      const shared = readBoolean(attributes, 'shared') ?? network.shared;
      if (network.shared && !shared) {
        const others = (await portsOfNetwork(trx, network.id)).filter(
          (port) => port.projectId !== network.projectId && !port.deviceOwner.startsWith('network:'),
        );
        if (others.length > 0) {
          throw new Conflict(
            `Unable to reconfigure sharing settings for network ${network.id}. Multiple tenants are using it.`,
            'InvalidSharedSetting',
          );
        }
      }
      const external = readBoolean(attributes, 'router:external') ?? network.external;
      // A router's gateway port (the l3 area's) needs its network external, as in Neutron.
      if (network.external && !external) {
        const gateways = await portsOfNetwork(trx, network.id);
        if (gateways.some((port) => port.deviceOwner === 'network:router_gateway')) {
          throw new Conflict(
            `External network ${network.id} cannot be updated to be made non-external, since it has existing gateway ports.`,
            'ExternalNetworkInUse',
          );
        }
      }
      const record: NetworkRecord = {
        ...network,
        name: readString(attributes, 'name') ?? network.name,
        description: readString(attributes, 'description') ?? network.description,
        adminStateUp: readBoolean(attributes, 'admin_state_up') ?? network.adminStateUp,
        shared,
        external,
        portSecurityEnabled: readBoolean(attributes, 'port_security_enabled') ?? network.portSecurityEnabled,
        mtu: requestedMtu(attributes, networkMtu(service.settings, network.segment)) ?? network.mtu,
        updatedAt: isoNow(),
        revisionNumber: network.revisionNumber + 1,
      };
      await updateNetworkRow(trx, record);
      await recordChange(trx, {
        kind: 'network',
        action: 'update',
        id: record.id,
        projectId: record.projectId,
      });
      return record;
    });
    const [view] = await render(caller, [updated], {});
    return { network: view };
  });

  app.delete<{ Params: Params }>('/v2.0/networks/:network_id', async (request, reply) => {
    const caller = await callerOf(service, request);
    const current = await visibleNetwork(service.db, caller, request.params.network_id);
    authorize(policy, request, 'delete_network', networkTarget(current));
    await write(service, async (trx) => {
      await lockNetwork(trx, service.database.dialect, current.id);
      const network = await visibleNetwork(trx, caller, current.id);
      await runNetworkDeletionHooks(trx, network.id);
      const ports = await portsOfNetwork(trx, network.id);
      if (ports.some((port) => port.deviceOwner !== 'network:dhcp')) {
        throw new Conflict(
          `Unable to complete operation on network ${network.id}. There are one or more ports still in use on the network.`,
          'NetworkInUse',
        );
      }
      for (const port of ports) {
        await deletePortRow(trx, port.id);
        await recordChange(trx, {
          kind: 'port',
          action: 'delete',
          id: port.id,
          projectId: port.projectId,
          hosts: [port.bindingHostId],
        });
      }
      for (const subnet of await subnetsOfNetwork(trx, network.id)) {
        await deleteSubnetRow(trx, subnet.id);
        service.ipam.forget(subnet.id);
        await recordChange(trx, {
          kind: 'subnet',
          action: 'delete',
          id: subnet.id,
          projectId: subnet.projectId,
        });
      }
      await releaseSegment(trx, network.id);
      await deleteNetworkRow(trx, network.id);
      await recordChange(trx, {
        kind: 'network',
        action: 'delete',
        id: network.id,
        projectId: network.projectId,
      });
    });
    return reply.code(204).send();
  });
};
