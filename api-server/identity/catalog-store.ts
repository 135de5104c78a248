// Regions, services and endpoints: the service catalog's tables.
import { fromBit, fromJsonColumn, toBit } from '../../lib/db/columns.js';
import type { IdentityDb } from './store.js';
import type { IdentityTables } from './tables.js';

export interface RegionRecord {
  id: string;
  description: string | null;
  parentRegionId: string | null;
  extra: Record<string, unknown>;
}

export interface ServiceRecord {
  id: string;
  type: string;
  name: string | null;
  description: string | null;
  enabled: boolean;
  extra: Record<string, unknown>;
}

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface EndpointRecord {
  id: string;
  serviceId: string;
  interface: EndpointInterface;
  regionId: string | null;
  url: string;
  enabled: boolean;
  extra: Record<string, unknown>;
}

const toRegion = (row: IdentityTables['identity_region']): RegionRecord => ({
  id: row.id,
  description: row.description,
  parentRegionId: row.parent_region_id,
  extra: fromJsonColumn(row.extra),
});

const toService = (row: IdentityTables['identity_service']): ServiceRecord => ({
  id: row.id,
  type: row.type,
  name: row.name,
  description: row.description,
  enabled: fromBit(row.enabled),
  extra: fromJsonColumn(row.extra),
});

const toEndpoint = (row: IdentityTables['identity_endpoint']): EndpointRecord => ({
  id: row.id,
  serviceId: row.service_id,
  interface: row.interface as EndpointInterface,
  regionId: row.region_id,
  url: row.url,
  enabled: fromBit(row.enabled),
  extra: fromJsonColumn(row.extra),
});

export async function insertRegion(db: IdentityDb, region: RegionRecord): Promise<void> {
  await db
    .insertInto('identity_region')
    .values({
      id: region.id,
      description: region.description,
      parent_region_id: region.parentRegionId,
      extra: JSON.stringify(region.extra),
    })
    .execute();
}

export async function listRegions(
  db: IdentityDb,
  filter: { parentRegionId?: string } = {},
): Promise<RegionRecord[]> {
  let query = db.selectFrom('identity_region').selectAll().orderBy('id');
  if (filter.parentRegionId !== undefined)
    query = query.where('parent_region_id', '=', filter.parentRegionId);
  return (await query.execute()).map(toRegion);
}

export async function getRegion(db: IdentityDb, id: string): Promise<RegionRecord | undefined> {
  const row = await db.selectFrom('identity_region').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRegion(row);
}

export async function updateRegion(db: IdentityDb, region: RegionRecord): Promise<void> {
  await db
    .updateTable('identity_region')
    .set({
      description: region.description,
      parent_region_id: region.parentRegionId,
      extra: JSON.stringify(region.extra),
    })
    .where('id', '=', region.id)
    .execute();
}

export async function deleteRegion(db: IdentityDb, id: string): Promise<void> {
  await db.deleteFrom('identity_region').where('id', '=', id).execute();
}

export async function insertService(db: IdentityDb, service: ServiceRecord): Promise<void> {
  await db
    .insertInto('identity_service')
    .values({
      id: service.id,
      type: service.type,
      name: service.name,
      description: service.description,
      enabled: toBit(service.enabled),
      extra: JSON.stringify(service.extra),
    })
    .execute();
}

export async function listServices(
  db: IdentityDb,
  filter: { type?: string; name?: string } = {},
): Promise<ServiceRecord[]> {
  let query = db.selectFrom('identity_service').selectAll().orderBy('type');
  if (filter.type !== undefined) query = query.where('type', '=', filter.type);
  if (filter.name !== undefined) query = query.where('name', '=', filter.name);
  return (await query.execute()).map(toService);
}

export async function getService(db: IdentityDb, id: string): Promise<ServiceRecord | undefined> {
  const row = await db.selectFrom('identity_service').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toService(row);
}

export async function updateService(db: IdentityDb, service: ServiceRecord): Promise<void> {
  await db
    .updateTable('identity_service')
    .set({
      type: service.type,
      name: service.name,
      description: service.description,
      enabled: toBit(service.enabled),
      extra: JSON.stringify(service.extra),
    })
    .where('id', '=', service.id)
    .execute();
}

export async function deleteService(db: IdentityDb, id: string): Promise<void> {
  await db.deleteFrom('identity_service').where('id', '=', id).execute();
}

export async function insertEndpoint(db: IdentityDb, endpoint: EndpointRecord): Promise<void> {
  await db
    .insertInto('identity_endpoint')
    .values({
      id: endpoint.id,
      service_id: endpoint.serviceId,
      interface: endpoint.interface,
      region_id: endpoint.regionId,
      url: endpoint.url,
      enabled: toBit(endpoint.enabled),
      extra: JSON.stringify(endpoint.extra),
    })
    .execute();
}

export async function listEndpoints(
  db: IdentityDb,
  filter: { serviceId?: string; interface?: string; regionId?: string } = {},
): Promise<EndpointRecord[]> {
  let query = db.selectFrom('identity_endpoint').selectAll().orderBy('id');
  if (filter.serviceId !== undefined) query = query.where('service_id', '=', filter.serviceId);
  if (filter.interface !== undefined) query = query.where('interface', '=', filter.interface);
  if (filter.regionId !== undefined) query = query.where('region_id', '=', filter.regionId);
  return (await query.execute()).map(toEndpoint);
}

export async function getEndpoint(db: IdentityDb, id: string): Promise<EndpointRecord | undefined> {
  const row = await db.selectFrom('identity_endpoint').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toEndpoint(row);
}

export async function updateEndpoint(db: IdentityDb, endpoint: EndpointRecord): Promise<void> {
  await db
    .updateTable('identity_endpoint')
    .set({
      service_id: endpoint.serviceId,
      interface: endpoint.interface,
      region_id: endpoint.regionId,
      url: endpoint.url,
      enabled: toBit(endpoint.enabled),
      extra: JSON.stringify(endpoint.extra),
    })
    .where('id', '=', endpoint.id)
    .execute();
}

export async function deleteEndpoint(db: IdentityDb, id: string): Promise<void> {
  await db.deleteFrom('identity_endpoint').where('id', '=', id).execute();
}
