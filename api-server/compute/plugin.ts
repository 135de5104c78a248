// Compute (Nova v2.1). At this stage: version discovery. openstacksdk reads `version` (the
// highest microversion) from it and silently falls back to 2.1 when it is missing, so the
// document advertises exactly what the server implements.
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceDependencies } from '../common/dependencies.js';
import { novaErrorBody } from '../common/error-bodies.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl, requestBaseUrl, selfLink, type VersionEntry } from '../common/versions.js';

export const COMPUTE_PREFIX = '/compute';
/** Highest compute microversion implemented; raised as features land. */
export const COMPUTE_MAX_MICROVERSION = '2.1';

function computeV21(baseUrl: string): VersionEntry {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: COMPUTE_MAX_MICROVERSION,
    min_version: '2.1',
    updated: '2013-07-23T11:33:21Z',
    links: [selfLink(joinUrl(baseUrl, COMPUTE_PREFIX, 'v2.1/'))],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

const routes: FastifyPluginAsync<ServiceDependencies> = async (app) => {
  app.get('/', async (request) => ({ versions: [computeV21(requestBaseUrl(request))] }));
  app.get('/v2.1', async (request) => ({ version: computeV21(requestBaseUrl(request)) }));
};

export const computeService: OpenStackService = {
  name: 'compute',
  type: 'compute',
  catalogName: 'nova',
  prefix: COMPUTE_PREFIX,
  endpointPath: `${COMPUTE_PREFIX}/v2.1`,
  errorBody: novaErrorBody,
  routes,
  migrations: { service: 'compute', migrations: {} },
  policyDefaults: {},
};
