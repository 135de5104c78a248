// The security area in-process on SQLite, as users reach it: the default group each project
// gets, groups and rules with every refusal Neutron makes, projects kept apart, quotas, agents
// from heartbeats and RBAC policies. No answer may be a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../../lib/bus/index.js';
import type { MessageBus } from '../../../lib/bus/types.js';
import { createLogger } from '../../../lib/log.js';
import { AGENT_HEARTBEAT_TOPIC } from '../../../lib/messages/agent-heartbeat.js';
import { type ServiceCall, startTestCloud, type TestCloud } from '../../common/test-cloud.suite.js';
import { registerRbacPolicyUseCheck } from './rbac.js';
import { registerSecurityGroupUseCheck } from './security-groups.js';

let cloud: TestCloud;
let net: ServiceCall;
let admin: string;
let adminProject: string;
let alice: { projectId: string; token: string };
let bob: { projectId: string; token: string };

async function defaultGroup(token: string) {
  const { body } = await net(token, 'GET', '/v2.0/security-groups?name=default');
  expect(body.security_groups).toHaveLength(1);
  return body.security_groups[0];
}

/** The rule body `openstack security group rule create --proto tcp --dst-port 22 default` sends. */
function sshRule(groupId: string, extra: Record<string, unknown> = {}) {
  return {
    security_group_rule: {
      security_group_id: groupId,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
      ...extra,
    },
  };
}

beforeAll(async () => {
  cloud = await startTestCloud();
  net = cloud.service('/network');
  const issued = await cloud.byPassword('admin', 'admin-secret', {
    project: { name: 'admin', domain: { id: 'default' } },
  });
  admin = issued.token;
  adminProject = issued.body.token.project.id;
  alice = await cloud.memberProject(admin, 'alice');
  bob = await cloud.memberProject(admin, 'bob');
});

afterAll(() => cloud.close());

