// The Port, SecurityGroup and FloatingIP actuators against the real kube-apiserver of the
// harness and the real api-server: per kind, the scenario floor of issue 6, each checked on the
// object's status and in the cloud through the Neutron API. The external network and its subnet
// are made in the cloud by the admin, as an administrator provides them, and imported by ID;
// the tenant's Project, Network, Subnet and Router are managed objects.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OpenStackClient } from '../lib/openstack/index.js';
import {
  condition,
  type Json,
  type OperatorTestbed,
  resourceCalls,
  startOperatorTestbed,
} from './harness/operator.js';

let bed: OperatorTestbed;
let cloud: OpenStackClient;
let adminProjectId: string;
let tenantProjectId: string;
/** The external network and its subnet (imported as Network/ext and Subnet/ext-subnet). */
let externalNetworkId: string;
let externalSubnetId: string;
/** The tenant network and its subnet (managed, Network/net and Subnet/net-subnet). */
let networkId: string;
let subnetId: string;
/** A network no object names, for the namesakes an import must not take. */
let otherNetworkId: string;

const neutron = () => cloud.service('network');

const { post, show, list } = resourceCalls(neutron);

async function defaultGroupId(projectId: string): Promise<string> {
  const [group] = await list('/security-groups', 'security_groups', {
    name: 'default',
    project_id: projectId,
  });
  return group.id;
}

beforeAll(async () => {
  bed = await startOperatorTestbed('opport');
  cloud = bed.cloud;
  adminProjectId = (await cloud.session.token()).projectId as string;
  // The scenarios make more groups than Neutron's default quota of 10.
  await neutron().put(`/quotas/${adminProjectId}`, { quota: { security_group: 100 } });
  externalNetworkId = (await post('/networks', 'network', { name: 'ext', 'router:external': true })).id;
  externalSubnetId = (
    await post('/subnets', 'subnet', {
      network_id: externalNetworkId,
      ip_version: 4,
      cidr: '203.0.113.0/24',
      name: 'ext-subnet',
    })
  ).id;
  otherNetworkId = (await post('/networks', 'network', { name: 'other' })).id;
  await post('/subnets', 'subnet', { network_id: otherNetworkId, ip_version: 4, cidr: '10.30.0.0/24' });
  await bed.apply('Network', 'ext', { managementPolicy: 'unmanaged', import: { id: externalNetworkId } });
  await bed.apply('Subnet', 'ext-subnet', {
    managementPolicy: 'unmanaged',
    import: { id: externalSubnetId },
  });
  await bed.apply('Project', 'tenant', { resource: { name: `tenant-${bed.namespace}` } });
  await bed.apply('Network', 'net', { resource: {} });
  await bed.apply('Subnet', 'net-subnet', { resource: { networkRef: 'net', cidr: '10.20.0.0/24' } });
  tenantProjectId = (await bed.available('Project', 'tenant')).status?.id as string;
  networkId = (await bed.available('Network', 'net')).status?.id as string;
  subnetId = (await bed.available('Subnet', 'net-subnet')).status?.id as string;
  await bed.available('Network', 'ext');
  await bed.available('Subnet', 'ext-subnet');
}, 180_000);

afterAll(async () => {
  await bed?.close();
});

