// Small helpers every actuator uses, whatever its service: the IDs the reconciler resolved
// for an object's references, NotFound as "not there", the fields that differ, and import
// filters checked on our side.
import { NotFound, type ServiceClient } from '../../lib/openstack/index.js';
import { jsonEqual } from './diff.js';
import type { ActuatorContext, Dependency } from './reconciler.js';

/** The OpenStack ID the reconciler resolved for the `kind` object `name`, when one is named. */
export const dependencyId = (context: ActuatorContext, kind: string, name: string | undefined) =>
  name === undefined ? undefined : context.dependencyIds.get(`${kind}/${name}`);

/** The dependencies among `[kind, name]` pairs whose name is given. */
export function referenced(pairs: [kind: string, name: string | undefined][]): Dependency[] {
  return pairs.flatMap(([kind, name]) => (name === undefined ? [] : [{ kind, name }]));
}

/** The call's answer, or undefined when the cloud has no such resource. */
export async function ifFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof NotFound) return undefined;
    throw error;
  }
}

/** The `key` member of what GET `path` answers, or undefined when there is none (404). */
export async function getOrUndefined<T>(
  service: ServiceClient,
  path: string,
  key: string,
): Promise<T | undefined> {
  const found = await ifFound(service.get<Record<string, T>>(path));
  return found?.body[key];
}

/**
 * Whether `candidate` has every defined field of `fields` and every tag of `tags`: list
 * filters a server ignores (an older Neutron without tags) must not widen an import's match.
 */
export function matchesFilter(
  candidate: { tags?: string[] },
  fields: Record<string, unknown>,
  tags: readonly string[] | undefined,
): boolean {
  const own = candidate as Record<string, unknown>;
  return (
    Object.entries(fields).every(([field, value]) => value === undefined || own[field] === value) &&
    (tags === undefined || tags.every((tag) => candidate.tags?.includes(tag)))
  );
}

/** The fields of `desired` whose value `current` does not have (compared as JSON). */
export function changedFields<T extends object>(desired: Partial<T>, current: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(desired).filter(([field, value]) => !jsonEqual(current[field as keyof T], value)),
  ) as Partial<T>;
}
