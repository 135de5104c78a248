// Security groups and their rules in the database: the per-project `default` group made on first
// use with Neutron's default rules, creating groups (with the two egress rules Neutron gives
// every new group), rules checked for duplicates, and the views the API returns.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { fromBit, isoNow, toBit } from '../../../lib/db/columns.js';
import type { AnyTables } from '../../../lib/db/database.js';
import { isUniqueViolation } from '../../../lib/db/errors.js';
import { withTransaction } from '../../../lib/db/transaction.js';
import { normalizedCidr } from '../../../lib/net/addresses.js';
import { Conflict, NotFound } from '../../common/errors.js';
import { neutronTime } from './api.js';
import { checkQuota } from './quotas.js';
import { type RuleFields, ruleIdentity } from './rules.js';
import type { SecurityTables } from './tables.js';

type Db = Kysely<SecurityTables> | Transaction<SecurityTables>;
type GroupRow = SecurityTables['network_security_group'];
type RuleRow = SecurityTables['network_security_group_rule'];

export const DEFAULT_GROUP_NAME = 'default';

export function groupNotFound(id: string): NotFound {
  return new NotFound(`Security group ${id} does not exist`, 'SecurityGroupNotFound');
}

export function ruleNotFound(id: string): NotFound {
  return new NotFound(`Security group rule ${id} does not exist`, 'SecurityGroupRuleNotFound');
}

export function ruleView(row: RuleRow) {
  return {
    id: row.id,
    project_id: row.project_id,
    tenant_id: row.project_id,
    security_group_id: row.security_group_id,
    direction: row.direction,
    ethertype: row.ethertype,
    protocol: row.protocol,
    port_range_min: row.port_range_min === null ? null : Number(row.port_range_min),
    port_range_max: row.port_range_max === null ? null : Number(row.port_range_max),
    remote_ip_prefix: row.remote_ip_prefix,
    normalized_cidr: normalizedCidr(row.remote_ip_prefix),
    remote_group_id: row.remote_group_id,
    description: row.description,
    revision_number: Number(row.revision_number),
    created_at: neutronTime(row.created_at),
    updated_at: neutronTime(row.updated_at),
  };
}

export type RuleView = ReturnType<typeof ruleView>;

export function groupView(row: GroupRow, rules: RuleRow[]) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    project_id: row.project_id,
    tenant_id: row.project_id,
    stateful: fromBit(Number(row.stateful)),
    security_group_rules: rules.map(ruleView),
    tags: [] as string[],
    revision_number: Number(row.revision_number),
    created_at: neutronTime(row.created_at),
    updated_at: neutronTime(row.updated_at),
  };
}

export type GroupView = ReturnType<typeof groupView>;

function ruleRow(
  groupId: string,
  projectId: string,
  fields: RuleFields,
  description: string,
  now: string,
): RuleRow {
  return {
    id: randomUUID(),
    security_group_id: groupId,
    project_id: projectId,
    ...fields,
    description,
    revision_number: 0,
    created_at: now,
    updated_at: now,
  };
}

const ANY_RULE = { protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null };

/** The egress rules Neutron puts in every new group: anything out, IPv4 and IPv6. */
function egressRules(groupId: string, projectId: string, now: string): RuleRow[] {
  return ['IPv4', 'IPv6'].map((ethertype) =>
    ruleRow(
      groupId,
      projectId,
      { direction: 'egress', ethertype, ...ANY_RULE, remote_group_id: null },
      '',
      now,
    ),
  );
}

