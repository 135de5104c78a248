// Which roles a user holds on a scope: direct grants, grants to the user's groups, grants
// inherited from the project's domain and ancestors, then the roles those imply.
import {
  getProject,
  groupIdsOfUser,
  type IdentityDb,
  listAssignments,
  listImpliedRoleRules,
  listRoles,
} from './store.js';
import { SYSTEM_TARGET } from './tables.js';

export type Scope =
  | { kind: 'unscoped' }
  | { kind: 'project'; id: string }
  | { kind: 'domain'; id: string }
  | { kind: 'system' };

/** Ids of the project and its ancestors, nearest first (the project itself excluded). */
export async function ancestorProjectIds(db: IdentityDb, projectId: string): Promise<string[]> {
  const ancestors: string[] = [];
  let current = await getProject(db, projectId);
  while (current?.parentId && !ancestors.includes(current.parentId)) {
    ancestors.push(current.parentId);
    current = await getProject(db, current.parentId);
  }
  return ancestors;
}

/** Role ids granted to the user on the scope, before implied roles are added. */
export async function grantedRoleIds(db: IdentityDb, userId: string, scope: Scope): Promise<string[]> {
  const actorIds = [userId, ...(await groupIdsOfUser(db, userId))];
  const grants = [];
  if (scope.kind === 'project') {
    const project = await getProject(db, scope.id);
    if (!project) return [];
    const ancestors = await ancestorProjectIds(db, scope.id);
    grants.push(
      ...(await listAssignments(db, {
        types: ['UserProject', 'GroupProject'],
        actorIds,
        targetIds: [scope.id],
        inherited: false,
      })),
      ...(await listAssignments(db, {
        types: ['UserProject', 'GroupProject'],
        actorIds,
        targetIds: ancestors,
        inherited: true,
      })),
      ...(await listAssignments(db, {
        types: ['UserDomain', 'GroupDomain'],
        actorIds,
        targetIds: [project.domainId],
        inherited: true,
      })),
    );
  } else if (scope.kind === 'domain') {
    grants.push(
      ...(await listAssignments(db, {
        types: ['UserDomain', 'GroupDomain'],
        actorIds,
        targetIds: [scope.id],
        inherited: false,
      })),
    );
  } else if (scope.kind === 'system') {
    grants.push(
      ...(await listAssignments(db, {
        types: ['UserSystem', 'GroupSystem'],
        actorIds,
        targetIds: [SYSTEM_TARGET],
      })),
    );
  }
  return [...new Set(grants.map((grant) => grant.roleId))];
}

/** Adds every role the given ones imply, transitively (admin ⇒ member ⇒ reader). */
export function expandImpliedRoles(
  roleIds: readonly string[],
  rules: readonly { priorRoleId: string; impliedRoleId: string }[],
): string[] {
  const implies = new Map<string, string[]>();
  for (const rule of rules)
    implies.set(rule.priorRoleId, [...(implies.get(rule.priorRoleId) ?? []), rule.impliedRoleId]);
  const result = new Set(roleIds);
  const pending = [...roleIds];
  while (pending.length > 0) {
    for (const implied of implies.get(pending.pop()!) ?? []) {
      if (!result.has(implied)) {
        result.add(implied);
        pending.push(implied);
      }
    }
  }
  return [...result];
}

/** Those of the roles that belong to no domain. */
export async function globalRoleIds(db: IdentityDb, roleIds: readonly string[]): Promise<string[]> {
  const roles = await listRoles(db, { ids: [...new Set(roleIds)] });
  return roles.filter((role) => role.domainId === null).map((role) => role.id);
}

/**
 * The roles a user holds on a scope: granted ones and those they imply, less domain-specific
 * roles, which (as in Keystone) only stand for the roles they imply and never reach a token.
 */
export async function effectiveRoleIds(db: IdentityDb, userId: string, scope: Scope): Promise<string[]> {
  const granted = await grantedRoleIds(db, userId, scope);
  if (granted.length === 0) return [];
  const expanded = expandImpliedRoles(granted, await listImpliedRoleRules(db));
  const global = new Set(await globalRoleIds(db, expanded));
  return expanded.filter((id) => global.has(id));
}