describe('SecurityGroup', () => {
  it('create-minimal: a group with no rules listed has none, not even the egress rules Neutron adds', async () => {
    await bed.apply('SecurityGroup', 'bare', { resource: {} });
    const object = await bed.available('SecurityGroup', 'bare');
    const group = await show(`/security-groups/${object.status?.id}`, 'security_group');
    expect(group).toMatchObject({ name: 'bare', project_id: adminProjectId, stateful: true });
    expect(group.security_group_rules).toEqual([]);
    expect(object.status?.resource).toMatchObject({ name: 'bare', projectId: adminProjectId, rules: [] });
    expect(await bed.reasonsOf('bare')).toContain('Created');
  });

  it('create-full: every field, rules naming the group itself and another group', async () => {
    await bed.apply('SecurityGroup', 'peers', {
      resource: { projectRef: 'tenant', rules: [{ direction: 'egress' }] },
    });
    await bed.apply('SecurityGroup', 'web', {
      resource: {
        name: 'web-servers',
        description: 'web tier',
        projectRef: 'tenant',
        stateful: false,
        rules: [
          {
            direction: 'ingress',
            protocol: 'tcp',
            portRangeMin: 22,
            portRangeMax: 22,
            remoteIPPrefix: '0.0.0.0/0',
          },
          {
            direction: 'ingress',
            protocol: 'TCP',
            portRangeMin: 443,
            portRangeMax: 443,
            description: 'https',
          },
          { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp' },
          { direction: 'ingress', remoteGroupRef: 'web' },
          {
            direction: 'ingress',
            protocol: 'udp',
            portRangeMin: 53,
            portRangeMax: 53,
            remoteGroupRef: 'peers',
          },
          { direction: 'egress', ethertype: 'IPv4', remoteIPPrefix: '10.0.0.0/8' },
        ],
      },
    });
    const object = await bed.available('SecurityGroup', 'web');
    const peersId = (await bed.get('SecurityGroup', 'peers'))?.status?.id;
    const id = object.status?.id as string;
    const group = await show(`/security-groups/${id}`, 'security_group');
    expect(group).toMatchObject({
      name: 'web-servers',
      description: 'web tier',
      stateful: false,
      project_id: tenantProjectId,
    });
    const rules = group.security_group_rules.map((rule: Json) => [
      rule.direction,
      rule.ethertype,
      rule.protocol,
      rule.port_range_min,
      rule.port_range_max,
      rule.remote_ip_prefix,
      rule.remote_group_id,
    ]);
    expect(rules.sort()).toEqual(
      [
        ['ingress', 'IPv4', 'tcp', 22, 22, '0.0.0.0/0', null],
        ['ingress', 'IPv4', 'tcp', 443, 443, null, null],
        ['ingress', 'IPv6', expect.stringMatching(/^(icmp|ipv6-icmp)$/), null, null, null, null],
        ['ingress', 'IPv4', null, null, null, null, id],
        ['ingress', 'IPv4', 'udp', 53, 53, null, peersId],
        ['egress', 'IPv4', null, null, null, '10.0.0.0/8', null],
      ].sort(),
    );
    expect(object.status?.resource?.rules).toHaveLength(6);
    // The other group is held while a rule names it; the group itself is no dependency.
    expect((await bed.get('SecurityGroup', 'peers'))?.metadata.finalizers).toBeDefined();
    expect(condition(object, 'Progressing')?.reason).toBe('Success');
  });

  it('update: a rule added, one removed and the description changed, with an Updated Event', async () => {
    const before = await bed.get('SecurityGroup', 'web');
    const id = before?.status?.id as string;
    const previousRuleIds = new Set(
      (await show(`/security-groups/${id}`, 'security_group')).security_group_rules.map(
        (rule: Json) => rule.id,
      ),
    );
    await bed.apply('SecurityGroup', 'web', {
      resource: {
        name: 'web-servers',
        description: 'web tier, port 80 too',
        projectRef: 'tenant',
        stateful: false,
        rules: [
          { direction: 'ingress', protocol: '6', portRangeMin: 22, portRangeMax: 22 },
          { direction: 'ingress', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 },
        ],
      },
    });
    await bed.until('SecurityGroup', 'web', (object) => {
      expect(object.status?.resource?.description).toBe('web tier, port 80 too');
      expect(condition(object, 'Available')?.observedGeneration).toBe(object.metadata.generation);
    });
    const rules = (await show(`/security-groups/${id}`, 'security_group')).security_group_rules;
    expect(rules.map((rule: Json) => rule.port_range_min).sort()).toEqual([22, 80]);
    // The port 22 rule written "6" is the rule Neutron already had, not a new one.
    expect(previousRuleIds.has(rules.find((rule: Json) => rule.port_range_min === 22).id)).toBe(true);
    expect((await bed.eventsOf('web')).find((event) => event.reason === 'Updated')?.message).toContain(
      'resource.rules',
    );
    // Nothing names the other group now: it can go.
    await bed.remove('SecurityGroup', 'peers');
  });

  it('dependency: a rule naming a group not there yet waits for it, in plain words', async () => {
    await bed.apply('SecurityGroup', 'early', {
      resource: { rules: [{ direction: 'ingress', remoteGroupRef: 'late' }] },
    });
    const waiting = await bed.progressing('SecurityGroup', 'early', 'WaitingForDependency', 'True');
    expect(condition(waiting, 'Progressing')?.message).toBe('Waiting for SecurityGroup/late to be available');
    await bed.apply('SecurityGroup', 'late', { resource: {} });
    const lateId = (await bed.available('SecurityGroup', 'late')).status?.id;
    const object = await bed.available('SecurityGroup', 'early');
    expect(object.status?.resource?.rules).toEqual([
      expect.objectContaining({ direction: 'ingress', remoteGroupId: lateId }),
    ]);
  });

  it('import-dependency: a filter naming its projectRef takes the group there, not a namesake elsewhere', async () => {
    const wanted = await post('/security-groups', 'security_group', {
      name: 'shared-sg',
      project_id: tenantProjectId,
    });
    // Traps: the same name in the admin's project (which the admin's credentials list too), and
    // a longer name in the right project.
    await post('/security-groups', 'security_group', { name: 'shared-sg' });
    await post('/security-groups', 'security_group', { name: 'shared-sg-2', project_id: tenantProjectId });
    await bed.apply('SecurityGroup', 'imported-sg', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'shared-sg', projectRef: 'tenant' } },
    });
    const imported = await bed.available('SecurityGroup', 'imported-sg');
    expect(imported.status?.id).toBe(wanted.id);
    // An imported group's rules (Neutron's two egress rules) are reported, never changed.
    expect(imported.status?.resource?.rules).toHaveLength(2);
    expect((await show(`/security-groups/${wanted.id}`, 'security_group')).security_group_rules).toHaveLength(
      2,
    );
    // Without the project, the name alone matches two: terminal.
    await bed.apply('SecurityGroup', 'ambiguous-sg', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'shared-sg' } },
    });
    const ambiguous = await bed.progressing('SecurityGroup', 'ambiguous-sg', 'InvalidConfiguration');
    expect(condition(ambiguous, 'Progressing')?.message).toBe(
      '2 SecurityGroups match the import filter; it must match exactly one',
    );
  });

  it('resync: a rule added behind the operator is removed again with resyncPeriod 2s, and left with 0s', async () => {
    await bed.apply('SecurityGroup', 'watched', { resource: { rules: [] }, resyncPeriod: '2s' });
    await bed.apply('SecurityGroup', 'unwatched', { resource: { rules: [] }, resyncPeriod: '0s' });
    const watched = (await bed.available('SecurityGroup', 'watched')).status?.id;
    const unwatched = (await bed.available('SecurityGroup', 'unwatched')).status?.id;
    for (const id of [watched, unwatched])
      await post('/security-group-rules', 'security_group_rule', {
        security_group_id: id,
        direction: 'ingress',
      });
    await vi.waitFor(
      async () =>
        expect((await show(`/security-groups/${watched}`, 'security_group')).security_group_rules).toEqual(
          [],
        ),
      { timeout: 20_000, interval: 250 },
    );
    expect((await show(`/security-groups/${unwatched}`, 'security_group')).security_group_rules).toHaveLength(
      1,
    );
  });
});

