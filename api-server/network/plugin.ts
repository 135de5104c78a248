// Network (Neutron v2.0): the version documents, the extension list, and the areas of
// areas.ts (networks, subnets, ports, security groups, ...). openstacksdk never discovers
// Neutron (it appends v2.0 to the catalog URL), but tempest reads both documents, and clients
// turn features on and off by the extensions listed, so the list holds exactly what is served.
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceDependencies } from '../common/dependencies.js';
import { neutronErrorBody } from '../common/error-bodies.js';
import { NotFound } from '../common/errors.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl, requestBaseUrl, selfLink } from '../common/versions.js';
import type { NetworkExtension } from './area.js';
import { NETWORK_AREAS } from './areas.js';

export const NETWORK_PREFIX = '/network';

function extensionView(extension: NetworkExtension) {
  return {
    alias: extension.alias,
    name: extension.name,
    description: extension.description,
    updated: extension.updated,
    links: [],
  };
}

const routes: FastifyPluginAsync<ServiceDependencies> = async (app, dependencies) => {
  const extensions = NETWORK_AREAS.flatMap((area) => area.extensions);
  const resources = NETWORK_AREAS.flatMap((area) => area.resources);

  app.get('/', async (request) => ({
    versions: [
      {
        id: 'v2.0',
        status: 'CURRENT',
        links: [selfLink(joinUrl(requestBaseUrl(request), NETWORK_PREFIX, 'v2.0/'))],
      },
    ],
  }));
  // Neutron answers the version's resource document with and without the trailing slash, and
  // tempest asks for GET /v2.0/.
  for (const path of ['/v2.0', '/v2.0/']) {
    app.get(path, async (request) => ({
      resources: resources.map(({ name, collection }) => ({
        name,
        collection,
        links: [selfLink(joinUrl(requestBaseUrl(request), NETWORK_PREFIX, 'v2.0', collection))],
      })),
    }));
  }
  app.get('/v2.0/extensions', async () => ({ extensions: extensions.map(extensionView) }));
  app.get<{ Params: { alias: string } }>('/v2.0/extensions/:alias', async (request) => {
    const extension = extensions.find((candidate) => candidate.alias === request.params.alias);
    if (!extension) throw new NotFound(`Extension with alias ${request.params.alias} does not exist`);
    return { extension: extensionView(extension) };
  });

  for (const area of NETWORK_AREAS) await app.register(area.routes, dependencies);
};

export const networkService: OpenStackService = {
  name: 'network',
  type: 'network',
  catalogName: 'neutron',
  prefix: NETWORK_PREFIX,
  endpointPath: NETWORK_PREFIX,
  errorBody: neutronErrorBody,
  routes,
  migrations: {
    service: 'network',
    migrations: Object.assign({}, ...NETWORK_AREAS.map((area) => area.migrations)),
  },
  policyDefaults: Object.assign({}, ...NETWORK_AREAS.map((area) => area.policy)),
};
