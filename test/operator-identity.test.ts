// The Project, User and ApplicationCredential actuators against the real kube-apiserver of the
// harness and the real api-server: per kind, the scenario floor of issue 6, each checked on the
// object's status and in the cloud through the Keystone (and Neutron) API. Users, groups and
// domains the objects name but do not manage are made in the cloud by the admin, as an
// administrator provides them.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type OpenStackClient, Unauthorized } from '../lib/openstack/index.js';
import {
  condition,
  type Json,
  type OperatorTestbed,
  resourceCalls,
  startOperatorTestbed,
} from './harness/operator.js';

let bed: OperatorTestbed;
let cloud: OpenStackClient;
/** A second domain, for the namesakes an adoption or import must not take. */
let otherDomainId: string;
let memberRoleId: string;
let readerRoleId: string;

const keystone = () => cloud.service('identity');

const { post, show, list } = resourceCalls(keystone);

/** The project's direct grants as "user/<id>/<role id>" and "group/<id>/<role id>". */
async function grantsOn(projectId: string): Promise<string[]> {
  const assignments = await list('/role_assignments', 'role_assignments', { 'scope.project.id': projectId });
  return assignments
    .map((assignment) =>
      assignment.user
        ? `user/${assignment.user.id}/${assignment.role.id}`
        : `group/${assignment.group.id}/${assignment.role.id}`,
    )
    .sort();
}

/** Creates or replaces a Secret of the namespace holding `data`. */
async function secret(name: string, data: Record<string, string>): Promise<void> {
  const { stdout } = await bed.kubectl([
    'create',
    'secret',
    'generic',
    name,
    '-n',
    bed.namespace,
    ...Object.entries(data).map(([key, value]) => `--from-literal=${key}=${value}`),
    '--dry-run=client',
    '-o',
    'yaml',
  ]);
  await bed.kubectl(['apply', '-f', '-'], stdout);
}

/** Whether Keystone issues a token for these credentials (a client of the same cloud). */
async function tokenFor(
  ...[authType, auth]: Parameters<OpenStackClient['withAuth']>
): Promise<{ userId: string; projectId: string | undefined } | undefined> {
  const client = cloud.withAuth(authType, auth);
  try {
    const token = await client.session.token();
    return { userId: token.userId, projectId: token.projectId };
  } catch (error) {
    if (error instanceof Unauthorized) return undefined;
    throw error;
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  bed = await startOperatorTestbed('opid');
  cloud = bed.cloud;
  otherDomainId = (await post('/domains', 'domain', { name: `other-${bed.namespace}` })).id;
  [memberRoleId, readerRoleId] = await Promise.all(
    ['member', 'reader'].map(async (name) => (await list('/roles', 'roles', { name }))[0].id),
  );
}, 180_000);

afterAll(async () => {
  await bed?.close();
});