describe('the default security group', () => {
  it('appears on a project first look, once, with Neutron default rules', async () => {
    const first = await net(alice.token, 'GET', '/v2.0/security-groups');
    expect(first.status).toBe(200);
    expect(first.body.security_groups).toHaveLength(1);
    const group = first.body.security_groups[0];
    expect(group).toMatchObject({
      name: 'default',
      project_id: alice.projectId,
      tenant_id: alice.projectId,
      stateful: true,
      tags: [],
      revision_number: 0,
    });
    expect(group.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const rules = group.security_group_rules.map((rule: Record<string, unknown>) => [
      rule.direction,
      rule.ethertype,
      rule.remote_group_id,
      rule.remote_ip_prefix,
      rule.protocol,
    ]);
    expect(rules).toEqual(
      expect.arrayContaining([
        ['egress', 'IPv4', null, null, null],
        ['egress', 'IPv6', null, null, null],
        ['ingress', 'IPv4', group.id, null, null],
        ['ingress', 'IPv6', group.id, null, null],
      ]),
    );
    expect(rules).toHaveLength(4);
    const again = await net(alice.token, 'GET', '/v2.0/security-groups');
    expect(again.body.security_groups.map((each: { id: string }) => each.id)).toEqual([group.id]);
  });

  it('is found by name and shown with only the fields asked for, as the CLI lists it', async () => {
    const byId = await net(alice.token, 'GET', '/v2.0/security-groups/default');
    expect(byId.status).toBe(404);
    expect(byId.body.NeutronError.type).toBe('SecurityGroupNotFound');
    const listed = await net(
      alice.token,
      'GET',
      '/v2.0/security-groups?fields=id&fields=name&fields=description&fields=project_id&fields=tags',
    );
    expect(Object.keys(listed.body.security_groups[0]).sort()).toEqual([
      'description',
      'id',
      'name',
      'project_id',
      'tags',
    ]);
  });

  it('is made for the project an admin filters on, which is how tempest cleans up', async () => {
    const fresh = await cloud.memberProject(admin, 'carol');
    const listed = await net(admin, 'GET', `/v2.0/security-groups?tenant_id=${fresh.projectId}&name=default`);
    expect(listed.body.security_groups).toHaveLength(1);
    expect(listed.body.security_groups[0].project_id).toBe(fresh.projectId);
    const deleted = await net(admin, 'DELETE', `/v2.0/security-groups/${listed.body.security_groups[0].id}`);
    expect(deleted.status).toBe(204);
  });

  it('cannot be deleted nor renamed by its project', async () => {
    const group = await defaultGroup(alice.token);
    const deleted = await net(alice.token, 'DELETE', `/v2.0/security-groups/${group.id}`);
    expect(deleted.status).toBe(409);
    expect(deleted.body.NeutronError.type).toBe('SecurityGroupCannotRemoveDefault');
    const renamed = await net(alice.token, 'PUT', `/v2.0/security-groups/${group.id}`, {
      security_group: { name: 'other' },
    });
    expect(renamed.status).toBe(409);
    expect(renamed.body.NeutronError.type).toBe('SecurityGroupCannotUpdateDefault');
    const described = await net(alice.token, 'PUT', `/v2.0/security-groups/${group.id}`, {
      security_group: { description: 'mine' },
    });
    expect(described.status).toBe(200);
    expect(described.body.security_group).toMatchObject({ description: 'mine', revision_number: 1 });
  });
});

describe('security groups', () => {
  it('creates a group with the two egress rules, updates it and deletes it', async () => {
    const created = await net(alice.token, 'POST', '/v2.0/security-groups', {
      security_group: { name: 'web', description: 'web servers' },
    });
    expect(created.status).toBe(201);
    const group = created.body.security_group;
    expect(group).toMatchObject({
      name: 'web',
      description: 'web servers',
      stateful: true,
      project_id: alice.projectId,
    });
    expect(
      group.security_group_rules
        .map((rule: { direction: string; ethertype: string }) => `${rule.direction}/${rule.ethertype}`)
        .sort(),
    ).toEqual(['egress/IPv4', 'egress/IPv6']);
    const updated = await net(alice.token, 'PUT', `/v2.0/security-groups/${group.id}`, {
      security_group: { name: 'www', stateful: false },
    });
    expect(updated.body.security_group).toMatchObject({ name: 'www', stateful: false, revision_number: 1 });
    expect(
      (await net(alice.token, 'GET', `/v2.0/security-groups/${group.id}`)).body.security_group.name,
    ).toBe('www');
    expect((await net(alice.token, 'DELETE', `/v2.0/security-groups/${group.id}`)).status).toBe(204);
    expect((await net(alice.token, 'GET', `/v2.0/security-groups/${group.id}`)).status).toBe(404);
  });

  it('creates a stateless group when asked', async () => {
    const created = await net(alice.token, 'POST', '/v2.0/security-groups', {
      security_group: { name: 'stateless', stateful: false },
    });
    expect(created.body.security_group.stateful).toBe(false);
  });

  it('refuses a second default, unknown and read-only attributes, and a missing body', async () => {
    const second = await net(alice.token, 'POST', '/v2.0/security-groups', {
      security_group: { name: 'default' },
    });
    expect(second.status).toBe(409);
    expect(second.body.NeutronError.type).toBe('SecurityGroupDefaultAlreadyExists');
    expect(
      (await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { colour: 'red' } })).status,
    ).toBe(400);
    expect((await net(alice.token, 'POST', '/v2.0/security-groups', { group: {} })).status).toBe(400);
    expect(
      (await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { name: 7 } })).status,
    ).toBe(400);
    const group = (
      await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'ro' } })
    ).body.security_group;
    const readOnly = await net(alice.token, 'PUT', `/v2.0/security-groups/${group.id}`, {
      security_group: { project_id: bob.projectId },
    });
    expect(readOnly.status).toBe(400);
    const toDefault = await net(alice.token, 'PUT', `/v2.0/security-groups/${group.id}`, {
      security_group: { name: 'default' },
    });
    expect(toDefault.status).toBe(409);
  });

  it("keeps projects apart: another project's group and rules are not found", async () => {
    const group = await defaultGroup(alice.token);
    const ruleId = group.security_group_rules[0].id;
    for (const [method, url, payload] of [
      ['GET', `/v2.0/security-groups/${group.id}`],
      ['PUT', `/v2.0/security-groups/${group.id}`, { security_group: { description: 'x' } }],
      ['DELETE', `/v2.0/security-groups/${group.id}`],
      ['GET', `/v2.0/security-group-rules/${ruleId}`],
      ['DELETE', `/v2.0/security-group-rules/${ruleId}`],
      ['POST', '/v2.0/security-group-rules', sshRule(group.id)],
    ] as const) {
      const response = await net(bob.token, method, url, payload);
      expect(response.status, `${method} ${url}`).toBe(404);
    }
    const bobs = await net(bob.token, 'GET', '/v2.0/security-groups');
    expect(
      bobs.body.security_groups.every((each: { project_id: string }) => each.project_id === bob.projectId),
    ).toBe(true);
    const bobRules = await net(bob.token, 'GET', '/v2.0/security-group-rules');
    expect(bobRules.body.security_group_rules.some((rule: { id: string }) => rule.id === ruleId)).toBe(false);
    const bobByTenant = await net(bob.token, 'GET', `/v2.0/security-groups?tenant_id=${alice.projectId}`);
    expect(bobByTenant.body.security_groups).toEqual([]);
  });

  it('lets an admin see every project group, or one project with project_id', async () => {
    const all = await net(admin, 'GET', '/v2.0/security-groups');
    const projects = new Set(all.body.security_groups.map((each: { project_id: string }) => each.project_id));
    expect(projects).toContain(alice.projectId);
    expect(projects).toContain(adminProject);
    const one = await net(admin, 'GET', `/v2.0/security-groups?project_id=${alice.projectId}`);
    expect(
      one.body.security_groups.every((each: { project_id: string }) => each.project_id === alice.projectId),
    ).toBe(true);
  });
});

