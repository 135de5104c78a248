// Database access of the l3 area: rows ⇄ records for routers and floating IPs, a router's
// interfaces, and the lookups association and the in-use checks need. Every function takes the
// handle to run on, so callers compose them inside one transaction.
import type { Kysely, Transaction } from 'kysely';
import { fromBit, toBit } from '../../../lib/db/columns.js';
import type { HostRoute } from '../core/store.js';
import type { L3Db, L3Tables } from './tables.js';

export type Db = Kysely<L3Db> | Transaction<L3Db>;

export interface RouterRecord {
  id: string;
  projectId: string;
  name: string;
  description: string;
  adminStateUp: boolean;
  status: string;
  gatewayNetworkId: string | null;
  gatewayPortId: string | null;
  enableSnat: boolean;
  routes: HostRoute[];
  createdAt: string;
  updatedAt: string;
  revisionNumber: number;
}

export interface FloatingIpRecord {
  id: string;
  projectId: string;
  description: string;
  floatingNetworkId: string;
  floatingPortId: string;
  floatingIpAddress: string;
  fixedPortId: string | null;
  fixedIpAddress: string | null;
  routerId: string | null;
  createdAt: string;
  updatedAt: string;
  revisionNumber: number;
}

type RouterRow = L3Tables['network_router'];
type FloatingIpRow = L3Tables['network_floating_ip'];

function routerRecord(row: RouterRow): RouterRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    adminStateUp: fromBit(Number(row.admin_state_up)),
    status: row.status,
    gatewayNetworkId: row.gw_network_id,
    gatewayPortId: row.gw_port_id,
    enableSnat: fromBit(Number(row.enable_snat)),
    routes: JSON.parse(row.routes) as HostRoute[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revisionNumber: Number(row.revision_number),
  };
}

function routerRow(router: RouterRecord): RouterRow {
  return {
    id: router.id,
    project_id: router.projectId,
    name: router.name,
    description: router.description,
    admin_state_up: toBit(router.adminStateUp),
    status: router.status,
    gw_network_id: router.gatewayNetworkId,
    gw_port_id: router.gatewayPortId,
    enable_snat: toBit(router.enableSnat),
    routes: JSON.stringify(router.routes),
    created_at: router.createdAt,
    updated_at: router.updatedAt,
    revision_number: router.revisionNumber,
  };
}

function floatingIpRecord(row: FloatingIpRow): FloatingIpRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    description: row.description,
    floatingNetworkId: row.floating_network_id,
    floatingPortId: row.floating_port_id,
    floatingIpAddress: row.floating_ip_address,
    fixedPortId: row.fixed_port_id,
    fixedIpAddress: row.fixed_ip_address,
    routerId: row.router_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revisionNumber: Number(row.revision_number),
  };
}

function floatingIpRow(floatingIp: FloatingIpRecord): FloatingIpRow {
  return {
    id: floatingIp.id,
    project_id: floatingIp.projectId,
    description: floatingIp.description,
    floating_network_id: floatingIp.floatingNetworkId,
    floating_port_id: floatingIp.floatingPortId,
    floating_ip_address: floatingIp.floatingIpAddress,
    fixed_port_id: floatingIp.fixedPortId,
    fixed_ip_address: floatingIp.fixedIpAddress,
    router_id: floatingIp.routerId,
    created_at: floatingIp.createdAt,
    updated_at: floatingIp.updatedAt,
    revision_number: floatingIp.revisionNumber,
  };
}

// --- routers ----------------------------------------------------------------------------

export async function insertRouter(db: Db, router: RouterRecord): Promise<void> {
  await db.insertInto('network_router').values(routerRow(router)).execute();
}

export async function findRouter(db: Db, id: string): Promise<RouterRecord | undefined> {
  const row = await db.selectFrom('network_router').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? routerRecord(row) : undefined;
}

/** Locks the router row until the transaction ends (MySQL; SQLite transactions are serial). */
export async function lockRouter(trx: Transaction<L3Db>, dialect: string, id: string): Promise<void> {
  if (dialect !== 'mysql') return;
  await trx.selectFrom('network_router').select('id').where('id', '=', id).forUpdate().execute();
}

/** All routers (admins), or those of one project. */
export async function listRouters(db: Db, projectId: string | undefined): Promise<RouterRecord[]> {
  let query = db.selectFrom('network_router').selectAll();
  if (projectId !== undefined) query = query.where('project_id', '=', projectId);
  const rows = await query.orderBy('id').execute();
  return rows.map(routerRecord);
}

export async function updateRouterRow(db: Db, router: RouterRecord): Promise<void> {
  const { id: _id, created_at: _created, ...changes } = routerRow(router);
  await db.updateTable('network_router').set(changes).where('id', '=', router.id).execute();
}

