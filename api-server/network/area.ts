// The network service is built from areas, each a folder with its own tables, migrations,
// policy rules, routes and store: core/ (networks, segments, subnets, ports, IPAM), security/
// (security groups and rules), and l3/ (routers, floating IPs) as it comes. plugin.ts mounts
// the areas listed in areas.ts; an area declares here what it adds to the service.
import type { FastifyPluginAsync } from 'fastify';
import type { Migration } from '../../lib/db/migrations.js';
import type { ServiceDependencies } from '../common/dependencies.js';
import type { PolicyDefaults } from '../common/policy/enforcer.js';

/** An entry of GET /v2.0/extensions, as Neutron describes an API extension. */
export interface NetworkExtension {
  alias: string;
  name: string;
  description: string;
  /** Neutron's "updated" stamp of the extension's definition. */
  updated: string;
}

export interface NetworkArea {
  name: string;
  routes: FastifyPluginAsync<ServiceDependencies>;
  /**
   * The area's schema changes. Names sort in the order they must run across all areas:
   * "0001_core_...", "0002_security_...", "0003_l3_...".
   */
  migrations: Record<string, Migration>;
  policy: PolicyDefaults;
  /** Collections it serves under /v2.0, for the version document. */
  resources: { name: string; collection: string }[];
  /** API extensions it implements, for /v2.0/extensions (clients enable features by them). */
  extensions: NetworkExtension[];
}
