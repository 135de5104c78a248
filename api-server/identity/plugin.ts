// Identity (Keystone v3): version discovery, tokens, domains, projects, users, groups,
// roles and their assignments, and the service catalog.
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceDependencies } from '../common/dependencies.js';
import { keystoneErrorBody } from '../common/error-bodies.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl, requestBaseUrl, selfLink, type VersionEntry } from '../common/versions.js';
import { identityMigrations } from './migrations.js';
import { IDENTITY_PREFIX } from './plugin-prefix.js';
import { IDENTITY_POLICY_DEFAULTS } from './policy.js';
import { applicationCredentialRoutes } from './routes/application-credentials.js';
import { catalogRoutes } from './routes/catalog.js';
import { projectRoutes } from './routes/projects.js';
import { roleRoutes } from './routes/roles.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';

export { IDENTITY_PREFIX };

export function identityVersion(baseUrl: string): VersionEntry {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [selfLink(joinUrl(baseUrl, IDENTITY_PREFIX, 'v3/'))],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

/** Keystone answers its root with 300 Multiple Choices and the list of versions. */
export function identityVersions(baseUrl: string) {
  return { versions: { values: [identityVersion(baseUrl)] } };
}

const routes: FastifyPluginAsync<ServiceDependencies> = async (app, dependencies) => {
  app.get('/', async (request, reply) => reply.code(300).send(identityVersions(requestBaseUrl(request))));
  app.get('/v3', async (request) => ({ version: identityVersion(requestBaseUrl(request)) }));
  for (const plugin of [
    tokenRoutes,
    projectRoutes,
    userRoutes,
    roleRoutes,
    catalogRoutes,
    applicationCredentialRoutes,
  ]) {
    await app.register(plugin, dependencies);
  }
};

export const identityService: OpenStackService = {
  name: 'identity',
  type: 'identity',
  catalogName: 'keystone',
  prefix: IDENTITY_PREFIX,
  endpointPath: IDENTITY_PREFIX,
  errorBody: keystoneErrorBody,
  routes,
  migrations: identityMigrations,
  policyDefaults: IDENTITY_POLICY_DEFAULTS,
};
