// Keystone behaviours tempest relies on, in-process on SQLite: domains that take their contents
// with them, projects acting as domains, legacy endpoint regions, system grants, domain-specific
// roles, the methods of a rescoped token, user options and self-service password changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../common/test-cloud.suite.js';

let cloud: TestCloud;
let admin: string;

const call: TestCloud['call'] = (...args) => cloud.call(...args);
const issue = (auth: Record<string, unknown>) => cloud.issue(auth, '?nocatalog');
const byPassword: TestCloud['byPassword'] = (...args) => cloud.byPassword(...args);

const roleId = async (name: string) =>
  (await call(admin, 'GET', `/roles?name=${name}`)).body.roles[0].id as string;

beforeAll(async () => {
  cloud = await startTestCloud();
  admin = await cloud.adminToken();
});

afterAll(() => cloud.close());

describe('domains', () => {
  it('deletes a disabled domain together with its projects, users, groups and roles', async () => {
    const domain = (await call(admin, 'POST', '/domains', { domain: { name: 'doomed' } })).body.domain;
    const parent = (await call(admin, 'POST', '/projects', { project: { name: 'p', domain_id: domain.id } }))
      .body.project;
    const child = (
      await call(admin, 'POST', '/projects', {
        project: { name: 'c', domain_id: domain.id, parent_id: parent.id },
      })
    ).body.project;
    const user = (await call(admin, 'POST', '/users', { user: { name: 'u', domain_id: domain.id } })).body
      .user;
    const group = (await call(admin, 'POST', '/groups', { group: { name: 'g', domain_id: domain.id } })).body
      .group;
    const role = (await call(admin, 'POST', '/roles', { role: { name: 'local', domain_id: domain.id } })).body
      .role;
    expect((await call(admin, 'PUT', `/groups/${group.id}/users/${user.id}`)).status).toBe(204);
    expect((await call(admin, 'PUT', `/projects/${child.id}/users/${user.id}/roles/${role.id}`)).status).toBe(
      204,
    );

    expect((await call(admin, 'DELETE', `/domains/${domain.id}`)).status).toBe(403);
    expect((await call(admin, 'PATCH', `/domains/${domain.id}`, { domain: { enabled: false } })).status).toBe(
      200,
    );
    expect((await call(admin, 'DELETE', `/domains/${domain.id}`)).status).toBe(204);
    for (const path of [
      `/domains/${domain.id}`,
      `/projects/${parent.id}`,
      `/projects/${child.id}`,
      `/users/${user.id}`,
      `/groups/${group.id}`,
      `/roles/${role.id}`,
    ]) {
      expect((await call(admin, 'GET', path)).status, path).toBe(404);
    }
    const left = (await call(admin, 'GET', `/role_assignments?user.id=${user.id}`)).body.role_assignments;
    expect(left).toEqual([]);
  });

  it('refuses domain names longer than 64 characters', async () => {
    expect((await call(admin, 'POST', '/domains', { domain: { name: 'a'.repeat(65) } })).status).toBe(400);
  });

  it('shows domains as projects acting as domains, created, listed, updated and deleted that way', async () => {
    const created = await call(admin, 'POST', '/projects', {
      project: { name: 'as-domain', domain_id: null, is_domain: true },
    });
    expect(created.status).toBe(201);
    const project = created.body.project;
    expect(project).toMatchObject({ is_domain: true, domain_id: null, parent_id: null, enabled: true });
    expect((await call(admin, 'GET', `/domains/${project.id}`)).body.domain.name).toBe('as-domain');

    const listed = (await call(admin, 'GET', '/projects?is_domain=true')).body.projects;
    expect(listed.map((p: { id: string }) => p.id)).toContain(project.id);
    const plain = (await call(admin, 'GET', '/projects')).body.projects;
    expect(plain.map((p: { id: string }) => p.id)).not.toContain(project.id);

    const updated = await call(admin, 'PATCH', `/projects/${project.id}`, { project: { enabled: false } });
    expect(updated.body.project).toMatchObject({ id: project.id, enabled: false, is_domain: true });
    expect((await call(admin, 'DELETE', `/projects/${project.id}`)).status).toBe(204);
    expect((await call(admin, 'GET', `/domains/${project.id}`)).status).toBe(404);
    expect((await call(admin, 'GET', `/projects/${project.id}`)).status).toBe(404);
  });
});

