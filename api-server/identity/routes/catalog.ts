// /v3/regions, /v3/services and /v3/endpoints: the service catalog.
import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { authorize } from '../../common/authorize.js';
import { requireAuth } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import { BadRequest, Conflict } from '../../common/errors.js';
import {
  deleteEndpoint,
  deleteRegion,
  deleteService,
  type EndpointInterface,
  getEndpoint,
  getRegion,
  getService,
  insertEndpoint,
  insertRegion,
  insertService,
  listEndpoints,
  listRegions,
  listServices,
  updateEndpoint,
  updateRegion,
  updateService,
} from '../catalog-store.js';
import { EndpointCreate, EndpointUpdate, RegionCreate, ServiceCreate, ServiceUpdate } from '../schemas.js';
import { newId } from '../store.js';
import { collectionLinks, endpointView, regionView, serviceView } from '../views.js';
import { extraOf, found, queryString, storeUnique } from './common.js';

const REGION_FIELDS = ['id', 'description', 'parent_region_id', 'links'];
const SERVICE_FIELDS = ['id', 'type', 'name', 'description', 'enabled', 'links'];
const ENDPOINT_FIELDS = ['id', 'service_id', 'interface', 'url', 'region_id', 'region', 'enabled', 'links'];

export const catalogRoutes: FastifyPluginAsync<ServiceDependencies> = async (app, { identity, policy }) => {
  app.addHook('preHandler', requireAuth(identity));
  const db = identity.db;
  /** The catalog is in every token: any change must be seen by the next token issued. */
  const changed = () => identity.changed();

  /** POST /v3/regions and PUT /v3/regions/{id}: a region with a given or a new id. */
  async function createRegion(
    request: FastifyRequest,
    body: Static<typeof RegionCreate>['region'],
    id: string,
  ) {
    if (body.parent_region_id)
      found(await getRegion(db, body.parent_region_id), 'region', body.parent_region_id);
    const region = {
      id,
      description: body.description ?? null,
      parentRegionId: body.parent_region_id ?? null,
      extra: extraOf(body, REGION_FIELDS),
    };
    await storeUnique('region', `id ${region.id}`, () => insertRegion(db, region));
    changed();
    return regionView(request, region);
  }

  /**
   * The region of an endpoint being written. `region_id` must name an existing region (400
   * otherwise); the legacy `region` attribute creates its region when missing, as Keystone
   * does for clients that use v3 the way they used v2.
   */
  async function endpointRegion(body: Record<string, unknown>): Promise<string | null | undefined> {
    const regionId = body.region_id;
    if (typeof regionId === 'string') {
      if (!(await getRegion(db, regionId)))
        throw new BadRequest(
          `Invalid input for field/attribute: region_id. Could not find region: ${regionId}.`,
        );
      return regionId;
    }
    if (regionId === null) return null;
    const legacy = body.region;
    if (typeof legacy !== 'string' || legacy === '') return legacy === null ? null : undefined;
    if (!(await getRegion(db, legacy))) {
      await storeUnique('region', `id ${legacy}`, () =>
        insertRegion(db, { id: legacy, description: null, parentRegionId: null, extra: {} }),
      ).catch((err) => {
        // Another request made the same region meanwhile: it exists, which is all that counts.
        if (!(err instanceof Conflict)) throw err;
      });
    }
    return legacy;
  }

  app.get('/v3/regions', async (request) => {
    authorize(policy, request, 'identity:list_regions');
    const query = request.query as Record<string, unknown>;
    const regions = await listRegions(db, { parentRegionId: queryString(query.parent_region_id) });
    return {
      regions: regions.map((region) => regionView(request, region)),
      links: collectionLinks(request, 'regions'),
    };
  });
  app.get('/v3/regions/:id', async (request) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:get_region', { region_id: id });
    return { region: regionView(request, found(await getRegion(db, id), 'region', id)) };
  });
  app.post('/v3/regions', { schema: { body: RegionCreate } }, async (request, reply) => {
    authorize(policy, request, 'identity:create_region');
    const body = (request.body as Static<typeof RegionCreate>).region;
    return reply.code(201).send({ region: await createRegion(request, body, body.id ?? newId()) });
  });
  app.put('/v3/regions/:id', { schema: { body: RegionCreate } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:create_region');
    const body = (request.body as Static<typeof RegionCreate>).region;
    if (body.id !== undefined && body.id !== id)
      throw new BadRequest(
        `The region id in the body (${body.id}) does not match the one in the URL (${id}).`,
      );
    return reply.code(201).send({ region: await createRegion(request, body, id) });
  });
  app.patch('/v3/regions/:id', { schema: { body: RegionCreate } }, async (request) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:update_region', { region_id: id });
    const body = (request.body as Static<typeof RegionCreate>).region;
    const region = found(await getRegion(db, id), 'region', id);
    const updated = {
      ...region,
      description: body.description === undefined ? region.description : body.description,
      parentRegionId: body.parent_region_id === undefined ? region.parentRegionId : body.parent_region_id,
      extra: { ...region.extra, ...extraOf(body, REGION_FIELDS) },
    };
    await updateRegion(db, updated);
    changed();
    return { region: regionView(request, updated) };
  });
  app.delete('/v3/regions/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:delete_region', { region_id: id });
    found(await getRegion(db, id), 'region', id);
    await deleteRegion(db, id);
    changed();
    return reply.code(204).send();
  });

  app.get('/v3/services', async (request) => {
    authorize(policy, request, 'identity:list_services');
    const query = request.query as Record<string, unknown>;
    const services = await listServices(db, { type: queryString(query.type), name: queryString(query.name) });
    return {
      services: services.map((service) => serviceView(request, service)),
      links: collectionLinks(request, 'services'),
    };
  });
  app.get('/v3/services/:id', async (request) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:get_service', { service_id: id });
    return { service: serviceView(request, found(await getService(db, id), 'service', id)) };
  });
  app.post('/v3/services', { schema: { body: ServiceCreate } }, async (request, reply) => {
    authorize(policy, request, 'identity:create_service');
    const body = (request.body as Static<typeof ServiceCreate>).service;
    const service = {
      id: newId(),
      type: body.type,
      name: body.name ?? null,
      description: body.description ?? null,
      enabled: body.enabled ?? true,
      extra: extraOf(body, SERVICE_FIELDS),
    };
    await insertService(db, service);
    changed();
    return reply.code(201).send({ service: serviceView(request, service) });
  });
  app.patch('/v3/services/:id', { schema: { body: ServiceUpdate } }, async (request) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:update_service', { service_id: id });
    const body = (request.body as Static<typeof ServiceUpdate>).service;
    const service = found(await getService(db, id), 'service', id);
    const updated = {
      ...service,
      type: body.type ?? service.type,
      name: body.name ?? service.name,
      description: body.description === undefined ? service.description : body.description,
      enabled: body.enabled ?? service.enabled,
      extra: { ...service.extra, ...extraOf(body, SERVICE_FIELDS) },
    };
    await updateService(db, updated);
    changed();
    return { service: serviceView(request, updated) };
  });
  app.delete('/v3/services/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:delete_service', { service_id: id });
    found(await getService(db, id), 'service', id);
    await deleteService(db, id);
    changed();
    return reply.code(204).send();
  });

  app.get('/v3/endpoints', async (request) => {
    authorize(policy, request, 'identity:list_endpoints');
    const query = request.query as Record<string, unknown>;
    const endpoints = await listEndpoints(db, {
      serviceId: queryString(query.service_id),
      interface: queryString(query.interface),
      regionId: queryString(query.region_id),
    });
    return {
      endpoints: endpoints.map((endpoint) => endpointView(request, endpoint)),
      links: collectionLinks(request, 'endpoints'),
    };
  });
  app.get('/v3/endpoints/:id', async (request) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:get_endpoint', { endpoint_id: id });
    return { endpoint: endpointView(request, found(await getEndpoint(db, id), 'endpoint', id)) };
  });
  app.post('/v3/endpoints', { schema: { body: EndpointCreate } }, async (request, reply) => {
    authorize(policy, request, 'identity:create_endpoint');
    const body = (request.body as Static<typeof EndpointCreate>).endpoint;
    found(await getService(db, body.service_id), 'service', body.service_id);
    const regionId = (await endpointRegion(body)) ?? null;
    const endpoint = {
      id: newId(),
      serviceId: body.service_id,
      interface: body.interface as EndpointInterface,
      regionId,
      url: body.url,
      enabled: body.enabled ?? true,
      extra: extraOf(body, ENDPOINT_FIELDS),
    };
    await insertEndpoint(db, endpoint);
    changed();
    return reply.code(201).send({ endpoint: endpointView(request, endpoint) });
  });
  app.patch('/v3/endpoints/:id', { schema: { body: EndpointUpdate } }, async (request) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:update_endpoint', { endpoint_id: id });
    const body = (request.body as Static<typeof EndpointUpdate>).endpoint;
    const endpoint = found(await getEndpoint(db, id), 'endpoint', id);
    if (body.service_id) found(await getService(db, body.service_id), 'service', body.service_id);
    const region = await endpointRegion(body);
    const updated = {
      ...endpoint,
      url: body.url ?? endpoint.url,
      interface: (body.interface as EndpointInterface | undefined) ?? endpoint.interface,
      regionId: region === undefined ? endpoint.regionId : region,
      serviceId: body.service_id ?? endpoint.serviceId,
      enabled: body.enabled ?? endpoint.enabled,
      extra: { ...endpoint.extra, ...extraOf(body, ENDPOINT_FIELDS) },
    };
    await updateEndpoint(db, updated);
    changed();
    return { endpoint: endpointView(request, updated) };
  });
  app.delete('/v3/endpoints/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    authorize(policy, request, 'identity:delete_endpoint', { endpoint_id: id });
    found(await getEndpoint(db, id), 'endpoint', id);
    await deleteEndpoint(db, id);
    changed();
    return reply.code(204).send();
  });
};
