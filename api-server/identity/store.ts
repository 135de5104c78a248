// Database access of the identity service: kysely queries and the conversion between rows
// (0/1 booleans, JSON text, ISO strings) and the records the logic works with. Nothing here
// decides policy or shapes API responses.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { fromBit, fromJsonColumn, isoNow, toBit } from '../../lib/db/columns.js';
import { type AssignmentType, GLOBAL_ROLE_DOMAIN, type IdentityTables } from './tables.js';

export type IdentityDb = Kysely<IdentityTables> | Transaction<IdentityTables>;

/** Keystone's ids: a UUID4 without dashes. */
export function newId(): string {
  return randomUUID().replaceAll('-', '');
}

// ---------------------------------------------------------------- domains

export interface DomainRecord {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  extra: Record<string, unknown>;
}

const toDomain = (row: IdentityTables['identity_domain']): DomainRecord => ({
  id: row.id,
  name: row.name,
  description: row.description,
  enabled: fromBit(row.enabled),
  extra: fromJsonColumn(row.extra),
});

export async function insertDomain(db: IdentityDb, domain: DomainRecord): Promise<void> {
  await db
    .insertInto('identity_domain')
    .values({
      id: domain.id,
      name: domain.name,
      description: domain.description,
      enabled: toBit(domain.enabled),
      extra: JSON.stringify(domain.extra),
      created_at: isoNow(),
    })
    .execute();
}

export async function getDomain(db: IdentityDb, id: string): Promise<DomainRecord | undefined> {
  const row = await db.selectFrom('identity_domain').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toDomain(row);
}

export async function findDomainByName(db: IdentityDb, name: string): Promise<DomainRecord | undefined> {
  const row = await db.selectFrom('identity_domain').selectAll().where('name', '=', name).executeTakeFirst();
  return row && toDomain(row);
}

export async function listDomains(
  db: IdentityDb,
  filter: { name?: string; enabled?: boolean },
): Promise<DomainRecord[]> {
  let query = db.selectFrom('identity_domain').selectAll().orderBy('name');
  if (filter.name !== undefined) query = query.where('name', '=', filter.name);
  if (filter.enabled !== undefined) query = query.where('enabled', '=', toBit(filter.enabled));
  return (await query.execute()).map(toDomain);
}

export async function updateDomain(db: IdentityDb, domain: DomainRecord): Promise<void> {
  await db
    .updateTable('identity_domain')
    .set({
      name: domain.name,
      description: domain.description,
      enabled: toBit(domain.enabled),
      extra: JSON.stringify(domain.extra),
    })
    .where('id', '=', domain.id)
    .execute();
}

/**
 * Deletes a domain with everything it owns, as Keystone does: its projects, users, groups and
 * domain-specific roles, every grant to or on them and on the domain itself. Run it in a
 * transaction. Returns the ids of the deleted projects and users, whose tokens must go.
 */
export async function deleteDomainAndContents(
  db: IdentityDb,
  id: string,
): Promise<{ projectIds: string[]; userIds: string[] }> {
  const idsIn = async (table: 'identity_project' | 'identity_user' | 'identity_group') =>
    (await db.selectFrom(table).select('id').where('domain_id', '=', id).execute()).map((row) => row.id);
  const [projectIds, userIds, groupIds] = await Promise.all([
    idsIn('identity_project'),
    idsIn('identity_user'),
    idsIn('identity_group'),
  ]);
  const targets = [id, ...projectIds];
  const actors = [...userIds, ...groupIds];
  await db.deleteFrom('identity_assignment').where('target_id', 'in', targets).execute();
  if (actors.length > 0) await db.deleteFrom('identity_assignment').where('actor_id', 'in', actors).execute();
  // Grants of and rules about the domain's own roles go with them (foreign keys cascade).
  await db.deleteFrom('identity_role').where('domain_id', '=', id).execute();
  if (userIds.length > 0 || groupIds.length > 0) {
    await db
      .deleteFrom('identity_group_membership')
      .where((eb) =>
        eb.or([
          ...(userIds.length > 0 ? [eb('user_id', 'in', userIds)] : []),
          ...(groupIds.length > 0 ? [eb('group_id', 'in', groupIds)] : []),
        ]),
      )
      .execute();
  }
  await db.deleteFrom('identity_user').where('domain_id', '=', id).execute();
  await db.deleteFrom('identity_group').where('domain_id', '=', id).execute();
  if (projectIds.length > 0) {
    // A project's parent is in its own domain, so the whole tree goes; parents last.
    await db.updateTable('identity_project').set({ parent_id: null }).where('domain_id', '=', id).execute();
    await db.deleteFrom('identity_project_tag').where('project_id', 'in', projectIds).execute();
    await db.deleteFrom('identity_project').where('domain_id', '=', id).execute();
  }
  await db.deleteFrom('identity_domain').where('id', '=', id).execute();
  return { projectIds, userIds };
}