async function insertGroup(
  trx: Db,
  projectId: string,
  fields: { name: string; description: string; stateful: boolean },
  extraRules: (groupId: string, now: string) => RuleRow[] = () => [],
): Promise<string> {
  const id = randomUUID();
  const now = isoNow();
  await trx
    .insertInto('network_security_group')
    .values({
      id,
      project_id: projectId,
      name: fields.name,
      description: fields.description,
      stateful: toBit(fields.stateful),
      revision_number: 0,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const rules = [...egressRules(id, projectId, now), ...extraRules(id, now)];
  await trx.insertInto('network_security_group_rule').values(rules).execute();
  return id;
}

async function defaultGroupId(db: Db, projectId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('network_default_security_group')
    .select('security_group_id')
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return row?.security_group_id;
}

/**
 * The id of the project's `default` group, made now if the project has none: anything out, and
 * in from members of the same group, over IPv4 and IPv6. Safe to call concurrently: one
 * creator wins the per-project row and the others read its group. Joins a transaction when
 * given one.
 */
export async function ensureDefaultSecurityGroup(db: Kysely<AnyTables>, projectId: string): Promise<string> {
  const typed = db as Kysely<SecurityTables>;
  const existing = await defaultGroupId(typed, projectId);
  if (existing) return existing;
  try {
    return await withTransaction(typed, async (trx) => {
      const id = await insertGroup(
        trx,
        projectId,
        { name: DEFAULT_GROUP_NAME, description: 'Default security group', stateful: true },
        (groupId, now) =>
          ['IPv4', 'IPv6'].map((ethertype) =>
            ruleRow(
              groupId,
              projectId,
              { direction: 'ingress', ethertype, ...ANY_RULE, remote_group_id: groupId },
              '',
              now,
            ),
          ),
      );
      await trx
        .insertInto('network_default_security_group')
        .values({ project_id: projectId, security_group_id: id })
        .execute();
      return id;
    });
  } catch (err) {
    if (!isUniqueViolation(err) || typed.isTransaction) throw err;
    const winner = await defaultGroupId(typed, projectId);
    if (!winner) throw err;
    return winner;
  }
}

export async function isDefaultGroup(db: Db, group: GroupRow): Promise<boolean> {
  return (await defaultGroupId(db, group.project_id)) === group.id;
}

export async function findGroup(db: Db, id: string): Promise<GroupRow | undefined> {
  return db.selectFrom('network_security_group').selectAll().where('id', '=', id).executeTakeFirst();
}

async function rulesOf(db: Db, groupIds: string[]): Promise<Map<string, RuleRow[]>> {
  const byGroup = new Map<string, RuleRow[]>();
  if (groupIds.length === 0) return byGroup;
  const rows = await db
    .selectFrom('network_security_group_rule')
    .selectAll()
    .where('security_group_id', 'in', groupIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  for (const row of rows) {
    const list = byGroup.get(row.security_group_id) ?? [];
    list.push(row);
    byGroup.set(row.security_group_id, list);
  }
  return byGroup;
}

export async function groupViews(db: Db, rows: GroupRow[]): Promise<GroupView[]> {
  const rules = await rulesOf(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => groupView(row, rules.get(row.id) ?? []));
}

/** Groups of one project, or of every project when projectId is undefined. */
export async function listGroups(db: Db, projectId: string | undefined): Promise<GroupRow[]> {
  let query = db.selectFrom('network_security_group').selectAll();
  if (projectId !== undefined) query = query.where('project_id', '=', projectId);
  return query.orderBy('created_at').orderBy('id').execute();
}

export async function createGroup(
  db: Kysely<SecurityTables>,
  projectId: string,
  fields: { name: string; description: string; stateful: boolean },
): Promise<string> {
  return withTransaction(db, async (trx) => {
    await checkQuota(trx, projectId, 'security_group');
    return insertGroup(trx, projectId, fields);
  });
}

export async function updateGroup(
  db: Kysely<SecurityTables>,
  id: string,
  changes: { name?: string; description?: string; stateful?: boolean },
): Promise<void> {
  await db
    .updateTable('network_security_group')
    .set((eb) => ({
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.description !== undefined && { description: changes.description }),
      ...(changes.stateful !== undefined && { stateful: toBit(changes.stateful) }),
      revision_number: eb('revision_number', '+', 1),
      updated_at: isoNow(),
    }))
    .where('id', '=', id)
    .execute();
}

/** Asks other areas whether a group is in use (by a port); registered by the area that knows. */
export type SecurityGroupUseCheck = (db: Kysely<AnyTables>, groupId: string) => Promise<boolean>;
const useChecks: SecurityGroupUseCheck[] = [];

/** Registers a check that refuses deleting a group while it is in use (409 SecurityGroupInUse). */
export function registerSecurityGroupUseCheck(check: SecurityGroupUseCheck): void {
  useChecks.push(check);
}

/** 409 SecurityGroupInUse when a registered check says a port uses the group. */
export async function refuseIfGroupInUse(db: Db, id: string): Promise<void> {
  for (const check of useChecks) {
    if (await check(db, id)) throw new Conflict(`Security Group ${id} in use.`, 'SecurityGroupInUse');
  }
}

/** Owners of the given groups, by group id (groups that do not exist are left out). */
export async function groupOwners(db: Db, groupIds: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(groupIds)];
  if (unique.length === 0) return new Map();
  const rows = await db
    .selectFrom('network_security_group')
    .select(['id', 'project_id'])
    .where('id', 'in', unique)
    .execute();
  return new Map(rows.map((row) => [row.id, row.project_id]));
}

export async function deleteGroup(db: Kysely<SecurityTables>, id: string): Promise<void> {
  await withTransaction(db, async (trx) => {
    await refuseIfGroupInUse(trx, id);
    // Rules of other groups that name this one as their remote go with it, as in Neutron.
    await trx.deleteFrom('network_security_group_rule').where('remote_group_id', '=', id).execute();
    await trx.deleteFrom('network_security_group_rule').where('security_group_id', '=', id).execute();
    await trx.deleteFrom('network_default_security_group').where('security_group_id', '=', id).execute();
    await trx.deleteFrom('network_security_group').where('id', '=', id).execute();
  });
}

async function bumpGroupRevision(trx: Db, groupId: string): Promise<void> {
  await trx
    .updateTable('network_security_group')
    .set((eb) => ({ revision_number: eb('revision_number', '+', 1), updated_at: isoNow() }))
    .where('id', '=', groupId)
    .execute();
}

/** Adds a rule unless the group has the same one (409 SecurityGroupRuleExists naming it). */
export async function createRule(
  db: Kysely<SecurityTables>,
  groupId: string,
  projectId: string,
  fields: RuleFields,
  description: string,
): Promise<RuleRow> {
  return withTransaction(db, async (trx) => {
    const identity = ruleIdentity(fields);
    const siblings = await trx
      .selectFrom('network_security_group_rule')
      .selectAll()
      .where('security_group_id', '=', groupId)
      .execute();
    const same = siblings.find((sibling) => ruleIdentity(sibling) === identity);
    if (same) {
      throw new Conflict(
        `Security group rule already exists. Rule id is ${same.id}.`,
        'SecurityGroupRuleExists',
      );
    }
    await checkQuota(trx, projectId, 'security_group_rule');
    const row = ruleRow(groupId, projectId, fields, description, isoNow());
    await trx.insertInto('network_security_group_rule').values(row).execute();
    await bumpGroupRevision(trx, groupId);
    return row;
  });
}

export async function findRule(db: Db, id: string): Promise<RuleRow | undefined> {
  return db.selectFrom('network_security_group_rule').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Rules of one project's groups and rules it owns, or every rule when projectId is undefined. */
export async function listRules(db: Db, projectId: string | undefined): Promise<RuleRow[]> {
  let query = db.selectFrom('network_security_group_rule').selectAll();
  if (projectId !== undefined) {
    query = query.where((eb) =>
      eb.or([
        eb('project_id', '=', projectId),
        eb(
          'security_group_id',
          'in',
          eb.selectFrom('network_security_group').select('id').where('project_id', '=', projectId),
        ),
      ]),
    );
  }
  return query.orderBy('created_at').orderBy('id').execute();
}

export async function deleteRule(db: Kysely<SecurityTables>, rule: RuleRow): Promise<void> {
  await withTransaction(db, async (trx) => {
    await trx.deleteFrom('network_security_group_rule').where('id', '=', rule.id).execute();
    await bumpGroupRevision(trx, rule.security_group_id);
  });
}
