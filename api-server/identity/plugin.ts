// Identity (Keystone v3). At this stage: version discovery, which keystoneauth fetches
// unauthenticated before anything else.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerDependencies } from '../common/dependencies.js';
import { keystoneErrorBody } from '../common/error-bodies.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl, requestBaseUrl, selfLink, type VersionEntry } from '../common/versions.js';

export const IDENTITY_PREFIX = '/identity';

export function identityVersion(baseUrl: string, prefix: string): VersionEntry {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [selfLink(joinUrl(baseUrl, prefix, 'v3/'))],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

/** Keystone answers its root with 300 Multiple Choices and the list of versions. */
export function identityVersions(baseUrl: string) {
  return { versions: { values: [identityVersion(baseUrl, IDENTITY_PREFIX)] } };
}

const routes: FastifyPluginAsync<ServerDependencies> = async (app) => {
  app.get('/', async (request, reply) => reply.code(300).send(identityVersions(requestBaseUrl(request))));
  app.get('/v3', async (request) => ({ version: identityVersion(requestBaseUrl(request), IDENTITY_PREFIX) }));
};

export const identityService: OpenStackService = {
  name: 'identity',
  type: 'identity',
  catalogName: 'keystone',
  prefix: IDENTITY_PREFIX,
  endpointPath: IDENTITY_PREFIX,
  errorBody: keystoneErrorBody,
  routes,
  migrations: { service: 'identity', migrations: {} },
};
