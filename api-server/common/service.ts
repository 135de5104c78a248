// What every OpenStack service plugin declares about itself. The server mounts each one at
// its prefix, the catalog is built from the same list, and db-sync runs their migrations.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ServiceMigrations } from '../../lib/db/migrations.js';
import type { ServiceDependencies } from './dependencies.js';
import type { ErrorBodyFormatter } from './error-bodies.js';
import { errorHandlerFor, notFoundHandlerFor } from './error-handler.js';
import type { PolicyDefaults } from './policy/enforcer.js';

export interface OpenStackService {
  /** The service's name in logs and migrations ("identity"). */
  name: string;
  /** Catalog type ("identity", "image", "compute", "network", "placement"). */
  type: string;
  /** Catalog service name as OpenStack deployments call it ("keystone", "glance", ...). */
  catalogName: string;
  /** URL path prefix on the api-server ("/identity"). */
  prefix: string;
  /** The path clients put in the catalog, relative to the server's base URL ("/compute/v2.1"). */
  endpointPath: string;
  errorBody: ErrorBodyFormatter;
  routes: FastifyPluginAsync<ServiceDependencies>;
  migrations: ServiceMigrations;
  /** The service's default policy rules; a policy file may override any of them. */
  policyDefaults: PolicyDefaults;
}

/**
 * Registers a service's routes inside its own encapsulated context, so its error handler and
 * its 404 for unknown paths speak that service's error format and no other.
 */
export async function mountService(
  app: FastifyInstance,
  service: OpenStackService,
  dependencies: ServiceDependencies,
): Promise<void> {
  await app.register(
    async (scope) => {
      scope.setErrorHandler(errorHandlerFor(service.errorBody));
      scope.setNotFoundHandler(notFoundHandlerFor(service.errorBody));
      await scope.register(service.routes, dependencies);
    },
    { prefix: service.prefix },
  );
}