export async function deleteRouterRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('network_router').where('id', '=', id).execute();
}

/** The ids of a router's interface ports. */
export async function interfacePortIds(db: Db, routerId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('network_router_port')
    .select('port_id')
    .where('router_id', '=', routerId)
    .orderBy('port_id')
    .execute();
  return rows.map((row) => row.port_id);
}

export async function insertInterface(db: Db, routerId: string, portId: string): Promise<void> {
  await db.insertInto('network_router_port').values({ router_id: routerId, port_id: portId }).execute();
}

export async function deleteInterface(db: Db, portId: string): Promise<void> {
  await db.deleteFrom('network_router_port').where('port_id', '=', portId).execute();
}

/** The router whose interface or gateway `portId` is, if any. */
export async function routerOfPort(db: Db, portId: string): Promise<string | undefined> {
  const asInterface = await db
    .selectFrom('network_router_port')
    .select('router_id')
    .where('port_id', '=', portId)
    .executeTakeFirst();
  if (asInterface) return asInterface.router_id;
  const asGateway = await db
    .selectFrom('network_router')
    .select('id')
    .where('gw_port_id', '=', portId)
    .executeTakeFirst();
  return asGateway?.id;
}

/** Routers with an interface holding an address on `subnetId`. */
export async function routersOnSubnet(db: Db, subnetId: string): Promise<RouterRecord[]> {
  const rows = await db
    .selectFrom('network_router')
    .selectAll('network_router')
    .where(
      'network_router.id',
      'in',
      db
        .selectFrom('network_router_port')
        .innerJoin('network_ip_allocation', 'network_ip_allocation.port_id', 'network_router_port.port_id')
        .select('network_router_port.router_id')
        .where('network_ip_allocation.subnet_id', '=', subnetId),
    )
    .orderBy('network_router.id')
    .execute();
  return rows.map(routerRecord);
}

// --- floating IPs -------------------------------------------------------------------------

export async function insertFloatingIp(db: Db, floatingIp: FloatingIpRecord): Promise<void> {
  await db.insertInto('network_floating_ip').values(floatingIpRow(floatingIp)).execute();
}

export async function findFloatingIp(db: Db, id: string): Promise<FloatingIpRecord | undefined> {
  const row = await db.selectFrom('network_floating_ip').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? floatingIpRecord(row) : undefined;
}

/** All floating IPs (admins), or those of one project. */
export async function listFloatingIps(db: Db, projectId: string | undefined): Promise<FloatingIpRecord[]> {
  let query = db.selectFrom('network_floating_ip').selectAll();
  if (projectId !== undefined) query = query.where('project_id', '=', projectId);
  const rows = await query.orderBy('id').execute();
  return rows.map(floatingIpRecord);
}

export async function updateFloatingIpRow(db: Db, floatingIp: FloatingIpRecord): Promise<void> {
  const { id: _id, created_at: _created, ...changes } = floatingIpRow(floatingIp);
  await db.updateTable('network_floating_ip').set(changes).where('id', '=', floatingIp.id).execute();
}

export async function deleteFloatingIpRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('network_floating_ip').where('id', '=', id).execute();
}

/** Floating IPs associated with one of a port's addresses (all of them when `address` is absent). */
export async function floatingIpsOfPort(
  db: Db,
  portId: string,
  address?: string,
): Promise<FloatingIpRecord[]> {
  let query = db.selectFrom('network_floating_ip').selectAll().where('fixed_port_id', '=', portId);
  if (address !== undefined) query = query.where('fixed_ip_address', '=', address);
  const rows = await query.execute();
  return rows.map(floatingIpRecord);
}

export async function floatingIpsOfRouter(db: Db, routerId: string): Promise<FloatingIpRecord[]> {
  const rows = await db
    .selectFrom('network_floating_ip')
    .selectAll()
    .where('router_id', '=', routerId)
    .execute();
  return rows.map(floatingIpRecord);
}

/** The floating IPs holding an address of one external network. */
export async function floatingIpsOnNetwork(db: Db, networkId: string): Promise<FloatingIpRecord[]> {
  const rows = await db
    .selectFrom('network_floating_ip')
    .selectAll()
    .where('floating_network_id', '=', networkId)
    .execute();
  return rows.map(floatingIpRecord);
}

/** Whether a floating IP holds its address with `portId`. */
export async function isFloatingIpPort(db: Db, portId: string): Promise<boolean> {
  const row = await db
    .selectFrom('network_floating_ip')
    .select('id')
    .where('floating_port_id', '=', portId)
    .executeTakeFirst();
  return row !== undefined;
}

/** How many of a resource a project has, for its quota. */
export async function countOf(
  db: Db,
  table: 'network_router' | 'network_floating_ip',
  projectId: string,
): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}