describe('Port', () => {
  it('create-minimal: a port on the network, with an address and the default group', async () => {
    await bed.apply('Port', 'plain', { resource: { networkRef: 'net' } });
    const object = await bed.available('Port', 'plain');
    const port = await show(`/ports/${object.status?.id}`, 'port');
    expect(port).toMatchObject({
      name: 'plain',
      network_id: networkId,
      project_id: adminProjectId,
      admin_state_up: true,
    });
    expect(port.fixed_ips).toEqual([
      { subnet_id: subnetId, ip_address: expect.stringMatching(/^10\.20\.0\./) },
    ]);
    expect(port.security_groups).toEqual([await defaultGroupId(adminProjectId)]);
    expect(object.status?.resource).toMatchObject({ networkId, fixedIPs: [{ subnetId }] });
  });

  it('create-full: every field, checked in the cloud', async () => {
    await bed.apply('SecurityGroup', 'full-sg', { resource: { projectRef: 'tenant' } });
    await bed.apply('Port', 'full', {
      resource: {
        name: 'full-port',
        description: 'every field',
        networkRef: 'net',
        projectRef: 'tenant',
        adminStateUp: false,
        macAddress: 'fa:16:3e:12:34:56',
        fixedIPs: [{ subnetRef: 'net-subnet', ipAddress: '10.20.0.50' }],
        securityGroupRefs: ['full-sg'],
        portSecurityEnabled: true,
        allowedAddressPairs: [
          { ipAddress: '10.20.0.128/28' },
          { ipAddress: '10.20.0.9', macAddress: 'fa:16:3e:00:00:09' },
        ],
      },
    });
    const object = await bed.available('Port', 'full');
    const port = await show(`/ports/${object.status?.id}`, 'port');
    expect(port).toMatchObject({
      name: 'full-port',
      description: 'every field',
      project_id: tenantProjectId,
      admin_state_up: false,
      mac_address: 'fa:16:3e:12:34:56',
      fixed_ips: [{ subnet_id: subnetId, ip_address: '10.20.0.50' }],
      security_groups: [(await bed.get('SecurityGroup', 'full-sg'))?.status?.id],
      port_security_enabled: true,
    });
    expect(port.allowed_address_pairs).toEqual(
      expect.arrayContaining([
        { ip_address: '10.20.0.128/28', mac_address: 'fa:16:3e:12:34:56' },
        { ip_address: '10.20.0.9', mac_address: 'fa:16:3e:00:00:09' },
      ]),
    );
    // The group a port uses is held: deleting it waits for the port.
    await bed.kubectl([
      'delete',
      'securitygroups.openstack.overcast.dev',
      'full-sg',
      '-n',
      bed.namespace,
      '--wait=false',
    ]);
    const held = await bed.progressing('SecurityGroup', 'full-sg', 'WaitingForDependency', 'True');
    expect(condition(held, 'Progressing')?.message).toBe('Waiting for Port/full to be deleted first');
  });

  it('update: description, admin state, address, groups back to the default, pairs and port security', async () => {
    const id = (await bed.get('Port', 'full'))?.status?.id as string;
    await bed.apply('Port', 'full', {
      resource: {
        name: 'full-port',
        description: 'changed',
        networkRef: 'net',
        projectRef: 'tenant',
        macAddress: 'fa:16:3e:12:34:56',
        fixedIPs: [{ subnetRef: 'net-subnet', ipAddress: '10.20.0.51' }],
        allowedAddressPairs: [],
      },
    });
    await bed.until('Port', 'full', (object) => {
      expect(object.status?.resource?.description).toBe('changed');
      expect(condition(object, 'Available')?.observedGeneration).toBe(object.metadata.generation);
    });
    const port = await show(`/ports/${id}`, 'port');
    expect(port).toMatchObject({
      description: 'changed',
      admin_state_up: true,
      fixed_ips: [{ subnet_id: subnetId, ip_address: '10.20.0.51' }],
      security_groups: [await defaultGroupId(tenantProjectId)],
      allowed_address_pairs: [],
    });
    expect((await bed.eventsOf('full')).find((event) => event.reason === 'Updated')?.message).toContain(
      'resource.description',
    );
    // The group is no longer used: its deletion goes through.
    await vi.waitFor(async () => expect(await bed.get('SecurityGroup', 'full-sg')).toBeUndefined(), {
      timeout: 30_000,
      interval: 250,
    });
    // Port security off takes the groups off in the same update.
    await bed.apply('Port', 'full', {
      resource: {
        name: 'full-port',
        networkRef: 'net',
        projectRef: 'tenant',
        macAddress: 'fa:16:3e:12:34:56',
        portSecurityEnabled: false,
      },
    });
    await vi.waitFor(
      async () =>
        expect(await show(`/ports/${id}`, 'port')).toMatchObject({
          port_security_enabled: false,
          security_groups: [],
        }),
      { timeout: 30_000, interval: 250 },
    );
  });

  it('dependency: a port applied before its network and group waits, then is made', async () => {
    await bed.apply('Port', 'early-port', {
      resource: { networkRef: 'late-net', securityGroupRefs: ['late-sg'] },
    });
    const waiting = await bed.progressing('Port', 'early-port', 'WaitingForDependency', 'True');
    expect(condition(waiting, 'Progressing')?.message).toBe('Waiting for Network/late-net to be available');
    await bed.apply('Network', 'late-net', { resource: {} });
    await bed.apply('SecurityGroup', 'late-sg', { resource: {} });
    const object = await bed.available('Port', 'early-port');
    const port = await show(`/ports/${object.status?.id}`, 'port');
    expect(port.network_id).toBe((await bed.get('Network', 'late-net'))?.status?.id);
    expect(port.security_groups).toEqual([(await bed.get('SecurityGroup', 'late-sg'))?.status?.id]);
  });

  it('import-dependency: a filter naming its networkRef takes the port on that network, not a namesake', async () => {
    const wanted = await post('/ports', 'port', { name: 'shared-port', network_id: networkId });
    await post('/ports', 'port', { name: 'shared-port', network_id: otherNetworkId });
    await bed.apply('Port', 'imported-port', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'shared-port', networkRef: 'net' } },
    });
    const imported = await bed.available('Port', 'imported-port');
    expect(imported.status?.id).toBe(wanted.id);
    expect(imported.status?.resource).toMatchObject({ name: 'shared-port', networkId });
    // Without the network, the name alone matches both: terminal.
    await bed.apply('Port', 'ambiguous-port', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'shared-port' } },
    });
    const ambiguous = await bed.progressing('Port', 'ambiguous-port', 'InvalidConfiguration');
    expect(condition(ambiguous, 'Progressing')?.message).toBe(
      '2 Ports match the import filter; it must match exactly one',
    );
    await bed.remove('Port', 'ambiguous-port');
    // Imported, so left in the cloud; removed there so that the Subnet and Network can go.
    await bed.remove('Port', 'imported-port');
    expect(await show(`/ports/${wanted.id}`, 'port')).toBeDefined();
    await neutron().delete(`/ports/${wanted.id}`);
  });
});

