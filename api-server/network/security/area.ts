// The security area of the network service: security groups and rules, quotas, agents (from
// node agents' heartbeats) and RBAC policies. Other areas use its exports: ensureDefaultSecurityGroup,
// checkQuota / registerQuotaCounter, networkIdsSharedWith / registerRbacObjectResolver /
// registerRbacPolicyUseCheck and registerSecurityGroupUseCheck.
import { hostname } from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import { AGENT_HEARTBEAT_TOPIC, isAgentHeartbeat } from '../../../lib/messages/agent-heartbeat.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import type { NetworkArea } from '../area.js';
import { recordHeartbeat } from './agents.js';
import { securityMigrations } from './migrations.js';
import { SECURITY_POLICY_DEFAULTS } from './policy.js';
import { agentRoutes } from './routes/agents.js';
import { quotaRoutes } from './routes/quotas.js';
import { rbacPolicyRoutes } from './routes/rbac-policies.js';
import { securityGroupRoutes } from './routes/security-groups.js';
import type { SecurityService } from './service.js';
import type { SecurityTables } from './tables.js';

export { checkQuota, registerQuotaCounter } from './quotas.js';
export {
  networkIdsExternalFor,
  networkIdsSharedWith,
  registerRbacObjectResolver,
  registerRbacPolicyUseCheck,
} from './rbac.js';
export { ensureDefaultSecurityGroup, registerSecurityGroupUseCheck } from './security-groups.js';

const routes: FastifyPluginAsync<ServiceDependencies> = async (app, dependencies) => {
  const service: SecurityService = { ...dependencies, db: dependencies.database.tables<SecurityTables>() };
  for (const plugin of [securityGroupRoutes, quotaRoutes, agentRoutes, rbacPolicyRoutes]) {
    await app.register(plugin, service);
  }

  // Every api-server records every heartbeat (a fanout), so a replica's view is never stale.
  // The server name is the host's, not a fresh one per start: on RabbitMQ each server name
  // keeps a durable queue, and a name per start would leave one behind at every restart.
  const log = app.log;
  const subscription = await dependencies.bus.serve(
    {
      topic: AGENT_HEARTBEAT_TOPIC,
      server: `api-server-${hostname()
        .replace(/[^A-Za-z0-9_.:-]/g, '-')
        .slice(0, 100)}`,
    },
    {
      report_state: async (args: { agents?: unknown }) => {
        const agents = Array.isArray(args.agents) ? args.agents : [];
        for (const agent of agents) {
          if (isAgentHeartbeat(agent)) await recordHeartbeat(service.db, agent);
          else log.warn({ topic: AGENT_HEARTBEAT_TOPIC }, 'ignored a malformed agent heartbeat');
        }
      },
    },
  );
  app.addHook('onClose', async () => subscription.close());
};

export const securityArea: NetworkArea = {
  name: 'security',
  routes,
  migrations: securityMigrations,
  policy: SECURITY_POLICY_DEFAULTS,
  resources: [
    { name: 'security_group', collection: 'security-groups' },
    { name: 'security_group_rule', collection: 'security-group-rules' },
    { name: 'quota', collection: 'quotas' },
    { name: 'agent', collection: 'agents' },
    { name: 'rbac_policy', collection: 'rbac-policies' },
  ],
  extensions: [
    {
      alias: 'security-group',
      name: 'security-group',
      description: 'The security groups extension.',
      updated: '2012-10-05T10:00:00-00:00',
    },
    {
      alias: 'stateful-security-group',
      name: 'Stateful security group',
      description: 'Indicates if the security group is stateful or not',
      updated: '2019-11-26T09:00:00-00:00',
    },
    {
      alias: 'security-groups-normalized-cidr',
      name: 'Security group rule normalized CIDR',
      description: 'Add normalized_cidr field to the security group rule resource',
      updated: '2020-05-15T10:00:00-00:00',
    },
    {
      alias: 'quotas',
      name: 'Quota management support',
      description: 'Expose functions for quotas management per project',
      updated: '2012-07-29T10:00:00-00:00',
    },
    {
      alias: 'quota_details',
      name: 'Quota details management support',
      description: 'Expose functions for quotas usage statistics per project',
      updated: '2017-02-10T10:00:00-00:00',
    },
    {
      alias: 'agent',
      name: 'agent',
      description: 'The agent management extension.',
      updated: '2013-02-03T10:00:00-00:00',
    },
    {
      alias: 'rbac-policies',
      name: 'RBAC Policies',
      description: 'Allows creation and modification of policies that control tenant access to resources.',
      updated: '2015-06-17T12:15:12-00:00',
    },
  ],
};