describe('security group rules', () => {
  it('adds the CLI ssh rule to the default group and lists it in the group', async () => {
    const group = await defaultGroup(alice.token);
    const created = await net(alice.token, 'POST', '/v2.0/security-group-rules', sshRule(group.id));
    expect(created.status).toBe(201);
    expect(created.body.security_group_rule).toMatchObject({
      security_group_id: group.id,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
      normalized_cidr: '0.0.0.0/0',
      remote_group_id: null,
      project_id: alice.projectId,
      description: '',
    });
    const listed = await net(alice.token, 'GET', `/v2.0/security-group-rules?security_group_id=${group.id}`);
    expect(listed.body.security_group_rules).toHaveLength(5);
    const shown = await net(alice.token, 'GET', `/v2.0/security-groups/${group.id}`);
    expect(shown.body.security_group.security_group_rules).toHaveLength(5);
    expect(shown.body.security_group.revision_number).toBeGreaterThan(group.revision_number);
    const one = await net(
      alice.token,
      'GET',
      `/v2.0/security-group-rules/${created.body.security_group_rule.id}`,
    );
    expect(one.body.security_group_rule.id).toBe(created.body.security_group_rule.id);
  });

  it('refuses a duplicate rule with 409 naming the existing one, however it is spelled', async () => {
    const group = (
      await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'dup' } })
    ).body.security_group;
    const first = await net(alice.token, 'POST', '/v2.0/security-group-rules', sshRule(group.id));
    expect(first.status).toBe(201);
    for (const variant of [
      {},
      { protocol: '6' },
      { protocol: 'TCP' },
      { remote_ip_prefix: null },
      { description: 'again' },
    ]) {
      const again = await net(alice.token, 'POST', '/v2.0/security-group-rules', sshRule(group.id, variant));
      expect(again.status, JSON.stringify(variant)).toBe(409);
      expect(again.body.NeutronError).toMatchObject({
        type: 'SecurityGroupRuleExists',
        message: `Security group rule already exists. Rule id is ${first.body.security_group_rule.id}.`,
      });
    }
    const egressToo = await net(alice.token, 'POST', '/v2.0/security-group-rules', {
      security_group_rule: { security_group_id: group.id, direction: 'egress' },
    });
    expect(egressToo.status).toBe(409);
  });

  it('normalizes remote prefixes and accepts numbers, ICMP types and remote groups', async () => {
    const group = (
      await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'varied' } })
    ).body.security_group;
    const other = (
      await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'peer' } })
    ).body.security_group;
    const post = (rule: Record<string, unknown>) =>
      net(alice.token, 'POST', '/v2.0/security-group-rules', {
        security_group_rule: { security_group_id: group.id, direction: 'ingress', ...rule },
      });
    const host = await post({
      remote_ip_prefix: '10.0.0.5/24',
      protocol: 'udp',
      port_range_min: 53,
      port_range_max: 53,
    });
    expect(host.body.security_group_rule).toMatchObject({
      remote_ip_prefix: '10.0.0.5/24',
      normalized_cidr: '10.0.0.0/24',
    });
    const bare = await post({ remote_ip_prefix: '192.0.2.7', protocol: 132 });
    expect(bare.body.security_group_rule).toMatchObject({
      remote_ip_prefix: '192.0.2.7/32',
      protocol: '132',
    });
    const v6 = await post({
      ethertype: 'ipv6',
      remote_ip_prefix: '2001:DB8:0:0::1/64',
      protocol: 'ipv6-icmp',
    });
    expect(v6.body.security_group_rule).toMatchObject({
      ethertype: 'IPv6',
      remote_ip_prefix: '2001:db8::1/64',
      normalized_cidr: '2001:db8::/64',
    });
    const ping = await post({ protocol: 'icmp', port_range_min: 8, port_range_max: 0 });
    expect(ping.body.security_group_rule).toMatchObject({ port_range_min: 8, port_range_max: 0 });
    const anyIcmpCode = await post({ protocol: 'icmp', port_range_min: 3 });
    expect(anyIcmpCode.status).toBe(201);
    const peers = await post({
      remote_group_id: other.id,
      protocol: 'tcp',
      port_range_min: 1,
      port_range_max: 65535,
    });
    expect(peers.body.security_group_rule.remote_group_id).toBe(other.id);
    const gre = await post({ protocol: 'gre' });
    expect(gre.status).toBe(201);
    // Deleting the peer group takes the rules that point at it.
    expect((await net(alice.token, 'DELETE', `/v2.0/security-groups/${other.id}`)).status).toBe(204);
    expect(
      (await net(alice.token, 'GET', `/v2.0/security-group-rules/${peers.body.security_group_rule.id}`))
        .status,
    ).toBe(404);
    const deleted = await net(
      alice.token,
      'DELETE',
      `/v2.0/security-group-rules/${gre.body.security_group_rule.id}`,
    );
    expect(deleted.status).toBe(204);
  });

  it('refuses what Neutron refuses, with its error types', async () => {
    const group = (
      await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'strict' } })
    ).body.security_group;
    const cases: [Record<string, unknown>, number, string | undefined][] = [
      [{ protocol: 'tcp', port_range_min: 100, port_range_max: 10 }, 400, 'SecurityGroupInvalidPortRange'],
      [{ protocol: 'tcp', port_range_min: 10 }, 400, 'SecurityGroupInvalidPortRange'],
      [{ protocol: 'udp', port_range_min: 0, port_range_max: 10 }, 400, 'SecurityGroupInvalidPortValue'],
      [{ protocol: 'tcp', port_range_min: 1, port_range_max: 70000 }, 400, 'SecurityGroupInvalidPortValue'],
      [{ protocol: 'tcp', port_range_min: -16, port_range_max: 80 }, 400, 'SecurityGroupInvalidPortValue'],
      [{ protocol: 'tcp', port_range_min: 'low', port_range_max: 80 }, 400, undefined],
      [{ port_range_min: 22, port_range_max: 22 }, 400, 'SecurityGroupProtocolRequiredWithPorts'],
      [{ protocol: 'gre', port_range_min: 1, port_range_max: 2 }, 400, 'SecurityGroupInvalidProtocolForPort'],
      [{ protocol: 'icmp', port_range_min: 256 }, 400, 'SecurityGroupInvalidIcmpValue'],
      [{ protocol: 'icmp', port_range_min: 8, port_range_max: 300 }, 400, 'SecurityGroupInvalidIcmpValue'],
      [{ protocol: 'icmp', port_range_max: 0 }, 400, 'SecurityGroupMissingIcmpType'],
      [{ protocol: 'bogus' }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [{ protocol: 256 }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [{ ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' }, 400, 'SecurityGroupRuleParameterConflict'],
      [{ ethertype: 'IPv4', remote_ip_prefix: '::/0' }, 400, 'SecurityGroupRuleParameterConflict'],
      [{ remote_ip_prefix: '10.0.0.0/33' }, 400, undefined],
      [{ remote_ip_prefix: 'nonsense' }, 400, undefined],
      [
        { remote_ip_prefix: '10.0.0.0/8', remote_group_id: group.id },
        400,
        'SecurityGroupRemoteGroupAndRemoteIpPrefix',
      ],
      [{ ethertype: 'IPv5' }, 400, 'SecurityGroupRuleInvalidEtherType'],
      [{ protocol: 'ipv6-icmp', ethertype: 'IPv4' }, 400, 'SecurityGroupEthertypeConflictWithProtocol'],
      [{ direction: 'sideways' }, 400, undefined],
      [{ direction: undefined }, 400, undefined],
      [{ remote_group_id: '6b0a5e5c-0000-4000-8000-000000000000' }, 404, 'SecurityGroupNotFound'],
      [{ security_group_id: '6b0a5e5c-0000-4000-8000-000000000000' }, 404, 'SecurityGroupNotFound'],
      [{ security_group_id: undefined }, 400, undefined],
      [{ remote_address_group_id: 'x' }, 400, undefined],
    ];
    for (const [change, status, type] of cases) {
      const response = await net(alice.token, 'POST', '/v2.0/security-group-rules', {
        security_group_rule: { security_group_id: group.id, direction: 'ingress', ...change },
      });
      expect(response.status, JSON.stringify(change)).toBe(status);
      if (type) expect(response.body.NeutronError.type, JSON.stringify(change)).toBe(type);
    }
    const rules = await net(alice.token, 'GET', `/v2.0/security-group-rules?security_group_id=${group.id}`);
    expect(rules.body.security_group_rules).toHaveLength(2);
  });

  it('lets an admin add a rule to a project group, owned by that project', async () => {
    const group = await defaultGroup(bob.token);
    const created = await net(
      admin,
      'POST',
      '/v2.0/security-group-rules',
      sshRule(group.id, { port_range_min: 80, port_range_max: 80 }),
    );
    expect(created.status).toBe(201);
    expect(created.body.security_group_rule.project_id).toBe(bob.projectId);
    const mine = await net(
      bob.token,
      'GET',
      `/v2.0/security-group-rules/${created.body.security_group_rule.id}`,
    );
    expect(mine.status).toBe(200);
  });
});