describe('FloatingIP', () => {
  let routerId: string;

  it('create-minimal: an address of the external network, unbound, with no description left behind', async () => {
    await bed.apply('FloatingIP', 'fip', { resource: { externalNetworkRef: 'ext' } });
    const object = await bed.available('FloatingIP', 'fip');
    const fip = await show(`/floatingips/${object.status?.id}`, 'floatingip');
    expect(fip).toMatchObject({
      floating_network_id: externalNetworkId,
      project_id: adminProjectId,
      port_id: null,
      description: '',
    });
    expect(fip.floating_ip_address).toMatch(/^203\.0\.113\./);
    expect(object.status?.resource).toMatchObject({
      floatingIPAddress: fip.floating_ip_address,
      status: 'DOWN',
    });
  });

  it('create-full, bound: waits (TransientError, not terminal) while no router reaches the port, binds once one does', async () => {
    await bed.apply('Port', 'server-port', {
      resource: { networkRef: 'net', projectRef: 'tenant', fixedIPs: [{ ipAddress: '10.20.0.60' }] },
    });
    await bed.apply('FloatingIP', 'bound', {
      resource: {
        externalNetworkRef: 'ext',
        subnetRef: 'ext-subnet',
        projectRef: 'tenant',
        description: 'for the web server',
        floatingIPAddress: '203.0.113.77',
        portRef: 'server-port',
        fixedIPAddress: '10.20.0.60',
      },
    });
    const waiting = await bed.progressing('FloatingIP', 'bound', 'TransientError', 'True');
    expect(condition(waiting, 'Progressing')?.message).toContain(
      'Waiting for a router with a gateway on the external network to reach Port/server-port',
    );
    // The address is allocated all the same, its ID recorded.
    expect(waiting.status?.id).toBeDefined();
    // The router and its interface on the port's subnet come later, as the Nebula example
    // may bring them: the binding goes through without touching the FloatingIP.
    await bed.apply('Router', 'edge', { resource: { externalGateway: { externalNetworkRef: 'ext' } } });
    routerId = (await bed.available('Router', 'edge')).status?.id as string;
    await bed.apply('Subnet', 'net-subnet', {
      resource: { networkRef: 'net', cidr: '10.20.0.0/24', routerRef: 'edge' },
    });
    const object = await bed.available('FloatingIP', 'bound');
    const portId = (await bed.get('Port', 'server-port'))?.status?.id;
    const fip = await show(`/floatingips/${object.status?.id}`, 'floatingip');
    expect(fip).toMatchObject({
      floating_ip_address: '203.0.113.77',
      floating_network_id: externalNetworkId,
      project_id: tenantProjectId,
      description: 'for the web server',
      port_id: portId,
      fixed_ip_address: '10.20.0.60',
      router_id: routerId,
    });
    expect(object.status?.resource).toMatchObject({ portId, fixedIPAddress: '10.20.0.60', routerId });
  });

  it('update: unbinding (portRef removed) and a new description, with an Updated Event', async () => {
    const id = (await bed.get('FloatingIP', 'bound'))?.status?.id as string;
    await bed.apply('FloatingIP', 'bound', {
      resource: {
        externalNetworkRef: 'ext',
        subnetRef: 'ext-subnet',
        projectRef: 'tenant',
        description: 'spare',
        floatingIPAddress: '203.0.113.77',
      },
    });
    await bed.until('FloatingIP', 'bound', (object) => {
      expect(object.status?.resource?.description).toBe('spare');
      expect(object.status?.resource?.portId).toBeUndefined();
      expect(condition(object, 'Available')?.observedGeneration).toBe(object.metadata.generation);
    });
    expect(await show(`/floatingips/${id}`, 'floatingip')).toMatchObject({
      port_id: null,
      description: 'spare',
    });
    expect(await bed.reasonsOf('bound')).toContain('Updated');
    // And bound again to a port that appears later (dependency).
    await bed.apply('FloatingIP', 'bound', {
      resource: {
        externalNetworkRef: 'ext',
        subnetRef: 'ext-subnet',
        projectRef: 'tenant',
        description: 'spare',
        floatingIPAddress: '203.0.113.77',
        portRef: 'late-port',
      },
    });
    const waiting = await bed.progressing('FloatingIP', 'bound', 'WaitingForDependency', 'True');
    expect(condition(waiting, 'Progressing')?.message).toBe('Waiting for Port/late-port to be available');
    await bed.apply('Port', 'late-port', { resource: { networkRef: 'net', projectRef: 'tenant' } });
    const lateId = (await bed.available('Port', 'late-port')).status?.id;
    await bed.until('FloatingIP', 'bound', (object) => expect(object.status?.resource?.portId).toBe(lateId));
  });

  it("adopts the address a create before a crash left (its marker), never another object's", async () => {
    await bed.operator.close();
    await bed.apply('FloatingIP', 'crashed', { resource: { externalNetworkRef: 'ext' } });
    const uid = (
      await bed.kubectl([
        'get',
        'floatingips.openstack.overcast.dev',
        'crashed',
        '-n',
        bed.namespace,
        '-o',
        'jsonpath={.metadata.uid}',
      ])
    ).stdout;
    const marker = (name: string, objectUid: string) =>
      `Being created by the Overcast operator for FloatingIP ${bed.namespace}/${name} (${objectUid})`;
    const leftBehind = await post('/floatingips', 'floatingip', {
      floating_network_id: externalNetworkId,
      description: marker('crashed', uid),
    });
    const trap = await post('/floatingips', 'floatingip', {
      floating_network_id: externalNetworkId,
      description: marker('crashed', 'another-object-uid'),
    });
    await bed.restartOperator();
    const object = await bed.available('FloatingIP', 'crashed');
    expect(object.status?.id).toBe(leftBehind.id);
    expect(await bed.reasonsOf('crashed')).toEqual(['Adopted']);
    expect((await show(`/floatingips/${leftBehind.id}`, 'floatingip')).description).toBe('');
    expect((await show(`/floatingips/${trap.id}`, 'floatingip')).description).toBe(trap.description);
  });

  it('import-dependency: a filter naming its address and externalNetworkRef, next to another address', async () => {
    const wanted = await post('/floatingips', 'floatingip', {
      floating_network_id: externalNetworkId,
      floating_ip_address: '203.0.113.88',
    });
    await post('/floatingips', 'floatingip', {
      floating_network_id: externalNetworkId,
      floating_ip_address: '203.0.113.89',
    });
    await bed.apply('FloatingIP', 'imported-fip', {
      managementPolicy: 'unmanaged',
      import: { filter: { floatingIPAddress: '203.0.113.88', externalNetworkRef: 'ext' } },
    });
    expect((await bed.available('FloatingIP', 'imported-fip')).status?.id).toBe(wanted.id);
    // Several match: terminal.
    await bed.apply('FloatingIP', 'any-fip', {
      managementPolicy: 'unmanaged',
      import: { filter: { externalNetworkRef: 'ext' } },
    });
    const ambiguous = await bed.progressing('FloatingIP', 'any-fip', 'InvalidConfiguration');
    expect(condition(ambiguous, 'Progressing')?.message).toMatch(/^\d+ FloatingIPs match the import filter/);
  });
});

