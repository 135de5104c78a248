// /v2.0/routers: create (with a gateway), list with filters, show, update (name, state,
// gateway, static routes), delete (refused while it has interfaces), and the
// add_router_interface / remove_router_interface actions by subnet or by port.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isoNow } from '../../../../lib/db/columns.js';
import { allows, authorize } from '../../../common/authorize.js';
import { contextOf, requireAuth } from '../../../common/context.js';
import { BadRequest, Conflict } from '../../../common/errors.js';
import {
  type Attributes,
  owningProject,
  readBoolean,
  readString,
  readUuid,
  resourceBody,
} from '../../core/attributes.js';
import { fieldsOf, NOTHING_HIDDEN, passesFilters, type Query, shape } from '../../core/listing.js';
import { recordChange } from '../../core/outbox.js';
import {
  asSeenBy,
  type Caller,
  callerOf,
  canSeeNetwork,
  portNotFound,
  subnetNotFound,
} from '../../core/service.js';
import { findNetwork, findPort, findSubnet, listPortsByIds, type NetworkRecord } from '../../core/store.js';
import { listResponse, sortKeys } from '../../pagination.js';
import { checkQuota } from '../../security/area.js';
import {
  addInterfaceByPort,
  addInterfaceBySubnet,
  applyGateway,
  checkRoutes,
  gatewayActions,
  type InterfaceInfo,
  readGatewayInfo,
  readRoutes,
  removeInterface,
} from '../routers.js';
import { asCore, type L3Service, routerNotFound, writeL3 } from '../service.js';
import {
  deleteRouterRow,
  findRouter,
  insertRouter,
  interfacePortIds,
  listRouters,
  lockRouter,
  type RouterRecord,
  updateRouterRow,
} from '../store.js';
import { routerView } from '../views.js';

const CREATE_ATTRIBUTES = new Set([
  'name',
  'description',
  'admin_state_up',
  'external_gateway_info',
  'project_id',
  'tenant_id',
]);
const UPDATE_ATTRIBUTES = new Set([
  'name',
  'description',
  'admin_state_up',
  'external_gateway_info',
  'routes',
]);

type Params = { router_id: string };

const ROUTER_SORT_KEYS = sortKeys('name', 'admin_state_up', 'status');

function routerTarget(router: Pick<RouterRecord, 'projectId'>) {
  return { project_id: router.projectId, tenant_id: router.projectId };
}

/** The body of add_router_interface / remove_router_interface: {subnet_id} or {port_id}, not wrapped. */
function interfaceBody(body: unknown): { subnetId?: string; portId?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('Resource body required');
  }
  const attributes = body as Attributes;
  const subnetId = readUuid(attributes, 'subnet_id');
  const portId = readUuid(attributes, 'port_id');
  if (subnetId === undefined && portId === undefined) {
    throw new BadRequest('Bad router request: Either subnet_id or port_id must be specified.', 'BadRequest');
  }
  return { ...(subnetId !== undefined && { subnetId }), ...(portId !== undefined && { portId }) };
}

