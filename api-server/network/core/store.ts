// Database access of the core area: rows ⇄ records for networks, subnets and ports, and the
// visibility filters lists use. Every function takes the handle to run on, so callers compose
// them inside one transaction.
import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, sql, type Transaction } from 'kysely';
import { fromBit, toBit } from '../../../lib/db/columns.js';
import type { Segment } from './segments.js';
import type { CoreTables } from './tables.js';

export type CoreDb = Kysely<CoreTables> | Transaction<CoreTables>;

export interface NetworkRecord {
  id: string;
  projectId: string;
  name: string;
  description: string;
  adminStateUp: boolean;
  shared: boolean;
  external: boolean;
  portSecurityEnabled: boolean;
  mtu: number;
  status: string;
  segment: Segment;
  createdAt: string;
  updatedAt: string;
  revisionNumber: number;
}

export interface Pool {
  start: string;
  end: string;
}

export interface HostRoute {
  destination: string;
  nexthop: string;
}

export interface SubnetRecord {
  id: string;
  networkId: string;
  projectId: string;
  name: string;
  description: string;
  ipVersion: 4 | 6;
  cidr: string;
  gatewayIp: string | null;
  allocationPools: Pool[];
  dnsNameservers: string[];
  hostRoutes: HostRoute[];
  enableDhcp: boolean;
  createdAt: string;
  updatedAt: string;
  revisionNumber: number;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface AddressPair {
  ip_address: string;
  mac_address: string;
}

export interface PortRecord {
  id: string;
  networkId: string;
  projectId: string;
  name: string;
  description: string;
  macAddress: string;
  adminStateUp: boolean;
  status: string;
  deviceId: string;
  deviceOwner: string;
  fixedIps: FixedIp[];
  portSecurityEnabled: boolean;
  allowedAddressPairs: AddressPair[];
  extraDhcpOpts: Record<string, unknown>[];
  bindingHostId: string;
  bindingVnicType: string;
  bindingProfile: Record<string, unknown>;
  securityGroups: string[];
  createdAt: string;
  updatedAt: string;
  revisionNumber: number;
}

/** Who lists: an admin sees everything, anyone else what their project may see. */
export type Viewer =
  | { admin: true }
  /**
   * networkIds: networks RBAC policies share with the project or make external for it;
   * sharedNetworkIds: those shared with it, the only ones of them whose subnets it sees.
   */
  | { admin: false; projectId: string; networkIds: readonly string[]; sharedNetworkIds: readonly string[] };

type NetworkRow = CoreTables['network_network'];
type SubnetRow = CoreTables['network_subnet'];
type PortRow = CoreTables['network_port'];

function networkRecord(row: NetworkRow): NetworkRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    adminStateUp: fromBit(Number(row.admin_state_up)),
    shared: fromBit(Number(row.shared)),
    external: fromBit(Number(row.external)),
    portSecurityEnabled: fromBit(Number(row.port_security_enabled)),
    mtu: Number(row.mtu),
    status: row.status,
    segment: {
      networkType: row.network_type as Segment['networkType'],
      physicalNetwork: row.physical_network,
      segmentationId: row.segmentation_id === null ? null : Number(row.segmentation_id),
    },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revisionNumber: Number(row.revision_number),
  };
}

function networkRow(network: NetworkRecord): NetworkRow {
  return {
    id: network.id,
    project_id: network.projectId,
    name: network.name,
    description: network.description,
    admin_state_up: toBit(network.adminStateUp),
    shared: toBit(network.shared),
    external: toBit(network.external),
    port_security_enabled: toBit(network.portSecurityEnabled),
    mtu: network.mtu,
    status: network.status,
    network_type: network.segment.networkType,
    physical_network: network.segment.physicalNetwork,
    segmentation_id: network.segment.segmentationId,
    created_at: network.createdAt,
    updated_at: network.updatedAt,
    revision_number: network.revisionNumber,
  };
}