describe('quotas', () => {
  it("shows Neutron's defaults for a project that has none of its own", async () => {
    const shown = await net(alice.token, 'GET', `/v2.0/quotas/${alice.projectId}`);
    expect(shown.status).toBe(200);
    expect(shown.body.quota).toEqual({
      network: 100,
      subnet: 100,
      port: 500,
      router: 10,
      floatingip: 50,
      security_group: 10,
      security_group_rule: 100,
      subnetpool: -1,
      rbac_policy: 10,
    });
    const defaults = await net(alice.token, 'GET', `/v2.0/quotas/${alice.projectId}/default`);
    expect(defaults.body.quota).toEqual(shown.body.quota);
    const tenant = await net(alice.token, 'GET', '/v2.0/quotas/tenant');
    expect(tenant.body.tenant.tenant_id).toBe(alice.projectId);
  });

  it('lets only admins change them, and a member only read its own', async () => {
    const denied = await net(alice.token, 'PUT', `/v2.0/quotas/${alice.projectId}`, {
      quota: { network: 1000 },
    });
    expect(denied.status).toBe(403);
    expect((await net(alice.token, 'DELETE', `/v2.0/quotas/${alice.projectId}`)).status).toBe(403);
    expect((await net(alice.token, 'GET', `/v2.0/quotas/${bob.projectId}`)).status).toBe(403);
    expect((await net(alice.token, 'GET', `/v2.0/quotas/${bob.projectId}/details`)).status).toBe(403);
    expect((await net(alice.token, 'GET', '/v2.0/quotas')).body.quotas).toEqual([]);
  });

  it('refuses unknown resources and limits under -1', async () => {
    for (const quota of [{ widgets: 1 }, { network: -2 }, { network: 'many' }, { network: 1.5 }]) {
      const response = await net(admin, 'PUT', `/v2.0/quotas/${bob.projectId}`, { quota });
      expect(response.status, JSON.stringify(quota)).toBe(400);
    }
  });

  it('enforces the security group limit with 409 OverQuota and reports usage in details', async () => {
    const project = await cloud.memberProject(admin, 'dave');
    const set = await net(admin, 'PUT', `/v2.0/quotas/${project.projectId}`, {
      quota: { security_group: 2, security_group_rule: '7' },
    });
    expect(set.status).toBe(200);
    expect(set.body.quota).toMatchObject({ security_group: 2, security_group_rule: 7, network: 100 });
    // The default group (made on first use) counts: one more fits, the next does not.
    expect(
      (await net(project.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'a' } })).status,
    ).toBe(201);
    const over = await net(project.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'b' } });
    expect(over.status).toBe(409);
    expect(over.body.NeutronError).toMatchObject({
      type: 'OverQuota',
      message: "Quota exceeded for resources: ['security_group'].",
    });
    // 4 default rules + 2 egress rules of `a`: one more rule fits, the next does not.
    const group = await defaultGroup(project.token);
    expect((await net(project.token, 'POST', '/v2.0/security-group-rules', sshRule(group.id))).status).toBe(
      201,
    );
    const overRules = await net(
      project.token,
      'POST',
      '/v2.0/security-group-rules',
      sshRule(group.id, { port_range_min: 443, port_range_max: 443 }),
    );
    expect(overRules.status).toBe(409);
    expect(overRules.body.NeutronError.message).toBe(
      "Quota exceeded for resources: ['security_group_rule'].",
    );
    const details = await net(project.token, 'GET', `/v2.0/quotas/${project.projectId}/details.json`);
    expect(details.body.quota.security_group).toEqual({ limit: 2, used: 2, reserved: 0 });
    expect(details.body.quota.security_group_rule).toEqual({ limit: 7, used: 7, reserved: 0 });
    expect(details.body.quota.network).toEqual({ limit: 100, used: 0, reserved: 0 });
    const listed = await net(admin, 'GET', '/v2.0/quotas');
    expect(listed.body.quotas).toEqual(
      expect.arrayContaining([expect.objectContaining({ project_id: project.projectId, security_group: 2 })]),
    );
    expect((await net(admin, 'DELETE', `/v2.0/quotas/${project.projectId}`)).status).toBe(204);
    expect(
      (await net(project.token, 'GET', `/v2.0/quotas/${project.projectId}`)).body.quota.security_group,
    ).toBe(10);
    expect(
      (await net(project.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'b' } })).status,
    ).toBe(201);
  });
});