/** What each kind needs for the scenarios all three share. */
const KINDS: {
  kind: string;
  path: string;
  key: string;
  /** A resource made in the cloud, as someone else would: its ID. */
  make(name: string): Promise<string>;
  /** A managed object's spec.resource with the given description. */
  resource(description: string): Record<string, unknown>;
}[] = [
  {
    kind: 'Port',
    path: '/ports',
    key: 'port',
    make: async (name) => (await post('/ports', 'port', { name, network_id: otherNetworkId })).id,
    resource: (description) => ({ networkRef: 'net', description }),
  },
  {
    kind: 'SecurityGroup',
    path: '/security-groups',
    key: 'security_group',
    make: async (name) => (await post('/security-groups', 'security_group', { name })).id,
    resource: (description) => ({ description }),
  },
  {
    kind: 'FloatingIP',
    path: '/floatingips',
    key: 'floatingip',
    make: async () =>
      (await post('/floatingips', 'floatingip', { floating_network_id: externalNetworkId })).id,
    resource: (description) => ({ externalNetworkRef: 'ext', description }),
  },
];

describe.each(KINDS)('$kind, as every kind', ({ kind, path, key, make, resource }) => {
  const prefix = kind.toLowerCase();

  it('import by id; the imported resource deleted from the cloud is UnrecoverableError', async () => {
    const id = await make(`${prefix}-by-id`);
    await bed.apply(kind, `${prefix}-by-id`, {
      managementPolicy: 'unmanaged',
      import: { id },
      resyncPeriod: '2s',
    });
    expect((await bed.available(kind, `${prefix}-by-id`)).status?.id).toBe(id);
    await neutron().delete(`${path}/${id}`);
    const broken = await bed.progressing(kind, `${prefix}-by-id`, 'UnrecoverableError');
    expect(condition(broken, 'Available')?.status).toBe('False');
    await bed.remove(kind, `${prefix}-by-id`);
  });

  it('import-error: an ID that does not exist is terminal', async () => {
    await bed.apply(kind, `${prefix}-missing`, {
      managementPolicy: 'unmanaged',
      import: { id: '00000000-0000-4000-8000-000000000000' },
    });
    const missing = await bed.progressing(kind, `${prefix}-missing`, 'InvalidConfiguration');
    expect(condition(missing, 'Progressing')?.message).toBe(
      `No ${kind} has the ID 00000000-0000-4000-8000-000000000000`,
    );
    await bed.remove(kind, `${prefix}-missing`);
  });

  it('external-deletion: a managed resource deleted behind the operator is made again, with an Event', async () => {
    await bed.apply(kind, `${prefix}-drift`, { resource: resource('as specified'), resyncPeriod: '2s' });
    const first = (await bed.available(kind, `${prefix}-drift`)).status?.id as string;
    await neutron().delete(`${path}/${first}`);
    const again = await bed.until(kind, `${prefix}-drift`, (object) => {
      expect(object.status?.id).not.toBe(first);
      expect(condition(object, 'Available')?.status).toBe('True');
      return object.status?.id as string;
    });
    expect(await show(`${path}/${again}`, key)).toMatchObject({ description: 'as specified' });
    expect(await bed.reasonsOf(`${prefix}-drift`)).toContain('ExternalDeletion');
  });

  it('resync: a description changed behind the operator is put back with 2s, and left with 0s', async () => {
    await bed.apply(kind, `${prefix}-still`, { resource: resource('as specified'), resyncPeriod: '0s' });
    const still = (await bed.available(kind, `${prefix}-still`)).status?.id as string;
    const watched = (await bed.get(kind, `${prefix}-drift`))?.status?.id as string;
    for (const id of [watched, still])
      await neutron().put(`${path}/${id}`, { [key]: { description: 'changed' } });
    await vi.waitFor(
      async () => expect((await show(`${path}/${watched}`, key)).description).toBe('as specified'),
      {
        timeout: 20_000,
        interval: 250,
      },
    );
    expect((await show(`${path}/${still}`, key)).description).toBe('changed');
  });
});

describe('deletion', () => {
  it('deleting the objects deletes what they made, the floating IP before the port it is bound to', async () => {
    const fip = (await bed.get('FloatingIP', 'bound'))?.status?.id as string;
    const port = (await bed.get('Port', 'late-port'))?.status?.id as string;
    const group = (await bed.get('SecurityGroup', 'web'))?.status?.id as string;
    await bed.kubectl([
      'delete',
      'ports.openstack.overcast.dev',
      'late-port',
      '-n',
      bed.namespace,
      '--wait=false',
    ]);
    await bed.remove('FloatingIP', 'bound');
    await bed.remove('SecurityGroup', 'web');
    await vi.waitFor(async () => expect(await bed.get('Port', 'late-port')).toBeUndefined(), {
      timeout: 30_000,
      interval: 250,
    });
    expect(await show(`/floatingips/${fip}`, 'floatingip')).toBeUndefined();
    expect(await show(`/ports/${port}`, 'port')).toBeUndefined();
    expect(await show(`/security-groups/${group}`, 'security_group')).toBeUndefined();
  });
});