function subnetRecord(row: SubnetRow): SubnetRecord {
  return {
    id: row.id,
    networkId: row.network_id,
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    ipVersion: Number(row.ip_version) === 6 ? 6 : 4,
    cidr: row.cidr,
    gatewayIp: row.gateway_ip,
    allocationPools: JSON.parse(row.allocation_pools) as Pool[],
    dnsNameservers: JSON.parse(row.dns_nameservers) as string[],
    hostRoutes: JSON.parse(row.host_routes) as HostRoute[],
    enableDhcp: fromBit(Number(row.enable_dhcp)),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revisionNumber: Number(row.revision_number),
  };
}

function subnetRow(subnet: SubnetRecord): SubnetRow {
  return {
    id: subnet.id,
    network_id: subnet.networkId,
    project_id: subnet.projectId,
    name: subnet.name,
    description: subnet.description,
    ip_version: subnet.ipVersion,
    cidr: subnet.cidr,
    gateway_ip: subnet.gatewayIp,
    allocation_pools: JSON.stringify(subnet.allocationPools),
    dns_nameservers: JSON.stringify(subnet.dnsNameservers),
    host_routes: JSON.stringify(subnet.hostRoutes),
    enable_dhcp: toBit(subnet.enableDhcp),
    created_at: subnet.createdAt,
    updated_at: subnet.updatedAt,
    revision_number: subnet.revisionNumber,
  };
}

/** JSON columns, with the common empty values answered without parsing (big lists have many). */
function parseList<T>(text: string): T[] {
  return text === '[]' ? [] : (JSON.parse(text) as T[]);
}

