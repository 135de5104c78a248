// The core area of the network service: networks (with segments and MTU), subnets, ports and
// IPAM, and the outbox relay that tells the data plane about their changes.
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceDependencies } from '../../common/dependencies.js';
import type { NetworkArea, NetworkExtension } from '../area.js';
import { PAGINATION_EXTENSIONS } from '../pagination.js';
import { Ipam } from './ipam.js';
import { coreMigrations } from './migrations.js';
import { OutboxRelay } from './outbox.js';
import { CORE_POLICY_DEFAULTS } from './policy.js';
import { PortListCache } from './port-list.js';
import { servePortStatus } from './port-status.js';
import { networkRoutes } from './routes/networks.js';
import { portRoutes } from './routes/ports.js';
import { subnetRoutes } from './routes/subnets.js';
import { registerSecurityHooks } from './security-hooks.js';
import { segmentSettings } from './segments.js';
import type { CoreService } from './service.js';
import type { CoreTables } from './tables.js';

const UPDATED = '2024-01-01T00:00:00-00:00';

function extension(alias: string, name: string, description: string): NetworkExtension {
  return { alias, name, description, updated: UPDATED };
}

export const CORE_EXTENSIONS: NetworkExtension[] = [
  extension('provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks'),
  extension(
    'external-net',
    'Neutron external network',
    'Adds external network attribute to network resource.',
  ),
  extension('binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'),
  extension('port-security', 'Port Security', 'Provides port security'),
  extension('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs'),
  extension('extra_dhcp_opt', 'Neutron Extra DHCP options', 'Extra options configuration for DHCP.'),
  extension('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'),
  extension(
    'net-mtu-writable',
    'Network MTU (writable)',
    'Network MTU extension with writable mtu attribute.',
  ),
  extension('standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at fields.'),
  extension(
    'standard-attr-revisions',
    'Resource revision numbers',
    'This extension will display the revision number of neutron resources.',
  ),
  extension(
    'standard-attr-description',
    'standard-attr-description',
    'Extension to add descriptions to standard attributes',
  ),
  extension(
    'ip-substring-filtering',
    'IP address substring filtering',
    'Provides IP address substring filtering when listing ports',
  ),
  extension(
    'project-id',
    'project_id field enabled',
    'Extension that indicates that project_id field is enabled.',
  ),
  // Every list of every area sorts and pages through pagination.ts.
  ...PAGINATION_EXTENSIONS,
];

/** Each running network service's core, by its database handle (see coreServiceOf). */
const runningCores = new WeakMap<object, CoreService>();

/**
 * The core service of the network service `dependencies` belong to, for the areas built on
 * the core (l3 allocates addresses, writes ports and records changes through it). The core
 * area owns it (its relay starts and stops with the core routes), so it exists only once they
 * are registered: areas.ts lists the core first.
 */
export function coreServiceOf(dependencies: ServiceDependencies): CoreService {
  const service = runningCores.get(dependencies.database);
  if (!service) throw new Error('the network core area is not registered yet');
  return service;
}

const routes: FastifyPluginAsync<ServiceDependencies> = async (app, dependencies) => {
  registerSecurityHooks();
  const db = dependencies.database.tables<CoreTables>();
  const relay = new OutboxRelay(db, dependencies.bus, app.log);
  const service: CoreService = {
    ...dependencies,
    db,
    settings: segmentSettings(dependencies.config.network),
    ipam: new Ipam(),
    relay,
    // SQLite answers in-process: there is no round trip for reading device lists together to save.
    portList: new PortListCache({ batchDeviceLists: dependencies.database.dialect === 'mysql' }),
  };
  runningCores.set(dependencies.database, service);
  relay.start();
  const statusReports = await servePortStatus(service);
  app.addHook('onClose', async () => {
    await statusReports.close();
    await relay.stop();
  });
  for (const plugin of [networkRoutes, subnetRoutes, portRoutes]) await app.register(plugin, service);
};

export const coreArea: NetworkArea = {
  name: 'core',
  routes,
  migrations: coreMigrations,
  policy: CORE_POLICY_DEFAULTS,
  resources: [
    { name: 'network', collection: 'networks' },
    { name: 'subnet', collection: 'subnets' },
    { name: 'port', collection: 'ports' },
  ],
  extensions: CORE_EXTENSIONS,
};
