// Placement. Its root document carries the microversion range clients negotiate against.
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceDependencies } from '../common/dependencies.js';
import { placementErrorBody } from '../common/error-bodies.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl, requestBaseUrl, selfLink } from '../common/versions.js';

export const PLACEMENT_PREFIX = '/placement';
/** Highest placement microversion implemented; raised as features land. */
export const PLACEMENT_MAX_MICROVERSION = '1.0';

const routes: FastifyPluginAsync<ServiceDependencies> = async (app) => {
  app.get('/', async (request) => ({
    versions: [
      {
        id: 'v1.0',
        max_version: PLACEMENT_MAX_MICROVERSION,
        min_version: '1.0',
        status: 'CURRENT',
        links: [selfLink(joinUrl(requestBaseUrl(request), PLACEMENT_PREFIX, '/'))],
      },
    ],
  }));
};

export const placementService: OpenStackService = {
  name: 'placement',
  type: 'placement',
  catalogName: 'placement',
  prefix: PLACEMENT_PREFIX,
  endpointPath: PLACEMENT_PREFIX,
  errorBody: placementErrorBody,
  routes,
  migrations: { service: 'placement', migrations: {} },
  policyDefaults: {},
};