function parseMap(text: string): Record<string, unknown> {
  return text === '{}' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

function portRecord(row: PortRow, securityGroups: string[]): PortRecord {
  return {
    id: row.id,
    networkId: row.network_id,
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    macAddress: row.mac_address,
    adminStateUp: fromBit(Number(row.admin_state_up)),
    status: row.status,
    deviceId: row.device_id,
    deviceOwner: row.device_owner,
    fixedIps: parseList<FixedIp>(row.fixed_ips),
    portSecurityEnabled: fromBit(Number(row.port_security_enabled)),
    allowedAddressPairs: parseList<AddressPair>(row.allowed_address_pairs),
    extraDhcpOpts: parseList<Record<string, unknown>>(row.extra_dhcp_opts),
    bindingHostId: row.binding_host_id,
    bindingVnicType: row.binding_vnic_type,
    bindingProfile: parseMap(row.binding_profile),
    securityGroups,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revisionNumber: Number(row.revision_number),
  };
}

function portRow(port: PortRecord): PortRow {
  return {
    id: port.id,
    network_id: port.networkId,
    project_id: port.projectId,
    name: port.name,
    description: port.description,
    mac_address: port.macAddress,
    admin_state_up: toBit(port.adminStateUp),
    status: port.status,
    device_id: port.deviceId,
    device_owner: port.deviceOwner,
    fixed_ips: JSON.stringify(port.fixedIps),
    port_security_enabled: toBit(port.portSecurityEnabled),
    allowed_address_pairs: JSON.stringify(port.allowedAddressPairs),
    extra_dhcp_opts: JSON.stringify(port.extraDhcpOpts),
    binding_host_id: port.bindingHostId,
    binding_vnic_type: port.bindingVnicType,
    binding_profile: JSON.stringify(port.bindingProfile),
    created_at: port.createdAt,
    updated_at: port.updatedAt,
    revision_number: port.revisionNumber,
  };
}

/** Filters lists apply in the database; anything else is filtered on the rendered view. */
export interface ListFilter {
  id?: string[];
  name?: string[];
  projectId?: string[];
  networkId?: string[];
  deviceId?: string[];
  deviceOwner?: string[];
  macAddress?: string[];
}

type ListedTable = 'network_network' | 'network_subnet' | 'network_port';

/** The column each filter applies to; a table is filtered on those of its columns listed. */
const FILTER_COLUMNS: Record<keyof ListFilter, string> = {
  id: 'id',
  name: 'name',
  projectId: 'project_id',
  networkId: 'network_id',
  deviceId: 'device_id',
  deviceOwner: 'device_owner',
  macAddress: 'mac_address',
};

/** `query` narrowed by each of `filters` the filter sets (column IN values). */
function whereFilter<Table extends ListedTable, Output>(
  query: SelectQueryBuilder<CoreTables, Table, Output>,
  filter: ListFilter,
  filters: readonly (keyof ListFilter)[],
): SelectQueryBuilder<CoreTables, Table, Output> {
  let narrowed = query;
  for (const key of filters) {
    const values = filter[key];
    if (values) narrowed = narrowed.where(sql.ref(FILTER_COLUMNS[key]), 'in', values);
  }
  return narrowed;
}

// --- networks ---------------------------------------------------------------------------

/** The networks a project sees without RBAC grants: its own, the shared and the external ones. */
function ownSharedOrExternal(eb: ExpressionBuilder<CoreTables, 'network_network'>, projectId: string) {
  return eb.or([ownOrShared(eb, projectId), eb('network_network.external', '=', 1)]);
}

/**
 * The networks whose subnets a project sees without RBAC grants: its own and the shared ones.
 * Neutron keeps an external network's subnets from other projects unless it is also shared.
 */
function ownOrShared(eb: ExpressionBuilder<CoreTables, 'network_network'>, projectId: string) {
  return eb.or([eb('network_network.project_id', '=', projectId), eb('network_network.shared', '=', 1)]);
}

export async function insertNetwork(db: CoreDb, network: NetworkRecord): Promise<void> {
  await db.insertInto('network_network').values(networkRow(network)).execute();
}

export async function findNetwork(db: CoreDb, id: string): Promise<NetworkRecord | undefined> {
  const row = await db.selectFrom('network_network').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? networkRecord(row) : undefined;
}

/** Locks the network row until the transaction ends (MySQL; SQLite transactions are serial). */
export async function lockNetwork(trx: Transaction<CoreTables>, dialect: string, id: string): Promise<void> {
  if (dialect !== 'mysql') return;
  await trx.selectFrom('network_network').select('id').where('id', '=', id).forUpdate().execute();
}

export async function listNetworks(db: CoreDb, viewer: Viewer, filter: ListFilter): Promise<NetworkRecord[]> {
  let query = db.selectFrom('network_network').selectAll();
  if (!viewer.admin) {
    const granted = viewer.networkIds;
    query = query.where((eb) =>
      eb.or([
        ownSharedOrExternal(eb, viewer.projectId),
        ...(granted.length > 0 ? [eb('id', 'in', granted)] : []),
      ]),
    );
  }
  const rows = await whereFilter(query, filter, ['id', 'name', 'projectId']).orderBy('id').execute();
  return rows.map(networkRecord);
}

export async function updateNetworkRow(db: CoreDb, network: NetworkRecord): Promise<void> {
  await db
    .updateTable('network_network')
    .set(changesOf(networkRow(network)))
    .where('id', '=', network.id)
    .execute();
}

export async function deleteNetworkRow(db: CoreDb, id: string): Promise<void> {
  await db.deleteFrom('network_network').where('id', '=', id).execute();
}

/** The subnet ids of each network, in creation order. */
export async function subnetIdsOf(db: CoreDb, networkIds: readonly string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const chunk of chunks(networkIds)) {
    const rows = await db
      .selectFrom('network_subnet')
      .select(['id', 'network_id'])
      .where('network_id', 'in', chunk)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    for (const row of rows) appendTo(result, row.network_id, row.id);
  }
  return result;
}

// --- subnets ----------------------------------------------------------------------------

export async function insertSubnet(db: CoreDb, subnet: SubnetRecord): Promise<void> {
  await db.insertInto('network_subnet').values(subnetRow(subnet)).execute();
}

