// Security groups, quotas and agents driven by the real `openstack` CLI (python-openstackclient
// over openstacksdk) against `overcast up`, on SQLite and on MariaDB: the project's `default`
// group appears on first use, the seeds' ssh rule goes into it and a second copy is refused,
// the network quotas are Neutron's defaults, and the admin sees the node agent's agents.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from './harness/databases.js';
import { type CliCloud, startCliCloud } from './harness/openstack-cli.js';

describe.each(['sqlite', 'mysql'] as const)(
  'network security with the openstack CLI on %s',
  (dialect: Dialect) => {
    let cli: CliCloud;
    let memberEnv: Record<string, string>;
    let networkUrl: string;

    beforeAll(async () => {
      cli = await startCliCloud(dialect, 'netsec', {
        // Quick heartbeats, so the agents are listed soon after start-up.
        env: { OVERCAST_HEARTBEAT_INTERVAL_MS: '500' },
      });
      networkUrl = `${cli.baseUrl}/network/v2.0`;
      memberEnv = await cli.member('nebula', 'alice');
    });

    afterAll(() => cli?.stop());

    it('makes one default group when a new project looks many times at once', async () => {
      expect((await cli.openstack(['project', 'create', '--domain', 'default', 'racers'])).code).toBe(0);
      expect(
        (await cli.openstack(['role', 'add', '--project', 'racers', '--user', 'alice', 'member'])).code,
      ).toBe(0);
      const racer = { ...memberEnv, OS_PROJECT_NAME: 'racers' };
      const token = (await cli.json(['token', 'issue'], racer)).id;
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${networkUrl}/security-groups`, { headers: { 'x-auth-token': token } }).then(
            async (response) => ({
              status: response.status,
              body: (await response.json()) as { security_groups: { id: string; name: string }[] },
            }),
          ),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
      const ids = new Set(
        responses.flatMap((response) => response.body.security_groups.map((group) => group.id)),
      );
      expect(ids.size).toBe(1);
      const groups = await cli.json(['security', 'group', 'list'], racer);
      expect(groups).toEqual([expect.objectContaining({ Name: 'default' })]);
    });

    it("lists the project's default group on first use", async () => {
      const groups = await cli.json(['security', 'group', 'list'], memberEnv);
      expect(groups).toHaveLength(1);
      expect(groups[0]).toMatchObject({ Name: 'default' });
      const rules = await cli.json(['security', 'group', 'rule', 'list', 'default'], memberEnv);
      expect(rules).toHaveLength(4);
    });

    it('adds the ssh rule to the default group, lists it, and refuses it twice', async () => {
      const created = await cli.json(
        ['security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default'],
        memberEnv,
      );
      expect(created).toMatchObject({
        protocol: 'tcp',
        port_range_min: 22,
        port_range_max: 22,
        direction: 'ingress',
      });
      const rules = await cli.json(['security', 'group', 'rule', 'list', 'default'], memberEnv);
      expect(rules).toContainEqual(expect.objectContaining({ 'IP Protocol': 'tcp', 'Port Range': '22:22' }));
      const again = await cli.openstack(
        ['security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default'],
        memberEnv,
      );
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/already exists/);
    });

    it('creates, shows and deletes a group of its own; the default one stays', async () => {
      const created = await cli.json(
        ['security', 'group', 'create', '--description', 'web servers', 'web'],
        memberEnv,
      );
      expect(created).toMatchObject({ name: 'web', description: 'web servers', stateful: true });
      expect((await cli.openstack(['security', 'group', 'delete', 'web'], memberEnv)).code).toBe(0);
      const refused = await cli.openstack(['security', 'group', 'delete', 'default'], memberEnv);
      expect(refused.code).not.toBe(0);
    });

    it("shows Neutron's default network quotas, and an admin's change", async () => {
      const quotas = await cli.json(['quota', 'list', '--network', '--detail', '--project', 'nebula']);
      const limits = Object.fromEntries(
        quotas.map((row: { Resource: string; Limit: number }) => [row.Resource, row.Limit]),
      );
      expect(limits).toMatchObject({
        networks: 100,
        ports: 500,
        subnets: 100,
        routers: 10,
        floating_ips: 50,
        security_groups: 10,
        security_group_rules: 100,
        rbac_policies: 10,
      });
      expect((await cli.openstack(['quota', 'set', '--networks', '7', 'nebula'])).code).toBe(0);
      const changed = await cli.json(['quota', 'list', '--network', '--detail', '--project', 'nebula']);
      expect(changed).toContainEqual(expect.objectContaining({ Resource: 'networks', Limit: 7 }));
      const denied = await cli.openstack(['quota', 'set', '--networks', '1000', 'nebula'], memberEnv);
      expect(denied.code).not.toBe(0);
    });

    it("lists the node agent's network agents to the admin", async () => {
      let agents: { 'Agent Type': string; Host: string; Alive: unknown }[] = [];
      for (let attempt = 0; attempt < 30 && agents.length < 3; attempt++) {
        agents = await cli.json(['network', 'agent', 'list']);
        if (agents.length < 3) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(agents.map((agent) => agent['Agent Type']).sort()).toEqual([
        'DHCP agent',
        'L3 agent',
        'Open vSwitch agent',
      ]);
      for (const agent of agents) expect([true, ':-)'], JSON.stringify(agent)).toContain(agent.Alive);
    });
  },
);