// ---------------------------------------------------------------- projects

export interface ProjectRecord {
  id: string;
  name: string;
  domainId: string;
  parentId: string | null;
  description: string | null;
  enabled: boolean;
  tags: string[];
  extra: Record<string, unknown>;
}

export async function insertProject(db: IdentityDb, project: ProjectRecord): Promise<void> {
  await db
    .insertInto('identity_project')
    .values({
      id: project.id,
      name: project.name,
      domain_id: project.domainId,
      parent_id: project.parentId,
      description: project.description,
      enabled: toBit(project.enabled),
      extra: JSON.stringify(project.extra),
      created_at: isoNow(),
    })
    .execute();
  await replaceProjectTags(db, project.id, project.tags);
}

async function replaceProjectTags(db: IdentityDb, projectId: string, tags: string[]): Promise<void> {
  await db.deleteFrom('identity_project_tag').where('project_id', '=', projectId).execute();
  if (tags.length > 0) {
    await db
      .insertInto('identity_project_tag')
      .values([...new Set(tags)].map((name) => ({ project_id: projectId, name })))
      .execute();
  }
}

export interface ProjectFilter {
  name?: string;
  domainId?: string;
  parentId?: string;
  enabled?: boolean;
  ids?: string[];
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
}

export async function listProjects(db: IdentityDb, filter: ProjectFilter): Promise<ProjectRecord[]> {
  let query = db.selectFrom('identity_project').selectAll().orderBy('name');
  if (filter.name !== undefined) query = query.where('name', '=', filter.name);
  if (filter.domainId !== undefined) query = query.where('domain_id', '=', filter.domainId);
  if (filter.parentId !== undefined) query = query.where('parent_id', '=', filter.parentId);
  if (filter.enabled !== undefined) query = query.where('enabled', '=', toBit(filter.enabled));
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) return [];
    query = query.where('id', 'in', filter.ids);
  }
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const tagRows = await db
    .selectFrom('identity_project_tag')
    .selectAll()
    .where(
      'project_id',
      'in',
      rows.map((row) => row.id),
    )
    .execute();
  const tagsOf = new Map<string, string[]>();
  for (const tag of tagRows) tagsOf.set(tag.project_id, [...(tagsOf.get(tag.project_id) ?? []), tag.name]);
  const projects = rows.map((row) => ({
    id: row.id,
    name: row.name,
    domainId: row.domain_id,
    parentId: row.parent_id,
    description: row.description,
    enabled: fromBit(row.enabled),
    tags: (tagsOf.get(row.id) ?? []).sort(),
    extra: fromJsonColumn(row.extra),
  }));
  return projects.filter((project) => matchesTags(project.tags, filter));
}

/** Keystone's tag filters: tags (all of), tags-any, not-tags (not all of), not-tags-any. */
function matchesTags(tags: string[], filter: ProjectFilter): boolean {
  const has = (tag: string) => tags.includes(tag);
  if (filter.tags && !filter.tags.every(has)) return false;
  if (filter.tagsAny && !filter.tagsAny.some(has)) return false;
  if (filter.notTags?.every(has)) return false;
  if (filter.notTagsAny?.some(has)) return false;
  return true;
}