describe('agents', () => {
  let bus: MessageBus;
  beforeAll(async () => {
    // Buses on the same memory:// URL share one broker: this one stands in for a node agent.
    bus = await createBus('memory://', { log: createLogger('test', 'silent') });
  });
  afterAll(() => bus.close());

  async function heartbeat(host: string) {
    await bus.fanout(AGENT_HEARTBEAT_TOPIC, 'report_state', {
      agents: [
        {
          agent_type: 'Open vSwitch agent',
          binary: 'overcast-node-agent',
          host,
          topic: 'N/A',
          configurations: { bridge: 'br-int' },
        },
        { agent_type: 'DHCP agent', binary: 'overcast-node-agent', host, topic: 'dhcp_agent' },
        { agent_type: 'Nonsense agent', binary: 'x', host, topic: 'x' },
      ],
    });
  }

  async function agentsOf(host: string) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const listed = await net(admin, 'GET', `/v2.0/agents?host=${host}`);
      if (listed.body.agents.length >= 2) return listed.body.agents;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no agents of ${host} appeared`);
  }

  it('lists what node agents report, alive, to admins only', async () => {
    await heartbeat('compute-1');
    const agents = await agentsOf('compute-1');
    expect(agents).toHaveLength(2);
    const ovs = agents.find((agent: { agent_type: string }) => agent.agent_type === 'Open vSwitch agent');
    expect(ovs).toMatchObject({
      host: 'compute-1',
      binary: 'overcast-node-agent',
      alive: true,
      admin_state_up: true,
      configurations: { bridge: 'br-int' },
      topic: 'N/A',
    });
    expect(ovs.heartbeat_timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // A second heartbeat refreshes the same agents.
    await heartbeat('compute-1');
    expect(await agentsOf('compute-1')).toHaveLength(2);

    expect((await net(alice.token, 'GET', '/v2.0/agents')).body.agents).toEqual([]);
    expect((await net(alice.token, 'GET', `/v2.0/agents/${ovs.id}`)).status).toBe(404);
    expect(
      (await net(alice.token, 'PUT', `/v2.0/agents/${ovs.id}`, { agent: { admin_state_up: false } })).status,
    ).toBe(404);
    expect((await net(alice.token, 'DELETE', `/v2.0/agents/${ovs.id}`)).status).toBe(404);
  });

  it('lets an admin disable and delete an agent', async () => {
    await heartbeat('compute-2');
    const [agent] = await agentsOf('compute-2');
    const updated = await net(admin, 'PUT', `/v2.0/agents/${agent.id}`, {
      agent: { admin_state_up: false, description: 'maintenance' },
    });
    expect(updated.body.agent).toMatchObject({ admin_state_up: false, description: 'maintenance' });
    expect(
      (await net(admin, 'PUT', `/v2.0/agents/${agent.id}`, { agent: { host: 'elsewhere' } })).status,
    ).toBe(400);
    expect((await net(admin, 'GET', `/v2.0/agents/${agent.id}?fields=alive`)).body.agent).toEqual({
      alive: true,
    });
    expect((await net(admin, 'DELETE', `/v2.0/agents/${agent.id}`)).status).toBe(204);
    const gone = await net(admin, 'GET', `/v2.0/agents/${agent.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.NeutronError.type).toBe('AgentNotFound');
  });
});

