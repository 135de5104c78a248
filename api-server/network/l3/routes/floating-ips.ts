// /v2.0/floatingips: create (an address of an external network, optionally on a given subnet or
// a given address, and optionally associated at once), list with filters, show, update
// (associate with a port, or disassociate with port_id null), delete (the address goes back).
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isoNow } from '../../../../lib/db/columns.js';
import { formatAddress, parseAddress } from '../../../../lib/net/addresses.js';
import { allows, authorize } from '../../../common/authorize.js';
import { contextOf, requireAuth } from '../../../common/context.js';
import { BadRequest } from '../../../common/errors.js';
import { type Attributes, owningProject, readString, readUuid, resourceBody } from '../../core/attributes.js';
import { fieldsOf, NOTHING_HIDDEN, passesFilters, type Query, shape } from '../../core/listing.js';
import { recordChange } from '../../core/outbox.js';
import { allocateFixedIps, insertPortWithMac, newPort } from '../../core/ports.js';
import {
  asSeenBy,
  type Caller,
  callerOf,
  canSeeNetwork,
  networkNotFound,
  portNotFound,
} from '../../core/service.js';
import {
  findNetwork,
  findPort,
  listPortsByIds,
  type PortRecord,
  subnetsOfNetwork,
  updatePortRow,
} from '../../core/store.js';
import { listResponse, sortKeys } from '../../pagination.js';
import { checkQuota } from '../../security/area.js';
import {
  associate,
  badFloatingIpRequest,
  disassociate,
  FLOATING_IP_OWNER,
  recordFloatingIpChange,
  releaseFloatingIp,
} from '../floating-ips.js';
import { asCore, floatingIpNotFound, type L3Service, writeL3 } from '../service.js';
import {
  type FloatingIpRecord,
  findFloatingIp,
  insertFloatingIp,
  listFloatingIps,
  updateFloatingIpRow,
} from '../store.js';
import { floatingIpView } from '../views.js';

const CREATE_ATTRIBUTES = new Set([
  'floating_network_id',
  'subnet_id',
  'floating_ip_address',
  'port_id',
  'fixed_ip_address',
  'description',
  'project_id',
  'tenant_id',
]);
const UPDATE_ATTRIBUTES = new Set(['port_id', 'fixed_ip_address', 'description']);

type Params = { floatingip_id: string };

const FLOATING_IP_SORT_KEYS = sortKeys(
  'floating_ip_address',
  'floating_network_id',
  'router_id',
  'fixed_ip_address',
  'status',
);

function floatingIpTarget(floatingIp: Pick<FloatingIpRecord, 'projectId'>) {
  return { project_id: floatingIp.projectId, tenant_id: floatingIp.projectId };
}

/** fixed_ip_address: which of the port's addresses to translate; only beside a port_id. */
function readFixedAddress(attributes: Attributes): string | undefined {
  const value = attributes.fixed_ip_address;
  if (value === undefined || value === null) return undefined;
  if (attributes.port_id === undefined || attributes.port_id === null) {
    throw badFloatingIpRequest('fixed_ip_address cannot be specified without a port_id');
  }
  const address = typeof value === 'string' ? parseAddress(value) : undefined;
  if (!address) {
    throw new BadRequest(
      `Invalid input for fixed_ip_address. Reason: '${String(value)}' is not a valid IP address.`,
    );
  }
  return formatAddress(address.version, address.value);
}

/** port_id: absent → undefined, null → null (disassociate), else a UUID. */
function readPortId(attributes: Attributes): string | null | undefined {
  if (attributes.port_id === null) return null;
  return readUuid(attributes, 'port_id');
}

