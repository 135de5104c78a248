// What the security area's routes are handed: the service dependencies with the database typed
// to this area's tables, and who the caller is as the routes need it.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { contextOf, projectIdOf } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import type { SecurityTables } from './tables.js';

export interface SecurityService extends ServiceDependencies {
  db: Kysely<SecurityTables>;
}

export interface Caller {
  /** The project of a project-scoped token; undefined for other scopes. */
  projectId: string | undefined;
  /** Neutron's context.is_admin: the token carries the admin role. */
  isAdmin: boolean;
}

export function callerOf(request: FastifyRequest): Caller {
  const context = contextOf(request);
  return {
    projectId: projectIdOf(context),
    isAdmin: context.roles.some((role) => role.name.toLowerCase() === 'admin'),
  };
}

/** The policy target of an owned resource: Neutron shows policy both project_id and tenant_id. */
export function ownedTarget(projectId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { project_id: projectId, tenant_id: projectId, ...extra };
}