describe('Project', () => {
  it('create-minimal: a project of the object name in the credentials domain, enabled', async () => {
    await bed.apply('Project', 'minimal', { resource: {} });
    const object = await bed.available('Project', 'minimal');
    const project = await show(`/projects/${object.status?.id}`, 'project');
    expect(project).toMatchObject({ name: 'minimal', domain_id: 'default', enabled: true });
    // Keystone shows a project created without a description with an empty one.
    expect(object.status?.resource).toEqual({
      name: 'minimal',
      description: '',
      domainId: 'default',
      enabled: true,
      tags: [],
    });
    expect(await bed.reasonsOf('minimal')).toContain('Created');
  });

  it('create-full: every field, role bindings for a User object, a user and a group, and the network quota', async () => {
    const existing = await post('/users', 'user', {
      name: `existing-${bed.namespace}`,
      domain_id: 'default',
    });
    const group = await post('/groups', 'group', { name: `team-${bed.namespace}`, domain_id: 'default' });
    await bed.apply('User', 'full-member', { resource: {} });
    await bed.apply('Project', 'full', {
      resource: {
        name: `full-${bed.namespace}`,
        description: 'every field',
        domainId: 'default',
        enabled: false,
        tags: ['blue', 'green'],
        roleBindings: [
          { role: 'member', userRef: 'full-member' },
          { role: 'reader', user: existing.name },
          { role: 'member', group: group.name },
        ],
        quota: {
          networks: 3,
          subnets: 4,
          ports: 20,
          routers: 1,
          floatingIPs: 2,
          securityGroups: 5,
          securityGroupRules: 30,
        },
      },
    });
    const object = await bed.available('Project', 'full');
    const id = object.status?.id as string;
    expect(await show(`/projects/${id}`, 'project')).toMatchObject({
      name: `full-${bed.namespace}`,
      description: 'every field',
      domain_id: 'default',
      enabled: false,
      tags: ['blue', 'green'],
    });
    expect(object.status?.resource).toMatchObject({ description: 'every field', enabled: false });
    const userId = (await bed.get('User', 'full-member'))?.status?.id;
    expect(await grantsOn(id)).toEqual(
      [
        `user/${userId}/${memberRoleId}`,
        `user/${existing.id}/${readerRoleId}`,
        `group/${group.id}/${memberRoleId}`,
      ].sort(),
    );
    const quota = (await cloud.service('network').get<Json>(`/quotas/${id}`)).body.quota;
    expect(quota).toMatchObject({
      network: 3,
      subnet: 4,
      port: 20,
      router: 1,
      floatingip: 2,
      security_group: 5,
      security_group_rule: 30,
    });
    // The grants were made at create: no Updated Event for them.
    expect(await bed.reasonsOf('full')).toEqual(['Created']);
  });

  it('compute quotas this cloud does not serve are InvalidConfiguration in plain words; the network quota still applies', async () => {
    await bed.apply('Project', 'compute-quota', {
      resource: { quota: { instances: 2, cores: 4, networks: 7 } },
    });
    const object = await bed.progressing('Project', 'compute-quota', 'InvalidConfiguration');
    expect(condition(object, 'Progressing')?.message).toBe(
      "This cloud's compute service does not serve quotas (os-quota-sets), so quota.instances, quota.cores and quota.ramMegabytes cannot be set; remove them (the network quotas are set)",
    );
    const quota = (await cloud.service('network').get<Json>(`/quotas/${object.status?.id}`)).body.quota;
    expect(quota.network).toBe(7);
    // Without them, it goes on.
    await bed.apply('Project', 'compute-quota', { resource: { quota: { networks: 7 } } });
    await bed.available('Project', 'compute-quota');
  });

  it("update: attributes and bindings change; the operator's own grant is revoked, a grant it did not make is not", async () => {
    const alice = await post('/users', 'user', { name: `alice-${bed.namespace}`, domain_id: 'default' });
    const bob = await post('/users', 'user', { name: `bob-${bed.namespace}`, domain_id: 'default' });
    await bed.apply('Project', 'changing', {
      resource: { description: 'before', roleBindings: [{ role: 'member', user: alice.name }] },
    });
    const id = (await bed.available('Project', 'changing')).status?.id as string;
    // Bob had the role before any binding named him: an administrator's grant.
    await keystone().put(`/projects/${id}/users/${bob.id}/roles/${readerRoleId}`);
    await bed.apply('Project', 'changing', {
      resource: {
        description: 'after',
        tags: ['changed'],
        roleBindings: [{ role: 'reader', user: bob.name }],
      },
    });
    await bed.until('Project', 'changing', (object) => {
      expect(object.status?.resource).toMatchObject({ description: 'after', tags: ['changed'] });
      expect(condition(object, 'Available')?.observedGeneration).toBe(object.metadata.generation);
    });
    expect(await grantsOn(id)).toEqual([`user/${bob.id}/${readerRoleId}`]);
    const updated = (await bed.eventsOf('changing')).find((event) => event.reason === 'Updated');
    expect(updated?.message).toContain('resource.description');
    // Bob's binding goes: the grant was there before the operator, so it stays.
    await bed.apply('Project', 'changing', { resource: { description: 'after', tags: ['changed'] } });
    await bed.until('Project', 'changing', (object) =>
      expect(condition(object, 'Available')?.observedGeneration).toBe(object.metadata.generation),
    );
    expect(await grantsOn(id)).toEqual([`user/${bob.id}/${readerRoleId}`]);
  });

  it('remembers its grants across a restart: a binding removed while no operator ran is revoked', async () => {
    const carol = await post('/users', 'user', { name: `carol-${bed.namespace}`, domain_id: 'default' });
    await bed.apply('Project', 'restarted', {
      resource: { roleBindings: [{ role: 'member', user: carol.name }] },
    });
    const id = (await bed.available('Project', 'restarted')).status?.id as string;
    expect(await grantsOn(id)).toEqual([`user/${carol.id}/${memberRoleId}`]);
    await bed.operator.close();
    await bed.apply('Project', 'restarted', { resource: {} });
    await bed.restartOperator();
    await vi.waitFor(async () => expect(await grantsOn(id)).toEqual([]), { timeout: 30_000, interval: 250 });
  });

  it('dependency: a binding naming a User object not there yet waits for it, in plain words', async () => {
    await bed.apply('Project', 'waiting', {
      resource: { roleBindings: [{ role: 'member', userRef: 'late' }] },
    });
    const waiting = await bed.progressing('Project', 'waiting', 'WaitingForDependency', 'True');
    expect(condition(waiting, 'Progressing')?.message).toBe('Waiting for User/late to be available');
    await bed.apply('User', 'late', { resource: {} });
    const id = (await bed.available('Project', 'waiting')).status?.id as string;
    const userId = (await bed.get('User', 'late'))?.status?.id;
    expect(await grantsOn(id)).toEqual([`user/${userId}/${memberRoleId}`]);
  });

  it('adopts the project a create before a crash left, not a namesake in another domain', async () => {
    const name = `crashed-${bed.namespace}`;
    const leftBehind = await post('/projects', 'project', { name, domain_id: 'default' });
    const trap = await post('/projects', 'project', { name, domain_id: otherDomainId });
    await bed.apply('Project', 'crashed', { resource: { name } });
    const object = await bed.available('Project', 'crashed');
    expect(object.status?.id).toBe(leftBehind.id);
    expect(await bed.reasonsOf('crashed')).toEqual(['Adopted']);
    expect(await show(`/projects/${trap.id}`, 'project')).toBeDefined();
  });

  it('import by filter (name, domain and tags) takes the one project, not the namesakes; by id too', async () => {
    const name = `shared-${bed.namespace}`;
    const target = await post('/projects', 'project', {
      name,
      domain_id: otherDomainId,
      tags: ['import-me'],
    });
    await post('/projects', 'project', { name, domain_id: 'default', tags: ['import-me'] });
    await post('/projects', 'project', { name: `${name}-untagged`, domain_id: otherDomainId });
    await bed.apply('Project', 'imported', {
      managementPolicy: 'unmanaged',
      import: { filter: { name, domainId: otherDomainId, tags: ['import-me'] } },
    });
    const imported = await bed.available('Project', 'imported');
    expect(imported.status?.id).toBe(target.id);
    expect(imported.status?.resource).toMatchObject({ name, domainId: otherDomainId, tags: ['import-me'] });
    await bed.apply('Project', 'by-id', { managementPolicy: 'unmanaged', import: { id: target.id } });
    expect((await bed.available('Project', 'by-id')).status?.id).toBe(target.id);
    // Imports leave the cloud as it is when they go.
    await bed.remove('Project', 'by-id');
    expect(await show(`/projects/${target.id}`, 'project')).toBeDefined();
  });

  it('import-error: a filter matching several, and an ID that does not exist, are terminal', async () => {
    for (const name of ['twin-a', 'twin-b'])
      await post('/projects', 'project', {
        name: `${name}-${bed.namespace}`,
        tags: [`twins-${bed.namespace}`],
      });
    await bed.apply('Project', 'ambiguous', {
      managementPolicy: 'unmanaged',
      import: { filter: { tags: [`twins-${bed.namespace}`] } },
    });
    const ambiguous = await bed.progressing('Project', 'ambiguous', 'InvalidConfiguration');
    expect(condition(ambiguous, 'Progressing')?.message).toBe(
      '2 Projects match the import filter; it must match exactly one',
    );
    await bed.apply('Project', 'missing', {
      managementPolicy: 'unmanaged',
      import: { id: '0123456789abcdef0123456789abcdef' },
    });
    const missing = await bed.progressing('Project', 'missing', 'InvalidConfiguration');
    expect(condition(missing, 'Progressing')?.message).toBe(
      'No Project has the ID 0123456789abcdef0123456789abcdef',
    );
  });

  it('external-deletion: a managed project is made again with an Event; an imported one is UnrecoverableError', async () => {
    await bed.apply('Project', 'vanishing', { resource: {}, resyncPeriod: '2s' });
    const first = (await bed.available('Project', 'vanishing')).status?.id as string;
    await keystone().delete(`/projects/${first}`);
    const again = await bed.until('Project', 'vanishing', (object) => {
      expect(object.status?.id).not.toBe(first);
      expect(condition(object, 'Available')?.status).toBe('True');
      return object.status?.id as string;
    });
    expect(await show(`/projects/${again}`, 'project')).toMatchObject({ name: 'vanishing' });
    expect(await bed.reasonsOf('vanishing')).toContain('ExternalDeletion');

    const target = await post('/projects', 'project', { name: `gone-${bed.namespace}` });
    await bed.apply('Project', 'gone', {
      managementPolicy: 'unmanaged',
      import: { id: target.id },
      resyncPeriod: '2s',
    });
    await bed.available('Project', 'gone');
    await keystone().delete(`/projects/${target.id}`);
    const gone = await bed.progressing('Project', 'gone', 'UnrecoverableError');
    expect(condition(gone, 'Available')?.status).toBe('False');
  });

  it('resync: a description and a revoked grant changed behind the operator are put back with 2s, left with 0s', async () => {
    const dave = await post('/users', 'user', { name: `dave-${bed.namespace}`, domain_id: 'default' });
    const spec = (resyncPeriod: string) => ({
      resource: { description: 'as specified', roleBindings: [{ role: 'member', user: dave.name }] },
      resyncPeriod,
    });
    await bed.apply('Project', 'drifting', spec('2s'));
    await bed.apply('Project', 'frozen', spec('0s'));
    const drifting = (await bed.available('Project', 'drifting')).status?.id as string;
    const frozen = (await bed.available('Project', 'frozen')).status?.id as string;
    for (const id of [drifting, frozen]) {
      await keystone().patch(`/projects/${id}`, { project: { description: 'changed by hand' } });
      await keystone().delete(`/projects/${id}/users/${dave.id}/roles/${memberRoleId}`);
    }
    await vi.waitFor(
      async () => {
        expect((await show(`/projects/${drifting}`, 'project')).description).toBe('as specified');
        expect(await grantsOn(drifting)).toEqual([`user/${dave.id}/${memberRoleId}`]);
      },
      { timeout: 30_000, interval: 250 },
    );
    expect((await show(`/projects/${frozen}`, 'project')).description).toBe('changed by hand');
    expect(await grantsOn(frozen)).toEqual([]);
  });

  it('deleting a managed project deletes it, and resets its network quota', async () => {
    const id = (await bed.get('Project', 'full'))?.status?.id as string;
    await bed.remove('Project', 'full');
    expect(await show(`/projects/${id}`, 'project')).toBeUndefined();
    const custom = (await cloud.service('network').get<Json>('/quotas')).body.quotas;
    expect(custom.map((quota: Json) => quota.project_id)).not.toContain(id);
  });
});