export async function findSubnet(db: CoreDb, id: string): Promise<SubnetRecord | undefined> {
  const row = await db.selectFrom('network_subnet').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? subnetRecord(row) : undefined;
}

export async function subnetsOfNetwork(db: CoreDb, networkId: string): Promise<SubnetRecord[]> {
  const rows = await db
    .selectFrom('network_subnet')
    .selectAll()
    .where('network_id', '=', networkId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(subnetRecord);
}

export async function listSubnets(db: CoreDb, viewer: Viewer, filter: ListFilter): Promise<SubnetRecord[]> {
  let query = db.selectFrom('network_subnet').selectAll();
  if (!viewer.admin) {
    const project = viewer.projectId;
    const granted = viewer.sharedNetworkIds;
    query = query.where((eb) =>
      eb.or([
        eb('project_id', '=', project),
        ...(granted.length > 0 ? [eb('network_id', 'in', granted)] : []),
        eb(
          'network_id',
          'in',
          eb
            .selectFrom('network_network')
            .select('network_network.id')
            .where((inner) => ownOrShared(inner, project)),
        ),
      ]),
    );
  }
  const rows = await whereFilter(query, filter, ['id', 'name', 'projectId', 'networkId'])
    .orderBy('id')
    .execute();
  return rows.map(subnetRecord);
}

export async function updateSubnetRow(db: CoreDb, subnet: SubnetRecord): Promise<void> {
  await db
    .updateTable('network_subnet')
    .set(changesOf(subnetRow(subnet)))
    .where('id', '=', subnet.id)
    .execute();
}

export async function deleteSubnetRow(db: CoreDb, id: string): Promise<void> {
  await db.deleteFrom('network_subnet').where('id', '=', id).execute();
}

// --- ports ------------------------------------------------------------------------------

export async function insertPort(db: CoreDb, port: PortRecord): Promise<void> {
  await db.insertInto('network_port').values(portRow(port)).execute();
  await insertSecurityGroups(db, port.id, port.securityGroups);
}

export async function updatePortRow(db: CoreDb, port: PortRecord): Promise<void> {
  await db
    .updateTable('network_port')
    .set(changesOf(portRow(port)))
    .where('id', '=', port.id)
    .execute();
}

export async function replaceSecurityGroups(
  db: CoreDb,
  portId: string,
  groups: readonly string[],
): Promise<void> {
  await db.deleteFrom('network_port_security_group').where('port_id', '=', portId).execute();
  await insertSecurityGroups(db, portId, groups);
}

async function insertSecurityGroups(db: CoreDb, portId: string, groups: readonly string[]): Promise<void> {
  if (groups.length === 0) return;
  await db
    .insertInto('network_port_security_group')
    .values(groups.map((group) => ({ port_id: portId, security_group_id: group })))
    .execute();
}

export async function findPort(db: CoreDb, id: string): Promise<PortRecord | undefined> {
  const row = await db.selectFrom('network_port').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const groups = await securityGroupsOf(db, [id]);
  return portRecord(row, groups.get(id) ?? []);
}

export async function portsOfNetwork(db: CoreDb, networkId: string): Promise<PortRecord[]> {
  const rows = await db.selectFrom('network_port').selectAll().where('network_id', '=', networkId).execute();
  return withSecurityGroups(db, rows);
}

function portQuery(db: CoreDb, viewer: Viewer, filter: ListFilter) {
  let query = db.selectFrom('network_port');
  if (!viewer.admin) {
    const project = viewer.projectId;
    query = query.where((eb) =>
      eb.or([
        eb('project_id', '=', project),
        eb(
          'network_id',
          'in',
          eb
            .selectFrom('network_network')
            .select('network_network.id')
            .where('network_network.project_id', '=', project),
        ),
      ]),
    );
  }
  return whereFilter(query, filter, Object.keys(FILTER_COLUMNS) as (keyof ListFilter)[]);
}

export async function listPorts(db: CoreDb, viewer: Viewer, filter: ListFilter): Promise<PortRecord[]> {
  const rows = await portQuery(db, viewer, filter).selectAll().orderBy('id').execute();
  return withSecurityGroups(db, rows);
}

export interface PortVersion {
  id: string;
  revision: number;
  /** The port's security groups, sorted and comma-separated. */
  securityGroups: string;
}

/** One port and one of its security groups ('' for a port without any). */
export interface PortVersionRow {
  id: string;
  device_id: string;
  revision_number: number | string;
  security_group_id: string | null;
}

/**
 * The rows foldPortVersions() folds: a row per port and group (ports without a group come once),
 * in list order (see port-list.ts), in one query. It costs MariaDB about half of a group_concat
 * subquery per port, and a filtered list one round trip instead of two.
 *
 * Ordered by port id alone: both the primary key and, for one device, the device_id index
 * (which carries the primary key) hand rows out in that order, so neither database sorts (a
 * read of several devices together sorts its few rows). Ordering by group too made MariaDB
 * build a temporary table and filesort for every filtered list, a quarter of its CPU per query;
 * a port's few groups are sorted in foldPortVersions() instead.
 */
export function listPortVersionRows(
  db: CoreDb,
  viewer: Viewer,
  filter: ListFilter,
): Promise<PortVersionRow[]> {
  return portQuery(db, viewer, filter)
    .leftJoin('network_port_security_group', 'network_port_security_group.port_id', 'network_port.id')
    .select([
      'network_port.id',
      'network_port.device_id',
      'network_port.revision_number',
      'network_port_security_group.security_group_id',
    ])
    .orderBy('network_port.id')
    .execute();
}

/** Ids, revisions and security groups of ports, from their rows in port id order. */
export function foldPortVersions(rows: readonly PortVersionRow[]): PortVersion[] {
  const ports: { id: string; revision: number; groups: string[] }[] = [];
  for (const row of rows) {
    const group = row.security_group_id ?? '';
    const last = ports.at(-1);
    if (last?.id === row.id) last.groups.push(group);
    else ports.push({ id: row.id, revision: Number(row.revision_number), groups: [group] });
  }
  return ports.map(({ id, revision, groups }) => ({ id, revision, securityGroups: groups.sort().join(',') }));
}

export async function listPortsByIds(db: CoreDb, ids: readonly string[]): Promise<PortRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('network_port').selectAll().where('id', 'in', ids).execute();
  return withSecurityGroups(db, rows);
}

