// RBAC policies: an object's owner shares it with one project or with every project ("*"). Only
// networks are served here (access_as_shared, access_as_external); the core area reads them to
// decide which networks a project sees (networkIdsSharedWith), and tells this file how to find
// a network's owner (registerRbacObjectResolver).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AnyTables } from '../../../lib/db/database.js';
import { BadRequest, Conflict, NotFound } from '../../common/errors.js';
import type { SecurityTables } from './tables.js';

export const RBAC_OBJECT_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  network: ['access_as_shared', 'access_as_external'],
};

type RbacRow = SecurityTables['network_rbac_policy'];

export function rbacView(row: RbacRow) {
  return {
    id: row.id,
    object_type: row.object_type,
    object_id: row.object_id,
    action: row.action,
    target_tenant: row.target_tenant,
    target_project: row.target_tenant,
    project_id: row.project_id,
    tenant_id: row.project_id,
  };
}

export function rbacNotFound(id: string, objectType = 'network'): NotFound {
  return new NotFound(`RBAC policy of type ${objectType} with ID ${id} not found`, 'RbacPolicyNotFound');
}

/** The owner of an object an RBAC policy may name, or undefined when there is no such object. */
export type RbacObjectResolver = (
  db: Kysely<AnyTables>,
  objectId: string,
) => Promise<{ projectId: string } | undefined>;
const resolvers = new Map<string, RbacObjectResolver>();

/** Tells the RBAC routes how to find objects of `objectType` and their owners. */
export function registerRbacObjectResolver(objectType: string, resolver: RbacObjectResolver): void {
  resolvers.set(objectType, resolver);
}

/**
 * The object's owner. Until the area owning that object type registers a resolver, every object
 * id is taken as existing and owned by `callerProject`.
 */
export async function rbacObjectOwner(
  db: Kysely<SecurityTables>,
  objectType: string,
  objectId: string,
  callerProject: string,
): Promise<string> {
  const resolver = resolvers.get(objectType);
  if (!resolver) return callerProject;
  const found = await resolver(db, objectId);
  if (!found)
    throw new NotFound(
      `${capitalize(objectType)} ${objectId} could not be found.`,
      `${capitalize(objectType)}NotFound`,
    );
  return found.projectId;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The parts of an RBAC policy a use check looks at. */
export interface RbacGrant {
  object_type: string;
  object_id: string;
  action: string;
  target_tenant: string;
}

/**
 * Whether something depends on a grant (a port of the target project on a shared network);
 * registered by the area that owns the dependants.
 */
export type RbacPolicyUseCheck = (db: Kysely<AnyTables>, grant: RbacGrant) => Promise<boolean>;
const useChecks: RbacPolicyUseCheck[] = [];

/** Registers a check that refuses removing or retargeting a grant still relied on (409 RbacPolicyInUse). */
export function registerRbacPolicyUseCheck(check: RbacPolicyUseCheck): void {
  useChecks.push(check);
}

/** 409 RbacPolicyInUse when a registered check says the grant is relied on. */
export async function refuseIfInUse(db: Kysely<AnyTables>, grant: RbacGrant): Promise<void> {
  for (const check of useChecks) {
    if (await check(db, grant)) {
      throw new Conflict(
        `RBAC policy on object ${grant.object_id} cannot be removed because other objects depend on it.`,
        'RbacPolicyInUse',
      );
    }
  }
}

export function validateObjectTypeAndAction(objectType: unknown, action: unknown): void {
  if (typeof objectType !== 'string' || !Object.hasOwn(RBAC_OBJECT_ACTIONS, objectType)) {
    throw new BadRequest(
      `Invalid input for object_type. Reason: '${String(objectType)}' is not in ${JSON.stringify(Object.keys(RBAC_OBJECT_ACTIONS)).replaceAll('"', "'")}.`,
    );
  }
  const actions = RBAC_OBJECT_ACTIONS[objectType]!;
  if (typeof action !== 'string' || !actions.includes(action)) {
    throw new BadRequest(
      `Invalid input for action. Reason: '${String(action)}' is not in ['access_as_external', 'access_as_shared'].`,
    );
  }
}

export async function insertRbacPolicy(
  db: Kysely<SecurityTables>,
  row: Omit<RbacRow, 'id'>,
): Promise<RbacRow> {
  const full = { id: randomUUID(), ...row };
  await db.insertInto('network_rbac_policy').values(full).execute();
  return full;
}

export async function findRbacPolicy(db: Kysely<SecurityTables>, id: string): Promise<RbacRow | undefined> {
  return db.selectFrom('network_rbac_policy').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listRbacPolicies(
  db: Kysely<SecurityTables>,
  projectId: string | undefined,
): Promise<RbacRow[]> {
  let query = db.selectFrom('network_rbac_policy').selectAll();
  if (projectId !== undefined) query = query.where('project_id', '=', projectId);
  return query.orderBy('id').execute();
}

/**
 * Ids of networks shared with `projectId` by an access_as_shared policy naming it or "*".
 * The core area uses it for visibility: a project sees its own networks and these.
 */
export async function networkIdsSharedWith(db: Kysely<AnyTables>, projectId: string): Promise<string[]> {
  return networkIdsWithAction(db, projectId, 'access_as_shared');
}

/** Ids of networks made external for `projectId` (access_as_external to it or "*"). */
export async function networkIdsExternalFor(db: Kysely<AnyTables>, projectId: string): Promise<string[]> {
  return networkIdsWithAction(db, projectId, 'access_as_external');
}

async function networkIdsWithAction(
  db: Kysely<AnyTables>,
  projectId: string,
  action: string,
): Promise<string[]> {
  const rows = await (db as Kysely<SecurityTables>)
    .selectFrom('network_rbac_policy')
    .select('object_id')
    .distinct()
    .where('object_type', '=', 'network')
    .where('action', '=', action)
    .where('target_tenant', 'in', [projectId, '*'])
    .execute();
  return rows.map((row) => row.object_id);
}
