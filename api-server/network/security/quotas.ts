// Neutron's per-project quotas: the defaults of neutron.conf's [quotas] section, limits an admin
// set for a project, and the check every create makes before inserting. Usage is counted from
// the rows themselves; each area registers how to count the resources it owns
// (registerQuotaCounter), so this file never needs to know another area's tables.
import type { Kysely } from 'kysely';
import type { AnyTables } from '../../../lib/db/database.js';
import { QuotaExceeded } from '../../common/errors.js';
import type { SecurityTables } from './tables.js';

/** neutron.conf's [quotas] defaults; -1 is unlimited. */
export const QUOTA_DEFAULTS: Readonly<Record<string, number>> = {
  network: 100,
  subnet: 100,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  subnetpool: -1,
  rbac_policy: 10,
};

export const QUOTA_RESOURCES = Object.keys(QUOTA_DEFAULTS);

/** How many rows of one resource a project has; runs on the caller's handle (maybe a transaction). */
export type QuotaCounter = (db: Kysely<AnyTables>, projectId: string) => Promise<number>;

const counters = new Map<string, QuotaCounter>();

/**
 * Declares how to count a project's `resource` (one of QUOTA_RESOURCES) for checkQuota and the
 * quota details. Registering again replaces the counter. Resources without one count as 0 used.
 */
export function registerQuotaCounter(resource: string, counter: QuotaCounter): void {
  counters.set(resource, counter);
}

async function countRows(db: Kysely<AnyTables>, table: string, projectId: string): Promise<number> {
  const row = await (db as Kysely<AnyTables>)
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

registerQuotaCounter('security_group', (db, projectId) => countRows(db, 'network_security_group', projectId));
registerQuotaCounter('security_group_rule', (db, projectId) =>
  countRows(db, 'network_security_group_rule', projectId),
);
registerQuotaCounter('rbac_policy', (db, projectId) => countRows(db, 'network_rbac_policy', projectId));

/** The limits in force for a project: its own where an admin set them, the defaults elsewhere. */
export async function projectQuotas(
  db: Kysely<AnyTables>,
  projectId: string,
): Promise<Record<string, number>> {
  const rows = await (db as Kysely<SecurityTables>)
    .selectFrom('network_quota')
    .select(['resource', 'hard_limit'])
    .where('project_id', '=', projectId)
    .execute();
  const quotas = { ...QUOTA_DEFAULTS };
  for (const row of rows)
    if (Object.hasOwn(quotas, row.resource)) quotas[row.resource] = Number(row.hard_limit);
  return quotas;
}

/** How much of `resource` the project uses now (0 when no counter is registered for it). */
export async function quotaUsage(
  db: Kysely<AnyTables>,
  projectId: string,
  resource: string,
): Promise<number> {
  const counter = counters.get(resource);
  return counter ? counter(db, projectId) : 0;
}

/**
 * Throws Neutron's 409 OverQuota when the project adding `adding` more of `resource` would pass
 * its limit. Call it inside the transaction that inserts, just before the insert.
 */
export async function checkQuota(
  db: Kysely<AnyTables>,
  projectId: string,
  resource: string,
  adding = 1,
): Promise<void> {
  const limit = (await projectQuotas(db, projectId))[resource];
  if (limit === undefined || limit < 0) return;
  const used = await quotaUsage(db, projectId, resource);
  if (used + adding > limit) {
    throw new QuotaExceeded(`Quota exceeded for resources: ['${resource}'].`, 409, 'OverQuota');
  }
}

/** Projects that have limits of their own, with those limits over the defaults. */
export async function customizedQuotas(
  db: Kysely<SecurityTables>,
): Promise<Record<string, Record<string, number>>> {
  const rows = await db
    .selectFrom('network_quota')
    .select(['project_id', 'resource', 'hard_limit'])
    .execute();
  const byProject: Record<string, Record<string, number>> = {};
  for (const row of rows) {
    const quotas = byProject[row.project_id] ?? { ...QUOTA_DEFAULTS };
    if (Object.hasOwn(quotas, row.resource)) quotas[row.resource] = Number(row.hard_limit);
    byProject[row.project_id] = quotas;
  }
  return byProject;
}

export async function setQuotas(
  db: Kysely<SecurityTables>,
  projectId: string,
  limits: Record<string, number>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const [resource, hardLimit] of Object.entries(limits)) {
      await trx
        .deleteFrom('network_quota')
        .where('project_id', '=', projectId)
        .where('resource', '=', resource)
        .execute();
      await trx
        .insertInto('network_quota')
        .values({ project_id: projectId, resource, hard_limit: hardLimit })
        .execute();
    }
  });
}

export async function resetQuotas(db: Kysely<SecurityTables>, projectId: string): Promise<void> {
  await db.deleteFrom('network_quota').where('project_id', '=', projectId).execute();
}
