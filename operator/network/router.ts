// The Router kind's actuator: Neutron routers with their external gateway and static routes.
// A router's interfaces are not the Router's: each Subnet names its router (routerRef), and
// the Router only reports the subnets it is on (status.resource.interfaceSubnetIds).
import { BadRequest } from '../../lib/openstack/index.js';
import type { KindSpec } from '../crds/convention.js';
import { Router } from '../crds/network.js';
import {
  changedFields,
  dependencyId,
  ifFound,
  matchesFilter,
  referenced,
} from '../framework/actuator-helpers.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import { creationProjectId, neutron, projectIdOf, routerInterfaces, routeSet } from './neutron.js';

export interface ExternalGatewayInfo {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: { subnet_id: string; ip_address: string }[];
}

/** A router as Neutron's API shows it. */
export interface NeutronRouter {
  id: string;
  name: string;
  description?: string;
  project_id?: string;
  status?: string;
  admin_state_up?: boolean;
  external_gateway_info?: ExternalGatewayInfo | null;
  routes?: { destination: string; nexthop: string }[];
  tags?: string[];
}

/** A router and the subnets its interface ports are on, which its own document does not list. */
export interface ObservedRouter {
  router: NeutronRouter;
  interfaceSubnetIds: string[];
  /** Why the spec's routes are not on the router yet (set by update; each pass reads afresh). */
  routesWaiting?: string;
}

type RouterSpec = KindSpec<typeof Router>;
export type RouterResource = NonNullable<RouterSpec['resource']>;

const spec = (context: ActuatorContext) => context.object.spec as RouterSpec;
const resourceOf = (context: ActuatorContext) => spec(context).resource as RouterResource;

/**
 * The external_gateway_info `resource` asks for, null for none. enableSNAT left out is the
 * cloud's choice (changing it is for administrators only in Neutron's default policy).
 */
export function desiredGateway(
  resource: RouterResource,
  externalNetworkId: string | undefined,
): ExternalGatewayInfo | null {
  const wanted = resource.externalGateway;
  if (wanted === undefined || externalNetworkId === undefined) return null;
  return {
    network_id: externalNetworkId,
    ...(wanted.enableSNAT === undefined ? {} : { enable_snat: wanted.enableSNAT }),
  };
}

/** The external_gateway_info to send: `desired` when the router's differs, else undefined. */
export function gatewayChange(
  desired: ExternalGatewayInfo | null,
  current: NeutronRouter,
): ExternalGatewayInfo | null | undefined {
  const info = current.external_gateway_info ?? null;
  if (desired === null) return info === null ? undefined : null;
  const same =
    info?.network_id === desired.network_id &&
    (desired.enable_snat === undefined || info.enable_snat === desired.enable_snat);
  return same ? undefined : desired;
}

/**
 * The fields of `current` to change so that it matches `resource`, but the gateway
 * (gatewayChange): routes left out are none, a description left out is not looked at.
 */
export function routerChanges(
  resource: RouterResource,
  objectName: string,
  current: NeutronRouter,
): Partial<NeutronRouter> {
  const desired: Partial<NeutronRouter> = {
    name: resource.name ?? objectName,
    admin_state_up: resource.adminStateUp ?? true,
    routes: routeSet(
      (resource.routes ?? []).map((route) => ({ destination: route.destination, nexthop: route.nextHop })),
    ),
  };
  if (resource.description !== undefined) desired.description = resource.description;
  return changedFields(desired, { ...current, routes: routeSet(current.routes ?? []) });
}

const gatewayOf = (context: ActuatorContext, resource: RouterResource) =>
  desiredGateway(resource, dependencyId(context, 'Network', resource.externalGateway?.externalNetworkRef));

/** The router with the subnets of its interfaces. */
async function withInterfaces(context: ActuatorContext, router: NeutronRouter): Promise<ObservedRouter> {
  const subnets = new Set<string>();
  for (const port of await routerInterfaces(context, { device_id: router.id }))
    for (const fixed of port.fixed_ips) subnets.add(fixed.subnet_id);
  return { router, interfaceSubnetIds: [...subnets].sort() };
}

async function listRouters(
  context: ActuatorContext,
  query: Record<string, string | undefined>,
  matches: (router: NeutronRouter) => boolean,
): Promise<ObservedRouter[]> {
  const found: ObservedRouter[] = [];
  for await (const router of neutron(context).list<NeutronRouter>('/routers', 'routers', { query }))
    if (matches(router)) found.push(await withInterfaces(context, router));
  return found;
}

