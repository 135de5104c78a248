// A Project's role bindings against its role assignments. The operator revokes only the grants
// it made itself, so it records them on the project, in the extra attribute GRANTS_RECORD_KEY
// (Keystone keeps a project's extra attributes): the record lives with the project, so it
// survives an operator restart, a leader handover and a spec edited while no operator ran,
// which the spec diff of one process would not. A grant is recorded before it is made and
// forgotten after it is revoked, so a crash in between leaves a record of a grant that may not
// exist (revoking it again is harmless), never a grant of ours without its record.

/** The extra attribute on the project holding the grants the operator made. */
export const GRANTS_RECORD_KEY = 'overcast_operator_grants';

/** One role on the project for a user or a group, by IDs. */
export interface Grant {
  roleId: string;
  subject: 'user' | 'group';
  subjectId: string;
}

const keyOf = (grant: Grant) => `${grant.subject}/${grant.subjectId}/${grant.roleId}`;

/** `grants` without duplicates, in a fixed order (so equal sets record equally). */
export function grantSet(grants: Iterable<Grant>): Grant[] {
  const unique = new Map<string, Grant>();
  for (const grant of grants) unique.set(keyOf(grant), grant);
  return [...unique.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, grant]) => grant);
}

/** The record's value for `grants`. */
export function grantsRecord(grants: Iterable<Grant>): string {
  return JSON.stringify(grantSet(grants).map(keyOf));
}

/** The grants in a project's record; none when there is no record or it is unreadable. */
export function recordedGrants(recorded: unknown): Grant[] {
  if (typeof recorded !== 'string') return [];
  let keys: unknown;
  try {
    keys = JSON.parse(recorded);
  } catch {
    return [];
  }
  if (!Array.isArray(keys)) return [];
  return grantSet(
    keys.flatMap((key) => {
      const match = typeof key === 'string' ? /^(user|group)\/([^/]+)\/([^/]+)$/.exec(key) : null;
      return match
        ? [{ subject: match[1] as Grant['subject'], subjectId: match[2]!, roleId: match[3]! }]
        : [];
    }),
  );
}

/** A role assignment as GET /v3/role_assignments lists it. */
export interface RoleAssignment {
  role: { id: string };
  user?: { id: string };
  group?: { id: string };
  scope?: { project?: { id: string }; 'OS-INHERIT:inherited_to'?: string };
}

/** The direct grants among `assignments` (inherited ones are not what a binding makes). */
export function grantsOf(assignments: readonly RoleAssignment[]): Grant[] {
  return grantSet(
    assignments.flatMap((assignment): Grant[] => {
      if (assignment.scope?.['OS-INHERIT:inherited_to']) return [];
      if (assignment.user)
        return [{ roleId: assignment.role.id, subject: 'user', subjectId: assignment.user.id }];
      if (assignment.group)
        return [{ roleId: assignment.role.id, subject: 'group', subjectId: assignment.group.id }];
      return [];
    }),
  );
}

export interface GrantPlan {
  /** Desired grants the project lacks: made by the operator, so recorded. */
  grant: Grant[];
  /** Recorded grants no binding asks for any more, that still exist. */
  revoke: Grant[];
  /** The record to write before granting (what was recorded plus what is about to be granted). */
  recordBefore: Grant[];
  /** The record once done (the grants of the operator's that bindings still ask for). */
  recordAfter: Grant[];
}

/**
 * What to change so the project has every `desired` grant, and none of the grants the
 * operator `recorded` making that are no longer desired. A desired grant that already exists
 * and is not recorded was made by someone else: it is left alone and never revoked.
 */
export function planGrants(
  desired: readonly Grant[],
  present: readonly Grant[],
  recorded: readonly Grant[],
): GrantPlan {
  const has = (grants: readonly Grant[], grant: Grant) =>
    grants.some((other) => keyOf(other) === keyOf(grant));
  const grant = grantSet(desired.filter((wanted) => !has(present, wanted)));
  const stale = recorded.filter((ours) => !has(desired, ours));
  return {
    grant,
    revoke: grantSet(stale.filter((ours) => has(present, ours))),
    recordBefore: grantSet([...recorded, ...grant]),
    recordAfter: grantSet([...recorded.filter((ours) => has(desired, ours)), ...grant]),
  };
}
