// Network (Neutron v2.0). openstacksdk never discovers Neutron (it appends v2.0 to the
// catalog URL), but tempest reads both documents; /v2.0 lists the resources served.
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceDependencies } from '../common/dependencies.js';
import { neutronErrorBody } from '../common/error-bodies.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl, requestBaseUrl, selfLink } from '../common/versions.js';

export const NETWORK_PREFIX = '/network';

/** Collections served under /v2.0, as Neutron lists them; grows with the network service. */
export const NETWORK_RESOURCES: { name: string; collection: string }[] = [];

const routes: FastifyPluginAsync<ServiceDependencies> = async (app) => {
  app.get('/', async (request) => ({
    versions: [
      {
        id: 'v2.0',
        status: 'CURRENT',
        links: [selfLink(joinUrl(requestBaseUrl(request), NETWORK_PREFIX, 'v2.0/'))],
      },
    ],
  }));
  app.get('/v2.0', async (request) => ({
    resources: NETWORK_RESOURCES.map(({ name, collection }) => ({
      name,
      collection,
      links: [selfLink(joinUrl(requestBaseUrl(request), NETWORK_PREFIX, 'v2.0', collection))],
    })),
  }));
};

export const networkService: OpenStackService = {
  name: 'network',
  type: 'network',
  catalogName: 'neutron',
  prefix: NETWORK_PREFIX,
  endpointPath: NETWORK_PREFIX,
  errorBody: neutronErrorBody,
  routes,
  migrations: { service: 'network', migrations: {} },
  policyDefaults: {},
};