async function putRouter(context: ActuatorContext, id: string, fields: Partial<NeutronRouter>) {
  return (await neutron(context).put<{ router: NeutronRouter }>(`/routers/${id}`, { router: fields })).body
    .router;
}

export const routerActuator: Actuator<ObservedRouter> = {
  kind: Router,

  dependencies(object) {
    const { resource, import: imported } = object.spec as RouterSpec;
    return referenced([
      ['Project', resource?.projectRef ?? imported?.filter?.projectRef],
      ['Network', resource?.externalGateway?.externalNetworkRef],
    ]);
  },

  idOf: (found) => found.router.id,

  async getById(context, id) {
    const found = await ifFound(
      neutron(context).get<{ router: NeutronRouter }>(`/routers/${encodeURIComponent(id)}`),
    );
    return found && withInterfaces(context, found.body.router);
  },

  async listForAdoption(context) {
    const resource = resourceOf(context);
    const name = resource.name ?? context.object.metadata.name;
    const projectId = await creationProjectId(context, resource.projectRef);
    return listRouters(
      context,
      { name, project_id: projectId },
      (router) => router.name === name && (projectId === undefined || router.project_id === projectId),
    );
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const projectId = projectIdOf(context, filter.projectRef);
    const fields = { name: filter.name, project_id: projectId };
    return listRouters(context, { ...fields, tags: filter.tags?.join(',') }, (router) =>
      matchesFilter(router, fields, filter.tags),
    );
  },

  async create(context) {
    const resource = resourceOf(context);
    const body: Record<string, unknown> = {
      name: resource.name ?? context.object.metadata.name,
      admin_state_up: resource.adminStateUp ?? true,
    };
    const projectId = projectIdOf(context, resource.projectRef);
    if (projectId) body.project_id = projectId;
    if (resource.description !== undefined) body.description = resource.description;
    const gateway = gatewayOf(context, resource);
    if (gateway) body.external_gateway_info = gateway;
    // Routes cannot be given to a create (Neutron's extraroute): update sets them.
    const router = (await neutron(context).post<{ router: NeutronRouter }>('/routers', { router: body })).body
      .router;
    return { router, interfaceSubnetIds: [] };
  },

  async update(context, current) {
    const resource = resourceOf(context);
    let router = current.router;
    const gateway = gatewayChange(gatewayOf(context, resource), router);
    const { routes, ...changes } = routerChanges(resource, context.object.metadata.name, router);
    if (gateway !== undefined || Object.keys(changes).length > 0)
      router = await putRouter(context, router.id, {
        ...changes,
        ...(gateway === undefined ? {} : { external_gateway_info: gateway }),
      });
    // Routes on their own: one whose next hop is on no subnet of the router yet is refused
    // until a Subnet naming this router is attached. That Subnet waits for the Router to be
    // available, so the router is (it can be used) and the routes are pending, not an error.
    if (routes !== undefined) {
      try {
        router = await putRouter(context, router.id, { routes });
      } catch (error) {
        if (
          !(
            error instanceof BadRequest &&
            error.type === 'InvalidRoutes' &&
            /not connected/.test(error.message)
          )
        )
          throw error;
        // On `current` too: a pass that changed nothing else observes it (update returns undefined).
        current.routesWaiting = `Routes wait for a subnet with their next hop on the router: ${error.message}`;
      }
    }
    return router === current.router ? undefined : { ...current, router };
  },

  async delete(context, current) {
    // Its Subnets are deleted (and their interfaces removed) first: the deletion guard holds
    // the Router while one names it. Neutron removes the gateway with the router.
    await ifFound(neutron(context).delete(`/routers/${current.router.id}`));
  },

  observe({ router, interfaceSubnetIds, routesWaiting }) {
    const info = router.external_gateway_info;
    const resource = {
      name: router.name,
      description: router.description,
      projectId: router.project_id,
      status: router.status,
      adminStateUp: router.admin_state_up,
      externalGateway: info
        ? {
            networkId: info.network_id,
            enableSNAT: info.enable_snat,
            externalFixedIPs: info.external_fixed_ips?.map((fixed) => ({
              subnetId: fixed.subnet_id,
              ipAddress: fixed.ip_address,
            })),
          }
        : undefined,
      routes: router.routes?.map((route) => ({ destination: route.destination, nextHop: route.nexthop })),
      interfaceSubnetIds,
      tags: router.tags,
    };
    return {
      resource: JSON.parse(JSON.stringify(resource)),
      available: router.status === 'ACTIVE',
      message: `Router is ${router.status ?? 'in an unknown state'}`,
      ...(routesWaiting ? { pending: routesWaiting } : {}),
    };
  },
};
