// The l3 area of the network service: routers (gateway, interfaces, static routes) and floating
// IPs, built on the core area's ports, IPAM and outbox (coreServiceOf). What it tells the other
// areas: how to count routers and floating IPs for quotas, and that a router's or floating IP's
// port is not deleted through the port API, while a port with a floating IP loses it when it goes.
import type { FastifyPluginAsync } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import type { AnyTables } from '../../../lib/db/database.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import type { NetworkArea, NetworkExtension } from '../area.js';
import { coreServiceOf } from '../core/area.js';
import { registerNetworkDeletionHook, registerPortDeletionHook } from '../core/ports.js';
import { registerQuotaCounter } from '../security/area.js';
import { disassociate, releaseFloatingIp } from './floating-ips.js';
import { l3Migrations } from './migrations.js';
import { L3_POLICY_DEFAULTS } from './policy.js';
import { floatingIpRoutes } from './routes/floating-ips.js';
import { routerRoutes } from './routes/routers.js';
import { type L3Service, l3PortInUse } from './service.js';
import { countOf, floatingIpsOfPort, floatingIpsOnNetwork, isFloatingIpPort, routerOfPort } from './store.js';
import type { L3Db } from './tables.js';

const typed = (db: Kysely<AnyTables>) => db as unknown as Kysely<L3Db>;

registerQuotaCounter('router', (db, projectId) => countOf(typed(db), 'network_router', projectId));
registerQuotaCounter('floatingip', (db, projectId) => countOf(typed(db), 'network_floating_ip', projectId));

registerPortDeletionHook(async (coreTrx, port) => {
  const trx = coreTrx as unknown as Transaction<L3Db>;
  if ((await routerOfPort(trx, port.id)) !== undefined || (await isFloatingIpPort(trx, port.id))) {
    throw l3PortInUse(port.id, port.deviceOwner);
  }
  // Neutron disassociates the floating IPs of a port that goes.
  for (const floatingIp of await floatingIpsOfPort(trx, port.id)) await disassociate(trx, floatingIp);
});

// Neutron releases the floating IPs of a network being deleted that no port uses; an
// associated one keeps its port, and so the network, in use.
registerNetworkDeletionHook(async (coreTrx, networkId) => {
  const trx = coreTrx as unknown as Transaction<L3Db>;
  for (const floatingIp of await floatingIpsOnNetwork(trx, networkId)) {
    if (floatingIp.fixedPortId === null) await releaseFloatingIp(trx, floatingIp);
  }
});

const routes: FastifyPluginAsync<ServiceDependencies> = async (app, dependencies) => {
  const core = coreServiceOf(dependencies);
  const service: L3Service = { core, db: core.db as unknown as Kysely<L3Db> };
  for (const plugin of [routerRoutes, floatingIpRoutes]) await app.register(plugin, service);
};

function extension(alias: string, name: string, description: string, updated: string): NetworkExtension {
  return { alias, name, description, updated };
}

export const l3Area: NetworkArea = {
  name: 'l3',
  routes,
  migrations: l3Migrations,
  policy: L3_POLICY_DEFAULTS,
  resources: [
    { name: 'router', collection: 'routers' },
    { name: 'floatingip', collection: 'floatingips' },
  ],
  extensions: [
    extension(
      'router',
      'Neutron L3 Router',
      'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
      '2012-07-20T10:00:00-00:00',
    ),
    extension(
      'ext-gw-mode',
      'Neutron L3 Configurable external gateway mode',
      'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
      '2013-03-28T10:00:00-00:00',
    ),
    extension(
      'extraroute',
      'Neutron Extra Route',
      'Extra routes configuration for L3 router',
      '2013-02-01T10:00:00-00:00',
    ),
    extension(
      'fip-port-details',
      'Floating IP Port Details Extension',
      'Add port_details attribute to Floating IP resource',
      '2018-04-09T10:00:00-00:00',
    ),
  ],
};