describe('RBAC policies', () => {
  let networkId: string;
  beforeAll(async () => {
    const created = await net(alice.token, 'POST', '/v2.0/networks', { network: { name: 'rbac-net' } });
    expect(created.status).toBe(201);
    networkId = created.body.network.id;
  });

  it('shares a network with one project; duplicates and wildcards by members are refused', async () => {
    const created = await net(alice.token, 'POST', '/v2.0/rbac-policies', {
      rbac_policy: {
        object_type: 'network',
        object_id: networkId,
        action: 'access_as_shared',
        target_tenant: bob.projectId,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.rbac_policy).toMatchObject({
      object_type: 'network',
      object_id: networkId,
      action: 'access_as_shared',
      target_tenant: bob.projectId,
      project_id: alice.projectId,
    });
    const again = await net(alice.token, 'POST', '/v2.0/rbac-policies', {
      rbac_policy: {
        object_type: 'network',
        object_id: networkId,
        action: 'access_as_shared',
        target_tenant: bob.projectId,
      },
    });
    expect(again.status).toBe(409);
    expect(again.body.NeutronError.type).toBe('DuplicateRbacPolicy');
    const wildcard = await net(alice.token, 'POST', '/v2.0/rbac-policies', {
      rbac_policy: {
        object_type: 'network',
        object_id: networkId,
        action: 'access_as_shared',
        target_tenant: '*',
      },
    });
    expect(wildcard.status).toBe(403);
    const id = created.body.rbac_policy.id;
    expect((await net(alice.token, 'GET', `/v2.0/rbac-policies/${id}`)).status).toBe(200);
    const hidden = await net(bob.token, 'GET', `/v2.0/rbac-policies/${id}`);
    expect(hidden.status).toBe(404);
    expect(hidden.body.NeutronError.type).toBe('RbacPolicyNotFound');
    expect((await net(bob.token, 'DELETE', `/v2.0/rbac-policies/${id}`)).status).toBe(404);
    expect((await net(bob.token, 'GET', '/v2.0/rbac-policies')).body.rbac_policies).toEqual([]);
    const mine = await net(alice.token, 'GET', '/v2.0/rbac-policies?action=access_as_shared');
    expect(mine.body.rbac_policies.map((each: { id: string }) => each.id)).toEqual([id]);

    const retargeted = await net(alice.token, 'PUT', `/v2.0/rbac-policies/${id}`, {
      rbac_policy: { target_tenant: adminProject },
    });
    expect(retargeted.body.rbac_policy.target_tenant).toBe(adminProject);
    const toAll = await net(alice.token, 'PUT', `/v2.0/rbac-policies/${id}`, {
      rbac_policy: { target_tenant: '*' },
    });
    expect(toAll.status).toBe(403);
    const objectChange = await net(alice.token, 'PUT', `/v2.0/rbac-policies/${id}`, {
      rbac_policy: { object_id: 'x' },
    });
    expect(objectChange.status).toBe(400);
    expect((await net(alice.token, 'DELETE', `/v2.0/rbac-policies/${id}`)).status).toBe(204);
    expect((await net(alice.token, 'GET', `/v2.0/rbac-policies/${id}`)).status).toBe(404);
  });

  it('lets an admin share with everyone and make a network external', async () => {
    for (const action of ['access_as_shared', 'access_as_external']) {
      const created = await net(admin, 'POST', '/v2.0/rbac-policies', {
        rbac_policy: { object_type: 'network', object_id: networkId, action, target_tenant: '*' },
      });
      expect(created.status, action).toBe(201);
    }
    const all = await net(admin, 'GET', '/v2.0/rbac-policies');
    expect(all.body.rbac_policies.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses unknown object types and actions, and missing attributes', async () => {
    const cases: Record<string, unknown>[] = [
      {
        object_type: 'qos_policy',
        object_id: networkId,
        action: 'access_as_shared',
        target_tenant: bob.projectId,
      },
      {
        object_type: 'network',
        object_id: networkId,
        action: 'access_as_owner',
        target_tenant: bob.projectId,
      },
      { object_type: 'network', object_id: networkId, action: 'access_as_shared' },
      { object_type: 'network', action: 'access_as_shared', target_tenant: bob.projectId },
      {
        object_type: 'network',
        object_id: networkId,
        action: 'access_as_shared',
        target_tenant: bob.projectId,
        colour: 1,
      },
    ];
    for (const rbac_policy of cases) {
      const response = await net(alice.token, 'POST', '/v2.0/rbac-policies', { rbac_policy });
      expect(response.status, JSON.stringify(rbac_policy)).toBe(400);
    }
  });
});

describe('the service documents', () => {
  it('lists the extensions and collections this area serves', async () => {
    const extensions = await net(alice.token, 'GET', '/v2.0/extensions');
    const aliases = extensions.body.extensions.map((extension: { alias: string }) => extension.alias);
    for (const alias of [
      'security-group',
      'stateful-security-group',
      'quotas',
      'quota_details',
      'agent',
      'rbac-policies',
    ]) {
      expect(aliases).toContain(alias);
    }
    const resources = await net(alice.token, 'GET', '/v2.0');
    const collections = resources.body.resources.map(
      (resource: { collection: string }) => resource.collection,
    );
    expect(collections).toEqual(
      expect.arrayContaining([
        'security-groups',
        'security-group-rules',
        'quotas',
        'agents',
        'rbac-policies',
      ]),
    );
  });

  it('asks for a token', async () => {
    const response = await cloud.app.inject({ method: 'GET', url: '/network/v2.0/security-groups' });
    expect(response.statusCode).toBe(401);
  });
});

// Last: these register more of the hooks the core area provides, and hooks cannot be taken back.
describe('what other areas plug in', () => {
  it("refuses deleting a group a port uses, and sharing another project's network", async () => {
    const group = (
      await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'bound' } })
    ).body.security_group;
    registerSecurityGroupUseCheck(async (_db, groupId) => groupId === group.id);
    const inUse = await net(alice.token, 'DELETE', `/v2.0/security-groups/${group.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.NeutronError.type).toBe('SecurityGroupInUse');
    const stateless = await net(alice.token, 'PUT', `/v2.0/security-groups/${group.id}`, {
      security_group: { stateful: false },
    });
    expect(stateless.status).toBe(409);
    const renamed = await net(alice.token, 'PUT', `/v2.0/security-groups/${group.id}`, {
      security_group: { name: 'still-bound', stateful: true },
    });
    expect(renamed.status).toBe(200);

    const alicesNetwork = (await net(alice.token, 'POST', '/v2.0/networks', { network: { name: 'plugged' } }))
      .body.network.id;
    const share = (token: string, objectId: string, target: string) =>
      net(token, 'POST', '/v2.0/rbac-policies', {
        rbac_policy: {
          object_type: 'network',
          object_id: objectId,
          action: 'access_as_shared',
          target_tenant: target,
        },
      });
    const missing = await share(alice.token, '3f1c2a4e-1111-4aaa-8bbb-000000000099', bob.projectId);
    expect(missing.status).toBe(404);
    expect(missing.body.NeutronError.type).toBe('NetworkNotFound');
    expect((await share(bob.token, alicesNetwork, adminProject)).status).toBe(404);
    const shared = await share(alice.token, alicesNetwork, bob.projectId);
    expect(shared.status).toBe(201);

    registerRbacPolicyUseCheck(
      async (_db, grant) => grant.object_id === alicesNetwork && grant.target_tenant === bob.projectId,
    );
    const removal = await net(alice.token, 'DELETE', `/v2.0/rbac-policies/${shared.body.rbac_policy.id}`);
    expect(removal.status).toBe(409);
    expect(removal.body.NeutronError.type).toBe('RbacPolicyInUse');
    const retarget = await net(alice.token, 'PUT', `/v2.0/rbac-policies/${shared.body.rbac_policy.id}`, {
      rbac_policy: { target_tenant: adminProject },
    });
    expect(retarget.status).toBe(409);
  });
});