describe('User', () => {
  it('create-minimal: a user of the object name in the credentials domain, enabled, without a password', async () => {
    await bed.apply('User', 'plain', { resource: {} });
    const object = await bed.available('User', 'plain');
    expect(await show(`/users/${object.status?.id}`, 'user')).toMatchObject({
      name: 'plain',
      domain_id: 'default',
      enabled: true,
    });
    expect(object.status?.resource).toEqual({ name: 'plain', domainId: 'default', enabled: true });
  });

  it('create-full: every field; the password from its Secret gets a token', async () => {
    await secret('full-user-password', { password: 'first-password-1' });
    await bed.apply('Project', 'home', { resource: {} });
    await bed.apply('User', 'full-user', {
      resource: {
        name: `full-user-${bed.namespace}`,
        description: 'every field',
        domainId: 'default',
        defaultProjectRef: 'home',
        email: 'full@example.org',
        enabled: true,
        passwordRef: { secretName: 'full-user-password' },
      },
    });
    const object = await bed.available('User', 'full-user');
    const id = object.status?.id as string;
    const homeId = (await bed.get('Project', 'home'))?.status?.id;
    expect(await show(`/users/${id}`, 'user')).toMatchObject({
      name: `full-user-${bed.namespace}`,
      description: 'every field',
      domain_id: 'default',
      default_project_id: homeId,
      email: 'full@example.org',
      enabled: true,
    });
    expect(object.status?.resource).toMatchObject({ defaultProjectId: homeId, email: 'full@example.org' });
    expect(await tokenFor('password', { user_id: id, password: 'first-password-1' })).toMatchObject({
      userId: id,
    });
    expect(await bed.reasonsOf('full-user')).toEqual(['Created']);
  });

  it('update: email and description change with an Updated Event; a new password in the Secret is set on resync', async () => {
    await secret('rotating-password', { password: 'old-password-1' });
    await bed.apply('User', 'rotating', {
      resource: { email: 'old@example.org', passwordRef: { secretName: 'rotating-password' } },
      resyncPeriod: '2s',
    });
    const id = (await bed.available('User', 'rotating')).status?.id as string;
    await bed.apply('User', 'rotating', {
      resource: {
        email: 'new@example.org',
        description: 'changed',
        passwordRef: { secretName: 'rotating-password' },
      },
      resyncPeriod: '2s',
    });
    await bed.until('User', 'rotating', (object) =>
      expect(object.status?.resource).toMatchObject({ email: 'new@example.org', description: 'changed' }),
    );
    expect(await show(`/users/${id}`, 'user')).toMatchObject({
      email: 'new@example.org',
      description: 'changed',
    });
    const updated = (await bed.eventsOf('rotating')).find((event) => event.reason === 'Updated');
    expect(updated?.message).toContain('resource.email');
    await secret('rotating-password', { password: 'new-password-2' });
    await vi.waitFor(
      async () =>
        expect(await tokenFor('password', { user_id: id, password: 'new-password-2' })).toBeDefined(),
      { timeout: 30_000, interval: 500 },
    );
    expect(await tokenFor('password', { user_id: id, password: 'old-password-1' })).toBeUndefined();
    // Nothing about the password reaches the object or its Events.
    const object = JSON.stringify(await bed.get('User', 'rotating'));
    const events = JSON.stringify(await bed.eventsOf('rotating'));
    for (const password of ['old-password-1', 'new-password-2']) {
      expect(object).not.toContain(password);
      expect(events).not.toContain(password);
    }
  });

  it('adopts the user a create before a crash left, not a namesake in another domain', async () => {
    const name = `crashed-user-${bed.namespace}`;
    const leftBehind = await post('/users', 'user', { name, domain_id: 'default' });
    const trap = await post('/users', 'user', { name, domain_id: otherDomainId });
    await bed.apply('User', 'crashed-user', { resource: { name } });
    expect((await bed.available('User', 'crashed-user')).status?.id).toBe(leftBehind.id);
    expect(await bed.reasonsOf('crashed-user')).toEqual(['Adopted']);
    expect(await show(`/users/${trap.id}`, 'user')).toBeDefined();
  });

  it('dependency: a user whose default project is not there yet waits for it, in plain words', async () => {
    await bed.apply('User', 'homeless', { resource: { defaultProjectRef: 'late-home' } });
    const waiting = await bed.progressing('User', 'homeless', 'WaitingForDependency', 'True');
    expect(condition(waiting, 'Progressing')?.message).toBe('Waiting for Project/late-home to be available');
    await bed.apply('Project', 'late-home', { resource: {} });
    const object = await bed.available('User', 'homeless');
    expect(object.status?.resource?.defaultProjectId).toBe(
      (await bed.get('Project', 'late-home'))?.status?.id,
    );
  });

  it('import by filter takes the user of that domain, not its namesake; by id too; a missing id is terminal', async () => {
    const name = `imported-user-${bed.namespace}`;
    const target = await post('/users', 'user', { name, domain_id: otherDomainId });
    await post('/users', 'user', { name, domain_id: 'default' });
    await bed.apply('User', 'imported-user', {
      managementPolicy: 'unmanaged',
      import: { filter: { name, domainId: otherDomainId } },
    });
    expect((await bed.available('User', 'imported-user')).status?.id).toBe(target.id);
    await bed.apply('User', 'user-by-id', { managementPolicy: 'unmanaged', import: { id: target.id } });
    expect((await bed.available('User', 'user-by-id')).status?.resource).toMatchObject({
      name,
      domainId: otherDomainId,
    });
    await bed.apply('User', 'ambiguous-user', {
      managementPolicy: 'unmanaged',
      import: { filter: { name } },
    });
    expect(
      condition(await bed.progressing('User', 'ambiguous-user', 'InvalidConfiguration'), 'Progressing')
        ?.message,
    ).toBe('2 Users match the import filter; it must match exactly one');
    await bed.apply('User', 'missing-user', {
      managementPolicy: 'unmanaged',
      import: { id: 'no-such-user' },
    });
    expect(
      condition(await bed.progressing('User', 'missing-user', 'InvalidConfiguration'), 'Progressing')
        ?.message,
    ).toBe('No User has the ID no-such-user');
  });

  it('external-deletion: a managed user is made again with its password; an imported one is UnrecoverableError', async () => {
    await secret('vanishing-password', { password: 'vanishing-password-1' });
    await bed.apply('User', 'vanishing-user', {
      resource: { passwordRef: { secretName: 'vanishing-password' } },
      resyncPeriod: '2s',
    });
    const first = (await bed.available('User', 'vanishing-user')).status?.id as string;
    await keystone().delete(`/users/${first}`);
    const again = await bed.until('User', 'vanishing-user', (object) => {
      expect(object.status?.id).not.toBe(first);
      return object.status?.id as string;
    });
    expect(await tokenFor('password', { user_id: again, password: 'vanishing-password-1' })).toBeDefined();
    expect(await bed.reasonsOf('vanishing-user')).toContain('ExternalDeletion');

    const target = await post('/users', 'user', { name: `gone-user-${bed.namespace}` });
    await bed.apply('User', 'gone-user', {
      managementPolicy: 'unmanaged',
      import: { id: target.id },
      resyncPeriod: '2s',
    });
    await bed.available('User', 'gone-user');
    await keystone().delete(`/users/${target.id}`);
    await bed.progressing('User', 'gone-user', 'UnrecoverableError');
  });

  it('resync: an email and a password changed behind the operator are put back with 2s, left with 0s', async () => {
    await secret('drift-password', { password: 'drift-password-1' });
    const spec = (resyncPeriod: string) => ({
      resource: { email: 'kept@example.org', passwordRef: { secretName: 'drift-password' } },
      resyncPeriod,
    });
    await bed.apply('User', 'drifting-user', spec('2s'));
    await bed.apply('User', 'frozen-user', spec('0s'));
    const drifting = (await bed.available('User', 'drifting-user')).status?.id as string;
    const frozen = (await bed.available('User', 'frozen-user')).status?.id as string;
    for (const id of [drifting, frozen])
      await keystone().patch(`/users/${id}`, {
        user: { email: 'hand@example.org', password: 'by-hand-password' },
      });
    await vi.waitFor(
      async () => {
        expect((await show(`/users/${drifting}`, 'user')).email).toBe('kept@example.org');
        expect(await tokenFor('password', { user_id: drifting, password: 'drift-password-1' })).toBeDefined();
      },
      { timeout: 30_000, interval: 500 },
    );
    expect((await show(`/users/${frozen}`, 'user')).email).toBe('hand@example.org');
    expect(await tokenFor('password', { user_id: frozen, password: 'by-hand-password' })).toBeDefined();
  });
});