export async function getProject(db: IdentityDb, id: string): Promise<ProjectRecord | undefined> {
  return (await listProjects(db, { ids: [id] }))[0];
}

export async function updateProject(db: IdentityDb, project: ProjectRecord): Promise<void> {
  await db
    .updateTable('identity_project')
    .set({
      name: project.name,
      description: project.description,
      enabled: toBit(project.enabled),
      extra: JSON.stringify(project.extra),
    })
    .where('id', '=', project.id)
    .execute();
  await replaceProjectTags(db, project.id, project.tags);
}

export async function deleteProject(db: IdentityDb, id: string): Promise<void> {
  await db.deleteFrom('identity_assignment').where('target_id', '=', id).execute();
  await db.deleteFrom('identity_project').where('id', '=', id).execute();
}

export async function projectHasChildren(db: IdentityDb, id: string): Promise<boolean> {
  const child = await db
    .selectFrom('identity_project')
    .select('id')
    .where('parent_id', '=', id)
    .executeTakeFirst();
  return child !== undefined;
}

// ---------------------------------------------------------------- users

export interface UserRecord {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
  defaultProjectId: string | null;
  passwordHash: string | null;
  extra: Record<string, unknown>;
}

const toUser = (row: IdentityTables['identity_user']): UserRecord => ({
  id: row.id,
  name: row.name,
  domainId: row.domain_id,
  enabled: fromBit(row.enabled),
  defaultProjectId: row.default_project_id,
  passwordHash: row.password_hash,
  extra: fromJsonColumn(row.extra),
});

export async function insertUser(db: IdentityDb, user: UserRecord): Promise<void> {
  await db
    .insertInto('identity_user')
    .values({
      id: user.id,
      name: user.name,
      domain_id: user.domainId,
      enabled: toBit(user.enabled),
      default_project_id: user.defaultProjectId,
      password_hash: user.passwordHash,
      password_created_at: user.passwordHash ? isoNow() : null,
      extra: JSON.stringify(user.extra),
      created_at: isoNow(),
    })
    .execute();
}

export async function getUser(db: IdentityDb, id: string): Promise<UserRecord | undefined> {
  const row = await db.selectFrom('identity_user').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toUser(row);
}

export async function findUserByName(
  db: IdentityDb,
  domainId: string,
  name: string,
): Promise<UserRecord | undefined> {
  const row = await db
    .selectFrom('identity_user')
    .selectAll()
    .where('domain_id', '=', domainId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row && toUser(row);
}

export async function listUsers(
  db: IdentityDb,
  filter: { name?: string; domainId?: string; enabled?: boolean; ids?: string[] },
): Promise<UserRecord[]> {
  let query = db.selectFrom('identity_user').selectAll().orderBy('name');
  if (filter.name !== undefined) query = query.where('name', '=', filter.name);
  if (filter.domainId !== undefined) query = query.where('domain_id', '=', filter.domainId);
  if (filter.enabled !== undefined) query = query.where('enabled', '=', toBit(filter.enabled));
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) return [];
    query = query.where('id', 'in', filter.ids);
  }
  return (await query.execute()).map(toUser);
}

export async function updateUser(db: IdentityDb, user: UserRecord, passwordChanged: boolean): Promise<void> {
  await db
    .updateTable('identity_user')
    .set({
      name: user.name,
      enabled: toBit(user.enabled),
      default_project_id: user.defaultProjectId,
      password_hash: user.passwordHash,
      ...(passwordChanged ? { password_created_at: isoNow() } : {}),
      extra: JSON.stringify(user.extra),
    })
    .where('id', '=', user.id)
    .execute();
}

export async function deleteUser(db: IdentityDb, id: string): Promise<void> {
  await db.deleteFrom('identity_assignment').where('actor_id', '=', id).execute();
  await db.deleteFrom('identity_user').where('id', '=', id).execute();
}

// ---------------------------------------------------------------- groups

export interface GroupRecord {
  id: string;
  name: string;
  domainId: string;
  description: string | null;
  extra: Record<string, unknown>;
}