export const floatingIpRoutes: FastifyPluginAsync<L3Service> = async (app, service) => {
  const { core } = service;
  const { policy } = core;
  app.addHook('preHandler', requireAuth(core.identity));

  /** The floating IPs' views that pass the query's filters. */
  async function render(floatingIps: FloatingIpRecord[], query: Query): Promise<Record<string, unknown>[]> {
    const portIds = floatingIps.flatMap((floatingIp) =>
      floatingIp.fixedPortId ? [floatingIp.fixedPortId] : [],
    );
    const ports = new Map((await listPortsByIds(core.db, portIds)).map((port) => [port.id, port]));
    return floatingIps
      .map((floatingIp) =>
        floatingIpView(floatingIp, floatingIp.fixedPortId ? ports.get(floatingIp.fixedPortId) : undefined),
      )
      .filter((view) => passesFilters(view, query, NOTHING_HIDDEN));
  }

  async function one(floatingIp: FloatingIpRecord): Promise<Record<string, unknown>> {
    const [view] = await render([floatingIp], {});
    return view!;
  }

  async function visibleFloatingIp(request: FastifyRequest, id: string): Promise<FloatingIpRecord> {
    const floatingIp = await findFloatingIp(service.db, id);
    const context = contextOf(request);
    if (!floatingIp || !allows(policy, context, 'get_floatingip', floatingIpTarget(floatingIp))) {
      throw floatingIpNotFound(id);
    }
    return floatingIp;
  }

  /** The port to associate with: the caller's own (any, for admins), else 404 PortNotFound. */
  async function associablePort(
    caller: Caller,
    trx: Parameters<typeof asCore>[0],
    id: string,
  ): Promise<PortRecord> {
    const port = await findPort(asCore(trx), id);
    if (!port || !(caller.admin || port.projectId === caller.projectId)) throw portNotFound(id);
    return port;
  }

  app.post('/v2.0/floatingips', async (request, reply) => {
    const caller = await callerOf(core, request);
    const attributes = resourceBody(request.body, 'floatingip', CREATE_ATTRIBUTES);
    const networkId = readUuid(attributes, 'floating_network_id');
    if (networkId === undefined) {
      throw new BadRequest("Failed to parse request. Required attribute 'floating_network_id' not specified");
    }
    const subnetId = readUuid(attributes, 'subnet_id');
    const requestedAddress = readString(attributes, 'floating_ip_address', 64);
    if (requestedAddress !== undefined && !parseAddress(requestedAddress)) {
      throw new BadRequest(
        `Invalid input for floating_ip_address. Reason: '${requestedAddress}' is not a valid IP address.`,
      );
    }
    const portId = readPortId(attributes) ?? undefined;
    const fixedAddress = readFixedAddress(attributes);
    const projectId = owningProject(attributes, caller.projectId, caller.admin);
    const now = isoNow();
    const floatingIp: FloatingIpRecord = {
      id: randomUUID(),
      projectId,
      description: readString(attributes, 'description') ?? '',
      floatingNetworkId: networkId,
      floatingPortId: '',
      floatingIpAddress: '',
      fixedPortId: null,
      fixedIpAddress: null,
      routerId: null,
      createdAt: now,
      updatedAt: now,
      revisionNumber: 1,
    };
    const target = floatingIpTarget(floatingIp);
    authorize(policy, request, 'create_floatingip', target);
    if (requestedAddress !== undefined)
      authorize(policy, request, 'create_floatingip:floating_ip_address', target);

    const created = await writeL3(service, async (trx) => {
      const stored = await findNetwork(asCore(trx), networkId);
      const network = stored ? asSeenBy(caller, stored) : undefined;
      if (!network || !canSeeNetwork(caller, network)) throw networkNotFound(networkId);
      if (!network.external)
        throw badFloatingIpRequest(`Network ${networkId} is not a valid external network`);
      const v4 = (await subnetsOfNetwork(asCore(trx), networkId)).filter((subnet) => subnet.ipVersion === 4);
      if (v4.length === 0)
        throw badFloatingIpRequest(`Network ${networkId} does not contain any IPv4 subnet`);
      await checkQuota(trx, projectId, 'floatingip');
      const baseMac = core.config.network.baseMac;
      // Neutron's floating IP ports belong to no project: they count against nobody's port quota.
      const port: PortRecord = {
        ...newPort(network, '', baseMac),
        deviceOwner: FLOATING_IP_OWNER,
        deviceId: floatingIp.id,
        portSecurityEnabled: false,
      };
      const inserted = await insertPortWithMac(asCore(trx), port, baseMac, false);
      const [fixed] = await allocateFixedIps(asCore(trx), core.ipam, network, inserted.id, [
        requestedAddress !== undefined
          ? { ...(subnetId !== undefined && { subnetId }), ipAddress: requestedAddress }
          : { subnetId: subnetId ?? v4[0]!.id },
      ]);
      await updatePortRow(asCore(trx), { ...inserted, fixedIps: [fixed!] });
      await recordChange(asCore(trx), { kind: 'port', action: 'create', id: inserted.id, projectId: '' });
      const record: FloatingIpRecord = {
        ...floatingIp,
        floatingPortId: inserted.id,
        floatingIpAddress: fixed!.ip_address,
      };
      await insertFloatingIp(trx, record);
      await recordFloatingIpChange(trx, record, 'create');
      if (portId === undefined) return record;
      return associate(trx, record, await associablePort(caller, trx, portId), fixedAddress);
    });
    return reply.code(201).send({ floatingip: await one(created) });
  });

  app.get('/v2.0/floatingips', async (request) => {
    const caller = await callerOf(core, request);
    const floatingIps = await listFloatingIps(
      service.db,
      caller.admin ? undefined : (caller.projectId ?? ''),
    );
    const visible = floatingIps.filter((floatingIp) =>
      allows(policy, caller.context, 'get_floatingip', floatingIpTarget(floatingIp)),
    );
    const query = request.query as Query;
    const fields = fieldsOf(query);
    return listResponse(request, 'floatingips', await render(visible, query), {
      sortKeys: FLOATING_IP_SORT_KEYS,
      // An unknown marker is the floating IP's 404, as Neutron's l3 plugin answers it.
      findMarker: async (id) => (await render([await visibleFloatingIp(request, id)], {}))[0],
      shape: (view) => shape(view, NOTHING_HIDDEN, fields),
    });
  });

  app.get<{ Params: Params }>('/v2.0/floatingips/:floatingip_id', async (request) => {
    const floatingIp = await visibleFloatingIp(request, request.params.floatingip_id);
    const [view] = await render([floatingIp], {});
    return { floatingip: shape(view!, NOTHING_HIDDEN, fieldsOf(request.query as Query)) };
  });

  app.put<{ Params: Params }>('/v2.0/floatingips/:floatingip_id', async (request) => {
    const caller = await callerOf(core, request);
    const attributes = resourceBody(request.body, 'floatingip', UPDATE_ATTRIBUTES);
    const current = await visibleFloatingIp(request, request.params.floatingip_id);
    authorize(policy, request, 'update_floatingip', floatingIpTarget(current));
    const portId = readPortId(attributes);
    const fixedAddress = readFixedAddress(attributes);
    const description = readString(attributes, 'description');
    const updated = await writeL3(service, async (trx) => {
      const stored = await findFloatingIp(trx, current.id);
      if (!stored) throw floatingIpNotFound(current.id);
      let floatingIp = stored;
      if (description !== undefined) {
        floatingIp = {
          ...floatingIp,
          description,
          updatedAt: isoNow(),
          revisionNumber: floatingIp.revisionNumber + 1,
        };
        await updateFloatingIpRow(trx, floatingIp);
      }
      if (portId === null) return disassociate(trx, floatingIp);
      if (portId !== undefined) {
        const port = await associablePort(caller, trx, portId);
        if (floatingIp.fixedPortId !== null && floatingIp.fixedPortId !== port.id) {
          floatingIp = await disassociate(trx, floatingIp);
        }
        return associate(trx, floatingIp, port, fixedAddress);
      }
      return floatingIp;
    });
    return { floatingip: await one(updated) };
  });

  app.delete<{ Params: Params }>('/v2.0/floatingips/:floatingip_id', async (request, reply) => {
    const current = await visibleFloatingIp(request, request.params.floatingip_id);
    authorize(policy, request, 'delete_floatingip', floatingIpTarget(current));
    await writeL3(service, async (trx) => {
      const floatingIp = await findFloatingIp(trx, current.id);
      if (!floatingIp) throw floatingIpNotFound(current.id);
      await releaseFloatingIp(trx, floatingIp);
    });
    return reply.code(204).send();
  });
};