describe('catalog', () => {
  it('creates a region under a chosen id with PUT', async () => {
    const created = await call(admin, 'PUT', '/regions/put-region', { region: { description: 'chosen' } });
    expect(created.status).toBe(201);
    expect(created.body.region).toMatchObject({ id: 'put-region', description: 'chosen' });
    expect((await call(admin, 'PUT', '/regions/put-region', { region: {} })).status).toBe(409);
    expect((await call(admin, 'PUT', '/regions/one', { region: { id: 'other' } })).status).toBe(400);
  });

  it("creates the region an endpoint's legacy 'region' names, but requires region_id to exist", async () => {
    const service = (await call(admin, 'POST', '/services', { service: { type: 'thing' } })).body.service;
    const base = { service_id: service.id, interface: 'public', url: 'http://thing.test' };
    const legacy = await call(admin, 'POST', '/endpoints', { endpoint: { ...base, region: 'auto-region' } });
    expect(legacy.status).toBe(201);
    expect(legacy.body.endpoint).toMatchObject({ region_id: 'auto-region', region: 'auto-region' });
    expect((await call(admin, 'GET', '/regions/auto-region')).status).toBe(200);
    const missing = await call(admin, 'POST', '/endpoints', { endpoint: { ...base, region_id: 'nowhere' } });
    expect(missing.status).toBe(400);
    const id = legacy.body.endpoint.id;
    expect((await call(admin, 'PATCH', `/endpoints/${id}`, { endpoint: { enabled: 'False' } })).status).toBe(
      400,
    );
    const moved = await call(admin, 'PATCH', `/endpoints/${id}`, { endpoint: { region: 'second-region' } });
    expect(moved.body.endpoint.region_id).toBe('second-region');
  });
});

describe('roles', () => {
  it('grants, lists, checks and revokes roles on the system', async () => {
    const user = (await call(admin, 'POST', '/users', { user: { name: 'sysop', password: 'pw' } })).body.user;
    const reader = await roleId('reader');
    const path = `/system/users/${user.id}/roles`;
    expect((await call(admin, 'GET', `${path}/${reader}`)).status).toBe(404);
    expect((await call(admin, 'PUT', `${path}/${reader}`)).status).toBe(204);
    expect((await call(admin, 'GET', path)).body.roles.map((r: { id: string }) => r.id)).toEqual([reader]);
    expect((await call(admin, 'HEAD', `${path}/${reader}`)).status).toBe(204);
    expect((await call(admin, 'GET', `${path}/${reader}`)).status).toBe(204);
    const system = await byPassword('sysop', 'pw', { system: { all: true } });
    expect(system.body.token.roles.map((r: { name: string }) => r.name)).toEqual(['reader']);
    const listed = (await call(admin, 'GET', `/role_assignments?user.id=${user.id}`)).body.role_assignments;
    expect(listed).toEqual([
      expect.objectContaining({ scope: { system: { all: true } }, role: { id: reader } }),
    ]);
    expect(listed[0].links.assignment.endsWith(`/identity/v3/system/users/${user.id}/roles/${reader}`)).toBe(
      true,
    );
    expect((await call(admin, 'DELETE', `${path}/${reader}`)).status).toBe(204);
    expect((await call(admin, 'DELETE', `${path}/${reader}`)).status).toBe(404);
    expect((await call(admin, 'PUT', `/system/groups/nobody/roles/${reader}`)).status).toBe(404);
  });

  it('keeps domain-specific roles out of tokens and effective assignments, and in their domain', async () => {
    const domain = (await call(admin, 'POST', '/domains', { domain: { name: 'roled' } })).body.domain;
    const other = (await call(admin, 'POST', '/domains', { domain: { name: 'elsewhere' } })).body.domain;
    const project = (
      await call(admin, 'POST', '/projects', { project: { name: 'rp', domain_id: domain.id } })
    ).body.project;
    const user = (await call(admin, 'POST', '/users', { user: { name: 'roleuser', password: 'pw' } })).body
      .user;
    const local = (await call(admin, 'POST', '/roles', { role: { name: 'local', domain_id: domain.id } }))
      .body.role;
    const foreign = (await call(admin, 'POST', '/roles', { role: { name: 'foreign', domain_id: other.id } }))
      .body.role;
    const member = await roleId('member');

    // Implied roles: domain role ⇒ global role is fine, global ⇒ domain role is not, nor ⇒ admin.
    expect((await call(admin, 'PUT', `/roles/${local.id}/implies/${member}`)).status).toBe(201);
    expect((await call(admin, 'PUT', `/roles/${member}/implies/${local.id}`)).status).toBe(403);
    expect((await call(admin, 'PUT', `/roles/${local.id}/implies/${await roleId('admin')}`)).status).toBe(
      403,
    );

    expect(
      (await call(admin, 'PUT', `/projects/${project.id}/users/${user.id}/roles/${foreign.id}`)).status,
    ).toBe(403);
    expect(
      (await call(admin, 'PUT', `/projects/${project.id}/users/${user.id}/roles/${local.id}`)).status,
    ).toBe(204);
    const effective = (
      await call(
        admin,
        'GET',
        `/role_assignments?effective&user.id=${user.id}&scope.project.id=${project.id}`,
      )
    ).body.role_assignments.map((a: { role: { id: string } }) => a.role.id);
    expect(effective.sort()).toEqual([member, await roleId('reader')].sort());
    const token = await byPassword('roleuser', 'pw', { project: { id: project.id } });
    expect(token.body.token.roles.map((r: { name: string }) => r.name).sort()).toEqual(['member', 'reader']);
    expect((await call(admin, 'PUT', `/system/users/${user.id}/roles/${local.id}`)).status).toBe(400);
  });
});