export const routerRoutes: FastifyPluginAsync<L3Service> = async (app, service) => {
  const { core } = service;
  const { policy } = core;
  app.addHook('preHandler', requireAuth(core.identity));

  const seenBy = (caller: Caller) => (network: NetworkRecord) => {
    const seen = asSeenBy(caller, network);
    return canSeeNetwork(caller, seen) ? seen : undefined;
  };

  /** The routers' views that pass the query's filters. */
  async function render(routers: RouterRecord[], query: Query): Promise<Record<string, unknown>[]> {
    const gatewayIds = routers.flatMap((router) => (router.gatewayPortId ? [router.gatewayPortId] : []));
    const gateways = new Map((await listPortsByIds(core.db, gatewayIds)).map((port) => [port.id, port]));
    return routers
      .map((router) =>
        routerView(router, router.gatewayPortId ? gateways.get(router.gatewayPortId) : undefined),
      )
      .filter((view) => passesFilters(view, query, NOTHING_HIDDEN));
  }

  async function one(router: RouterRecord): Promise<Record<string, unknown>> {
    const [view] = await render([router], {});
    return view!;
  }

  /** The router, when policy lets the caller see it (404 RouterNotFound otherwise). */
  async function visibleRouter(request: FastifyRequest, id: string): Promise<RouterRecord> {
    const router = await findRouter(service.db, id);
    if (!router || !allows(policy, contextOf(request), 'get_router', routerTarget(router))) {
      throw routerNotFound(id);
    }
    return router;
  }

  app.post('/v2.0/routers', async (request, reply) => {
    const caller = await callerOf(core, request);
    const attributes = resourceBody(request.body, 'router', CREATE_ATTRIBUTES);
    const projectId = owningProject(attributes, caller.projectId, caller.admin);
    const gateway = readGatewayInfo(attributes);
    const now = isoNow();
    const router: RouterRecord = {
      id: randomUUID(),
      projectId,
      name: readString(attributes, 'name') ?? '',
      description: readString(attributes, 'description') ?? '',
      adminStateUp: readBoolean(attributes, 'admin_state_up') ?? true,
      status: 'ACTIVE',
      gatewayNetworkId: null,
      gatewayPortId: null,
      enableSnat: true,
      routes: [],
      createdAt: now,
      updatedAt: now,
      revisionNumber: 1,
    };
    const target = routerTarget(router);
    authorize(policy, request, 'create_router', target);
    for (const action of gatewayActions('create_router', attributes))
      authorize(policy, request, action, target);
    const created = await writeL3(service, async (trx) => {
      await checkQuota(trx, projectId, 'router');
      await insertRouter(trx, router);
      await recordChange(asCore(trx), { kind: 'router', action: 'create', id: router.id, projectId });
      if (!gateway) return router;
      const withGateway = await applyGateway(trx, core, router, gateway, seenBy(caller));
      await updateRouterRow(trx, withGateway);
      return withGateway;
    });
    return reply.code(201).send({ router: await one(created) });
  });

  app.get('/v2.0/routers', async (request) => {
    const caller = await callerOf(core, request);
    const routers = await listRouters(service.db, caller.admin ? undefined : (caller.projectId ?? ''));
    const visible = routers.filter((router) =>
      allows(policy, caller.context, 'get_router', routerTarget(router)),
    );
    const query = request.query as Query;
    const fields = fieldsOf(query);
    return listResponse(request, 'routers', await render(visible, query), {
      sortKeys: ROUTER_SORT_KEYS,
      // An unknown marker is the router's 404, as Neutron's l3 plugin answers it.
      findMarker: async (id) => (await render([await visibleRouter(request, id)], {}))[0],
      shape: (view) => shape(view, NOTHING_HIDDEN, fields),
    });
  });

  app.get<{ Params: Params }>('/v2.0/routers/:router_id', async (request) => {
    const router = await visibleRouter(request, request.params.router_id);
    const [view] = await render([router], {});
    return { router: shape(view!, NOTHING_HIDDEN, fieldsOf(request.query as Query)) };
  });

  app.put<{ Params: Params }>('/v2.0/routers/:router_id', async (request) => {
    const caller = await callerOf(core, request);
    const attributes = resourceBody(request.body, 'router', UPDATE_ATTRIBUTES);
    const current = await visibleRouter(request, request.params.router_id);
    const target = routerTarget(current);
    authorize(policy, request, 'update_router', target);
    for (const action of gatewayActions('update_router', attributes))
      authorize(policy, request, action, target);
    const gateway = readGatewayInfo(attributes);
    const routes = readRoutes(attributes);
    const updated = await writeL3(service, async (trx) => {
      await lockRouter(trx, core.database.dialect, current.id);
      const stored = await findRouter(trx, current.id);
      if (!stored) throw routerNotFound(current.id);
      let router: RouterRecord = {
        ...stored,
        name: readString(attributes, 'name') ?? stored.name,
        description: readString(attributes, 'description') ?? stored.description,
        adminStateUp: readBoolean(attributes, 'admin_state_up') ?? stored.adminStateUp,
        updatedAt: isoNow(),
        revisionNumber: stored.revisionNumber + 1,
      };
      if (gateway !== undefined) router = await applyGateway(trx, core, router, gateway, seenBy(caller));
      if (routes !== undefined) {
        await checkRoutes(trx, router, routes);
        router = { ...router, routes };
      }
      await updateRouterRow(trx, router);
      await recordChange(asCore(trx), {
        kind: 'router',
        action: 'update',
        id: router.id,
        projectId: router.projectId,
      });
      return router;
    });
    return { router: await one(updated) };
  });

  app.delete<{ Params: Params }>('/v2.0/routers/:router_id', async (request, reply) => {
    const caller = await callerOf(core, request);
    const current = await visibleRouter(request, request.params.router_id);
    authorize(policy, request, 'delete_router', routerTarget(current));
    await writeL3(service, async (trx) => {
      await lockRouter(trx, core.database.dialect, current.id);
      const router = await findRouter(trx, current.id);
      if (!router) throw routerNotFound(current.id);
      if ((await interfacePortIds(trx, router.id)).length > 0) {
        throw new Conflict(`Router ${router.id} still has ports`, 'RouterInUse');
      }
      await applyGateway(trx, core, router, null, seenBy(caller));
      await deleteRouterRow(trx, router.id);
      await recordChange(asCore(trx), {
        kind: 'router',
        action: 'delete',
        id: router.id,
        projectId: router.projectId,
      });
    });
    return reply.code(204).send();
  });

  function interfaceResponse(router: RouterRecord, info: InterfaceInfo) {
    return {
      id: router.id,
      tenant_id: router.projectId,
      project_id: router.projectId,
      port_id: info.portId,
      subnet_id: info.subnetIds[0] ?? null,
      subnet_ids: info.subnetIds,
      network_id: info.networkId,
    };
  }

  app.put<{ Params: Params }>('/v2.0/routers/:router_id/add_router_interface', async (request) => {
    const caller = await callerOf(core, request);
    const router = await visibleRouter(request, request.params.router_id);
    authorize(policy, request, 'add_router_interface', routerTarget(router));
    const body = interfaceBody(request.body);
    if (body.subnetId !== undefined && body.portId !== undefined) {
      throw new BadRequest('Bad router request: Cannot specify both subnet-id and port-id.', 'BadRequest');
    }
    const info = await writeL3(service, async (trx) => {
      await lockRouter(trx, core.database.dialect, router.id);
      const current = await findRouter(trx, router.id);
      if (!current) throw routerNotFound(router.id);
      if (body.portId !== undefined) {
        const port = await findPort(asCore(trx), body.portId);
        if (!port || !(caller.admin || port.projectId === caller.projectId)) throw portNotFound(body.portId);
        return addInterfaceByPort(trx, current, port);
      }
      const subnetId = body.subnetId!;
      const subnet = await findSubnet(asCore(trx), subnetId);
      const stored = subnet ? await findNetwork(asCore(trx), subnet.networkId) : undefined;
      const network = stored ? asSeenBy(caller, stored) : undefined;
      const usable =
        subnet &&
        network &&
        (caller.admin ||
          subnet.projectId === caller.projectId ||
          network.projectId === caller.projectId ||
          network.shared);
      if (!usable) throw subnetNotFound(subnetId);
      return addInterfaceBySubnet(trx, core, current, network, subnet);
    });
    return interfaceResponse(router, info);
  });

  app.put<{ Params: Params }>('/v2.0/routers/:router_id/remove_router_interface', async (request) => {
    const router = await visibleRouter(request, request.params.router_id);
    authorize(policy, request, 'remove_router_interface', routerTarget(router));
    const body = interfaceBody(request.body);
    const info = await writeL3(service, async (trx) => {
      await lockRouter(trx, core.database.dialect, router.id);
      const current = await findRouter(trx, router.id);
      if (!current) throw routerNotFound(router.id);
      return removeInterface(trx, current, body);
    });
    return interfaceResponse(router, info);
  });
};