async function withSecurityGroups(db: CoreDb, rows: PortRow[]): Promise<PortRecord[]> {
  const groups = await securityGroupsOf(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => portRecord(row, groups.get(row.id) ?? []));
}

/** The security groups of each port (network_port_security_group). */
export async function securityGroupsOf(
  db: CoreDb,
  portIds: readonly string[],
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (portIds.length === 0) return result;
  // A long list is answered from one read of the whole table rather than many IN lists.
  const batches: (readonly string[] | undefined)[] = portIds.length > CHUNK ? [undefined] : [portIds];
  for (const chunk of batches) {
    let query = db.selectFrom('network_port_security_group').select(['port_id', 'security_group_id']);
    if (chunk) query = query.where('port_id', 'in', chunk);
    const rows = await query.execute();
    for (const row of rows) appendTo(result, row.port_id, row.security_group_id);
  }
  for (const list of result.values()) list.sort();
  return result;
}

export async function deletePortRow(db: CoreDb, id: string): Promise<void> {
  await db.deleteFrom('network_port').where('id', '=', id).execute();
}

const CHUNK = 500;

function appendTo<Key, Value>(map: Map<Key, Value[]>, key: Key, value: Value): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A row's columns an update writes: all but the id and the creation time. */
function changesOf<Row extends { id: string; created_at: string }>(row: Row): Omit<Row, 'id' | 'created_at'> {
  const { id: _id, created_at: _created, ...changes } = row;
  return changes;
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += CHUNK) result.push(items.slice(index, index + CHUNK));
  return result;
}