const toGroup = (row: IdentityTables['identity_group']): GroupRecord => ({
  id: row.id,
  name: row.name,
  domainId: row.domain_id,
  description: row.description,
  extra: fromJsonColumn(row.extra),
});

export async function insertGroup(db: IdentityDb, group: GroupRecord): Promise<void> {
  await db
    .insertInto('identity_group')
    .values({
      id: group.id,
      name: group.name,
      domain_id: group.domainId,
      description: group.description,
      extra: JSON.stringify(group.extra),
    })
    .execute();
}

export async function getGroup(db: IdentityDb, id: string): Promise<GroupRecord | undefined> {
  const row = await db.selectFrom('identity_group').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toGroup(row);
}

export async function listGroups(
  db: IdentityDb,
  filter: { name?: string; domainId?: string; memberUserId?: string },
): Promise<GroupRecord[]> {
  let query = db.selectFrom('identity_group').selectAll('identity_group').orderBy('identity_group.name');
  if (filter.name !== undefined) query = query.where('identity_group.name', '=', filter.name);
  if (filter.domainId !== undefined) query = query.where('identity_group.domain_id', '=', filter.domainId);
  if (filter.memberUserId !== undefined) {
    query = query
      .innerJoin('identity_group_membership', 'identity_group_membership.group_id', 'identity_group.id')
      .where('identity_group_membership.user_id', '=', filter.memberUserId);
  }
  return (await query.execute()).map(toGroup);
}

export async function updateGroup(db: IdentityDb, group: GroupRecord): Promise<void> {
  await db
    .updateTable('identity_group')
    .set({ name: group.name, description: group.description, extra: JSON.stringify(group.extra) })
    .where('id', '=', group.id)
    .execute();
}

export async function deleteGroup(db: IdentityDb, id: string): Promise<void> {
  await db.deleteFrom('identity_assignment').where('actor_id', '=', id).execute();
  await db.deleteFrom('identity_group').where('id', '=', id).execute();
}

export async function groupMemberIds(db: IdentityDb, groupId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('identity_group_membership')
    .select('user_id')
    .where('group_id', '=', groupId)
    .execute();
  return rows.map((row) => row.user_id);
}

export async function groupIdsOfUser(db: IdentityDb, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('identity_group_membership')
    .select('group_id')
    .where('user_id', '=', userId)
    .execute();
  return rows.map((row) => row.group_id);
}

export async function addGroupMember(db: IdentityDb, groupId: string, userId: string): Promise<void> {
  const exists = await db
    .selectFrom('identity_group_membership')
    .select('user_id')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!exists)
    await db.insertInto('identity_group_membership').values({ group_id: groupId, user_id: userId }).execute();
}

export async function removeGroupMember(db: IdentityDb, groupId: string, userId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('identity_group_membership')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// ---------------------------------------------------------------- roles

export interface RoleRecord {
  id: string;
  name: string;
  /** null for global roles. */
  domainId: string | null;
  description: string | null;
  extra: Record<string, unknown>;
}

const toRole = (row: IdentityTables['identity_role']): RoleRecord => ({
  id: row.id,
  name: row.name,
  domainId: row.domain_id === GLOBAL_ROLE_DOMAIN ? null : row.domain_id,
  description: row.description,
  extra: fromJsonColumn(row.extra),
});

export async function insertRole(db: IdentityDb, role: RoleRecord): Promise<void> {
  await db
    .insertInto('identity_role')
    .values({
      id: role.id,
      name: role.name,
      domain_id: role.domainId ?? GLOBAL_ROLE_DOMAIN,
      description: role.description,
      extra: JSON.stringify(role.extra),
    })
    .execute();
}

export async function listRoles(
  db: IdentityDb,
  filter: { name?: string; domainId?: string | null; ids?: string[] },
): Promise<RoleRecord[]> {
  let query = db.selectFrom('identity_role').selectAll().orderBy('name');
  if (filter.name !== undefined) query = query.where('name', '=', filter.name);
  if (filter.domainId !== undefined)
    query = query.where('domain_id', '=', filter.domainId ?? GLOBAL_ROLE_DOMAIN);
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) return [];
    query = query.where('id', 'in', filter.ids);
  }
  return (await query.execute()).map(toRole);
}

