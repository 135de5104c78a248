// Image (Glance v2). At this stage: version discovery, which openstacksdk needs before it
// sends any image request.
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceDependencies } from '../common/dependencies.js';
import { glanceErrorBody } from '../common/error-bodies.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl, requestBaseUrl, selfLink } from '../common/versions.js';

export const IMAGE_PREFIX = '/image';

/** The Glance v2 minor versions this server speaks, newest first. */
export const IMAGE_API_VERSIONS = [
  'v2.16',
  'v2.15',
  'v2.9',
  'v2.7',
  'v2.6',
  'v2.5',
  'v2.4',
  'v2.3',
  'v2.2',
  'v2.1',
  'v2.0',
];

function imageVersions(baseUrl: string) {
  const href = joinUrl(baseUrl, IMAGE_PREFIX, 'v2/');
  return {
    versions: IMAGE_API_VERSIONS.map((id, index) => ({
      id,
      status: index === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [selfLink(href)],
    })),
  };
}

const routes: FastifyPluginAsync<ServiceDependencies> = async (app) => {
  // Glance answers both its root and /versions with 300 Multiple Choices.
  app.get('/', async (request, reply) => reply.code(300).send(imageVersions(requestBaseUrl(request))));
  app.get('/versions', async (request) => imageVersions(requestBaseUrl(request)));
};

export const imageService: OpenStackService = {
  name: 'image',
  type: 'image',
  catalogName: 'glance',
  prefix: IMAGE_PREFIX,
  endpointPath: IMAGE_PREFIX,
  errorBody: glanceErrorBody,
  routes,
  migrations: { service: 'image', migrations: {} },
  policyDefaults: {},
};