describe('links', () => {
  it('are absolute, with previous and next on collections', async () => {
    const admins = await roleId('admin');
    const userId = (await call(admin, 'GET', '/users?name=admin')).body.users[0].id;
    const projectId = (await call(admin, 'GET', '/projects?name=admin')).body.projects[0].id;
    for (const path of [
      `/role_assignments?user.id=${userId}`,
      '/auth/projects',
      `/projects/${projectId}/users/${userId}/roles`,
    ]) {
      const response = await call(admin, 'GET', path);
      expect(response.status, path).toBe(200);
      expect(response.body.links, path).toEqual({
        self: expect.stringMatching(/^http:\/\/.+\/identity\/v3\//),
        previous: null,
        next: null,
      });
    }
    const implies = (await call(admin, 'GET', `/roles/${admins}/implies`)).body.links;
    expect(implies.self).toMatch(new RegExp(`^http://.+/identity/v3/roles/${admins}/implies$`));
    expect((await call(admin, 'GET', '/role_inferences')).body.links.self).toMatch(
      /^http:\/\/.+\/role_inferences$/,
    );
  });
});

describe('tokens and users', () => {
  it('lists the original methods in a token obtained with a token', async () => {
    const unscoped = await byPassword('admin', ADMIN_PASSWORD);
    const rescoped = await issue({
      identity: { methods: ['token'], token: { id: unscoped.token } },
      scope: { project: { name: 'admin', domain: { id: 'default' } } },
    });
    expect(rescoped.status).toBe(201);
    expect(rescoped.body.token.methods.sort()).toEqual(['password', 'token']);
  });

  it('keeps user options, removes one set to null and refuses unknown ones', async () => {
    const created = await call(admin, 'POST', '/users', {
      user: { name: 'optioned', options: { ignore_password_expiry: true, lock_password: false } },
    });
    expect(created.body.user.options).toEqual({ ignore_password_expiry: true, lock_password: false });
    const id = created.body.user.id;
    const updated = await call(admin, 'PATCH', `/users/${id}`, {
      user: { options: { lock_password: null } },
    });
    expect(updated.body.user.options).toEqual({ ignore_password_expiry: true });
    expect((await call(admin, 'GET', `/users/${id}`)).body.user.options).toEqual({
      ignore_password_expiry: true,
    });
    expect((await call(admin, 'PATCH', `/users/${id}`, { user: { options: { bogus: true } } })).status).toBe(
      400,
    );
    expect(
      (await call(admin, 'PATCH', `/users/${id}`, { user: { options: { lock_password: 'yes' } } })).status,
    ).toBe(400);
  });

  it('lets users change their own password only while enabled and not locked', async () => {
    const user = (await call(admin, 'POST', '/users', { user: { name: 'changer', password: 'old' } })).body
      .user;
    const change = (original: string, password: string) =>
      cloud.app.inject({
        method: 'POST',
        url: `/identity/v3/users/${user.id}/password`,
        payload: { user: { original_password: original, password } },
      });
    expect((await change('wrong', 'new')).statusCode).toBe(401);
    expect((await change('old', 'new')).statusCode).toBe(204);
    await call(admin, 'PATCH', `/users/${user.id}`, { user: { enabled: false } });
    expect((await change('new', 'newer')).statusCode).toBe(401);
    await call(admin, 'PATCH', `/users/${user.id}`, {
      user: { enabled: true, options: { lock_password: true } },
    });
    expect((await change('new', 'newer')).statusCode).toBe(400);
    expect((await byPassword('changer', 'new')).status).toBe(201);
  });
});