export async function getRole(db: IdentityDb, id: string): Promise<RoleRecord | undefined> {
  return (await listRoles(db, { ids: [id] }))[0];
}

export async function updateRole(db: IdentityDb, role: RoleRecord): Promise<void> {
  await db
    .updateTable('identity_role')
    .set({ name: role.name, description: role.description, extra: JSON.stringify(role.extra) })
    .where('id', '=', role.id)
    .execute();
}

export async function deleteRole(db: IdentityDb, id: string): Promise<void> {
  await db.deleteFrom('identity_role').where('id', '=', id).execute();
}

export async function listImpliedRoleRules(
  db: IdentityDb,
): Promise<{ priorRoleId: string; impliedRoleId: string }[]> {
  const rows = await db.selectFrom('identity_implied_role').selectAll().execute();
  return rows.map((row) => ({ priorRoleId: row.prior_role_id, impliedRoleId: row.implied_role_id }));
}

export async function insertImpliedRole(
  db: IdentityDb,
  priorRoleId: string,
  impliedRoleId: string,
): Promise<void> {
  await db
    .insertInto('identity_implied_role')
    .values({ prior_role_id: priorRoleId, implied_role_id: impliedRoleId })
    .execute();
}

export async function deleteImpliedRole(
  db: IdentityDb,
  priorRoleId: string,
  impliedRoleId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('identity_implied_role')
    .where('prior_role_id', '=', priorRoleId)
    .where('implied_role_id', '=', impliedRoleId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// ---------------------------------------------------------------- assignments

export interface AssignmentRecord {
  type: AssignmentType;
  actorId: string;
  targetId: string;
  roleId: string;
  inherited: boolean;
}

export interface AssignmentFilter {
  types?: AssignmentType[];
  actorIds?: string[];
  targetIds?: string[];
  roleId?: string;
  inherited?: boolean;
}

export async function listAssignments(db: IdentityDb, filter: AssignmentFilter): Promise<AssignmentRecord[]> {
  let query = db.selectFrom('identity_assignment').selectAll();
  if (filter.types) query = query.where('type', 'in', filter.types);
  if (filter.actorIds) {
    if (filter.actorIds.length === 0) return [];
    query = query.where('actor_id', 'in', filter.actorIds);
  }
  if (filter.targetIds) {
    if (filter.targetIds.length === 0) return [];
    query = query.where('target_id', 'in', filter.targetIds);
  }
  if (filter.roleId !== undefined) query = query.where('role_id', '=', filter.roleId);
  if (filter.inherited !== undefined) query = query.where('inherited', '=', toBit(filter.inherited));
  const rows = await query.execute();
  return rows.map((row) => ({
    type: row.type,
    actorId: row.actor_id,
    targetId: row.target_id,
    roleId: row.role_id,
    inherited: fromBit(row.inherited),
  }));
}

export async function insertAssignment(db: IdentityDb, assignment: AssignmentRecord): Promise<void> {
  const existing = await listAssignments(db, {
    types: [assignment.type],
    actorIds: [assignment.actorId],
    targetIds: [assignment.targetId],
    roleId: assignment.roleId,
    inherited: assignment.inherited,
  });
  if (existing.length > 0) return;
  await db
    .insertInto('identity_assignment')
    .values({
      type: assignment.type,
      actor_id: assignment.actorId,
      target_id: assignment.targetId,
      role_id: assignment.roleId,
      inherited: toBit(assignment.inherited),
    })
    .execute();
}

export async function deleteAssignment(db: IdentityDb, assignment: AssignmentRecord): Promise<boolean> {
  const result = await db
    .deleteFrom('identity_assignment')
    .where('type', '=', assignment.type)
    .where('actor_id', '=', assignment.actorId)
    .where('target_id', '=', assignment.targetId)
    .where('role_id', '=', assignment.roleId)
    .where('inherited', '=', toBit(assignment.inherited))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