describe('ApplicationCredential', () => {
  let ownerId: string;
  let projectId: string;

  beforeAll(async () => {
    await secret('owner-password', { password: 'owner-password-1' });
    await secret('credential-secret', { secret: 'the-credential-secret', other: 'another-secret' });
    await bed.apply('User', 'owner', { resource: { passwordRef: { secretName: 'owner-password' } } });
    await bed.apply('Project', 'workspace', {
      resource: {
        roleBindings: [
          { role: 'member', userRef: 'owner' },
          { role: 'reader', userRef: 'owner' },
        ],
      },
    });
    ownerId = (await bed.available('User', 'owner')).status?.id as string;
    projectId = (await bed.available('Project', 'workspace')).status?.id as string;
  });

  const credentialPath = (id: string) => `/users/${ownerId}/application_credentials/${id}`;

  it('create-minimal: made as its user on its project; a token is issued with it through the API', async () => {
    await bed.apply('ApplicationCredential', 'minimal-credential', {
      resource: { userRef: 'owner', projectRef: 'workspace', secretRef: { secretName: 'credential-secret' } },
    });
    const object = await bed.available('ApplicationCredential', 'minimal-credential');
    const id = object.status?.id as string;
    expect(await show(credentialPath(id), 'application_credential')).toMatchObject({
      name: 'minimal-credential',
      project_id: projectId,
      unrestricted: false,
    });
    expect(object.status?.resource).toMatchObject({
      name: 'minimal-credential',
      userId: ownerId,
      projectId,
      roles: expect.arrayContaining(['member', 'reader']),
    });
    expect(
      await tokenFor('v3applicationcredential', {
        application_credential_id: id,
        application_credential_secret: 'the-credential-secret',
      }),
    ).toEqual({ userId: ownerId, projectId });
    expect(JSON.stringify(object)).not.toContain('the-credential-secret');
  });

  it('create-full: name, description, roles, expiry and unrestricted, checked in the cloud', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, '.000Z');
    await bed.apply('ApplicationCredential', 'full-credential', {
      resource: {
        userRef: 'owner',
        projectRef: 'workspace',
        name: `full-credential-${bed.namespace}`,
        description: 'every field',
        secretRef: { secretName: 'credential-secret', key: 'other' },
        roles: ['reader'],
        expiresAt,
        unrestricted: true,
      },
    });
    const object = await bed.available('ApplicationCredential', 'full-credential');
    const id = object.status?.id as string;
    const credential = await show(credentialPath(id), 'application_credential');
    expect(credential).toMatchObject({
      name: `full-credential-${bed.namespace}`,
      description: 'every field',
      unrestricted: true,
      roles: [expect.objectContaining({ name: 'reader' })],
    });
    expect(Date.parse(`${credential.expires_at}Z`)).toBe(Date.parse(expiresAt));
    expect(object.status?.resource).toMatchObject({ roles: ['reader'], expiresAt, unrestricted: true });
    expect(
      await tokenFor('v3applicationcredential', {
        application_credential_id: id,
        application_credential_secret: 'another-secret',
      }),
    ).toEqual({ userId: ownerId, projectId });
  });

  it("adopts its user's credential of its name and project when the secret is its own; a namesake with another secret is not taken (InvalidConfiguration), nor deleted with the object", async () => {
    const asOwner = cloud.withAuth('password', {
      user_id: ownerId,
      password: 'owner-password-1',
      project_id: projectId,
    });
    const made = async (name: string, secret: string) =>
      (
        await asOwner.service('identity').post<Json>(`/users/${ownerId}/application_credentials`, {
          application_credential: { name, secret },
        })
      ).body.application_credential;
    const leftBehind = await made('crashed-credential', 'the-credential-secret');
    const foreign = await made('foreign-credential', 'not-the-spec-secret');
    asOwner.close();
    const resource = (name: string) => ({
      resource: {
        userRef: 'owner',
        projectRef: 'workspace',
        name,
        secretRef: { secretName: 'credential-secret' },
      },
    });
    await bed.apply('ApplicationCredential', 'crashed-credential', resource('crashed-credential'));
    expect((await bed.available('ApplicationCredential', 'crashed-credential')).status?.id).toBe(
      leftBehind.id,
    );
    expect(await bed.reasonsOf('crashed-credential')).toEqual(['Adopted']);
    await bed.apply('ApplicationCredential', 'foreign', resource('foreign-credential'));
    const refused = await bed.progressing('ApplicationCredential', 'foreign', 'InvalidConfiguration');
    expect(condition(refused, 'Progressing')?.message).toBe(
      'User/owner already has an application credential named foreign-credential that this object did not make; name this one differently or delete that one',
    );
    await bed.remove('ApplicationCredential', 'foreign');
    expect(await show(credentialPath(foreign.id), 'application_credential')).toBeDefined();
  });

  it('update: the apiserver refuses any change, in plain words', async () => {
    const refused = await bed
      .apply('ApplicationCredential', 'minimal-credential', {
        resource: {
          userRef: 'owner',
          projectRef: 'workspace',
          description: 'changed',
          secretRef: { secretName: 'credential-secret' },
        },
      })
      .then(
        () => '',
        (error: Error) => error.message,
      );
    expect(refused).toContain('an application credential cannot be changed; create a new one');
  });

  it('dependency: applied before its User and Project, it waits for them, then is made', async () => {
    await secret('late-owner-password', { password: 'late-owner-password-1' });
    await bed.apply('ApplicationCredential', 'early-credential', {
      resource: {
        userRef: 'late-owner',
        projectRef: 'late-workspace',
        secretRef: { secretName: 'credential-secret' },
      },
    });
    const waiting = await bed.progressing(
      'ApplicationCredential',
      'early-credential',
      'WaitingForDependency',
      'True',
    );
    expect(condition(waiting, 'Progressing')?.message).toBe('Waiting for User/late-owner to be available');
    await bed.apply('User', 'late-owner', {
      resource: { passwordRef: { secretName: 'late-owner-password' } },
    });
    await bed.apply('Project', 'late-workspace', {
      resource: { roleBindings: [{ role: 'member', userRef: 'late-owner' }] },
    });
    const object = await bed.available('ApplicationCredential', 'early-credential');
    expect(object.status?.resource).toMatchObject({
      userId: (await bed.get('User', 'late-owner'))?.status?.id,
      projectId: (await bed.get('Project', 'late-workspace'))?.status?.id,
    });
  });

  it("import-dependency: a filter naming its userRef takes that user's credential, not another user's namesake; several matching is terminal", async () => {
    const name = `shared-name-${bed.namespace}`;
    const asOwner = cloud.withAuth('password', {
      user_id: ownerId,
      password: 'owner-password-1',
      project_id: projectId,
    });
    const target = (
      await asOwner
        .service('identity')
        .post<Json>(`/users/${ownerId}/application_credentials`, { application_credential: { name } })
    ).body.application_credential;
    asOwner.close();
    // The same name for the admin: a namesake of another user.
    const adminId = (await cloud.session.token()).userId;
    await keystone().post(`/users/${adminId}/application_credentials`, { application_credential: { name } });
    await bed.apply('ApplicationCredential', 'imported-credential', {
      managementPolicy: 'unmanaged',
      import: { filter: { name, userRef: 'owner' } },
    });
    const imported = await bed.available('ApplicationCredential', 'imported-credential');
    expect(imported.status?.id).toBe(target.id);
    expect(imported.status?.resource).toMatchObject({ name, userId: ownerId, projectId });

    await bed.apply('ApplicationCredential', 'ambiguous-credential', {
      managementPolicy: 'unmanaged',
      import: { filter: { userRef: 'owner' } },
    });
    const ambiguous = await bed.progressing(
      'ApplicationCredential',
      'ambiguous-credential',
      'InvalidConfiguration',
    );
    expect(condition(ambiguous, 'Progressing')?.message).toMatch(
      /^\d+ ApplicationCredentials match the import filter; it must match exactly one$/,
    );
    // Without a userRef, an import looks among the credentials' own user's.
    await bed.apply('ApplicationCredential', 'admin-credential', {
      managementPolicy: 'unmanaged',
      import: { filter: { name } },
    });
    expect((await bed.available('ApplicationCredential', 'admin-credential')).status?.resource?.userId).toBe(
      adminId,
    );
  });

  it('external-deletion: a managed credential is made again with its secret, with an Event (nothing else of it can drift: Keystone cannot change one)', async () => {
    await bed.apply('ApplicationCredential', 'vanishing-credential', {
      resource: { userRef: 'owner', projectRef: 'workspace', secretRef: { secretName: 'credential-secret' } },
      resyncPeriod: '2s',
    });
    const first = (await bed.available('ApplicationCredential', 'vanishing-credential')).status?.id as string;
    await keystone().delete(credentialPath(first));
    const again = await bed.until('ApplicationCredential', 'vanishing-credential', (object) => {
      expect(object.status?.id).not.toBe(first);
      return object.status?.id as string;
    });
    expect(
      await tokenFor('v3applicationcredential', {
        application_credential_id: again,
        application_credential_secret: 'the-credential-secret',
      }),
    ).toBeDefined();
    expect(await bed.reasonsOf('vanishing-credential')).toContain('ExternalDeletion');
  });

  it("import by id looks among the credentials' own user's (Keystone finds a credential only under its user); deleted, it is UnrecoverableError", async () => {
    const adminId = (await cloud.session.token()).userId;
    const own = (
      await keystone().post<Json>(`/users/${adminId}/application_credentials`, {
        application_credential: { name: `by-id-${bed.namespace}` },
      })
    ).body.application_credential;
    await bed.apply('ApplicationCredential', 'credential-by-id', {
      managementPolicy: 'unmanaged',
      import: { id: own.id },
      resyncPeriod: '2s',
    });
    expect((await bed.available('ApplicationCredential', 'credential-by-id')).status?.resource?.userId).toBe(
      adminId,
    );
    const ownersId = (await bed.get('ApplicationCredential', 'imported-credential'))?.status?.id as string;
    await bed.apply('ApplicationCredential', 'not-found-by-id', {
      managementPolicy: 'unmanaged',
      import: { id: ownersId },
    });
    const missing = await bed.progressing('ApplicationCredential', 'not-found-by-id', 'InvalidConfiguration');
    expect(condition(missing, 'Progressing')?.message).toBe(
      `No ApplicationCredential has the ID ${ownersId}`,
    );
    await keystone().delete(`/users/${adminId}/application_credentials/${own.id}`);
    await bed.progressing('ApplicationCredential', 'credential-by-id', 'UnrecoverableError');
  });

  it('deleting a managed credential deletes it from the cloud', async () => {
    const id = (await bed.get('ApplicationCredential', 'minimal-credential'))?.status?.id as string;
    await bed.remove('ApplicationCredential', 'minimal-credential');
    expect(await show(credentialPath(id), 'application_credential')).toBeUndefined();
  });
});
