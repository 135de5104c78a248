// The identity service over HTTP in-process, on SQLite: scopes, rescoping, implied roles,
// groups, and the negative cases (disabled project, cross-project access, oversized and
// malformed bodies) — no answer may be a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../common/test-cloud.suite.js';

let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud();
});

afterAll(() => cloud.close());

const passwordToken: TestCloud['byPassword'] = (...args) => cloud.byPassword(...args);
const adminToken = () => cloud.adminToken();
const call: TestCloud['call'] = (...args) => cloud.call(...args);

/** A project with a user holding `role` on it; returns their ids. */
async function projectWithUser(name: string, role: string) {
  const admin = await adminToken();
  const project = (await call(admin, 'POST', '/projects', { project: { name, domain_id: 'default' } })).body
    .project;
  const user = (
    await call(admin, 'POST', '/users', {
      user: { name: `${name}-user`, password: 'pw', domain_id: 'default' },
    })
  ).body.user;
  const roleId = (await call(admin, 'GET', `/roles?name=${role}`)).body.roles[0].id;
  expect((await call(admin, 'PUT', `/projects/${project.id}/users/${user.id}/roles/${roleId}`)).status).toBe(
    204,
  );
  return { projectId: project.id as string, userId: user.id as string, userName: `${name}-user` };
}

describe('token scopes', () => {
  it('gives the bootstrap admin project, system and unscoped tokens, with implied roles', async () => {
    const project = await passwordToken('admin', ADMIN_PASSWORD, {
      project: { name: 'admin', domain: { id: 'default' } },
    });
    expect(project.status).toBe(201);
    expect(project.body.token.roles.map((r: { name: string }) => r.name).sort()).toEqual([
      'admin',
      'manager',
      'member',
      'reader',
    ]);
    expect(project.body.token.catalog).toHaveLength(5);
    const system = await passwordToken('admin', ADMIN_PASSWORD, { system: { all: true } });
    expect(system.body.token.system).toEqual({ all: true });
    const unscoped = await passwordToken('admin', ADMIN_PASSWORD, 'unscoped');
    expect(unscoped.body.token).not.toHaveProperty('roles');
    expect(unscoped.body.token).not.toHaveProperty('catalog');
  });

  it('rescopes an unscoped token with the token method, keeping its expiry and audit chain', async () => {
    const { userName, projectId } = await projectWithUser('rescope', 'member');
    const unscoped = await passwordToken(userName, 'pw', 'unscoped');
    const response = await cloud.app.inject({
      method: 'POST',
      url: '/identity/v3/auth/tokens?nocatalog',
      payload: {
        auth: {
          identity: { methods: ['token'], token: { id: unscoped.token } },
          scope: { project: { id: projectId } },
        },
      },
    });
    expect(response.statusCode).toBe(201);
    const token = response.json().token;
    expect(token.project.id).toBe(projectId);
    expect(token.expires_at).toBe(unscoped.body.token.expires_at);
    expect(token.audit_ids).toHaveLength(2);
    expect(token.audit_ids[1]).toBe(unscoped.body.token.audit_ids[0]);
    expect(token).not.toHaveProperty('catalog');
  });

  it('scopes through a group role and to a domain', async () => {
    const admin = await adminToken();
    const { projectId } = await projectWithUser('groupwork', 'reader');
    const user = (await call(admin, 'POST', '/users', { user: { name: 'grouped', password: 'pw' } })).body
      .user;
    const group = (await call(admin, 'POST', '/groups', { group: { name: 'crew' } })).body.group;
    expect((await call(admin, 'PUT', `/groups/${group.id}/users/${user.id}`)).status).toBe(204);
    const member = (await call(admin, 'GET', '/roles?name=member')).body.roles[0].id;
    expect(
      (await call(admin, 'PUT', `/projects/${projectId}/groups/${group.id}/roles/${member}`)).status,
    ).toBe(204);
    const viaGroup = await passwordToken('grouped', 'pw', { project: { id: projectId } });
    expect(viaGroup.status).toBe(201);
    expect(viaGroup.body.token.roles.map((r: { name: string }) => r.name).sort()).toEqual([
      'member',
      'reader',
    ]);
    expect((await call(admin, 'PUT', `/domains/default/users/${user.id}/roles/${member}`)).status).toBe(204);
    const domain = await passwordToken('grouped', 'pw', { domain: { name: 'Default' } });
    expect(domain.body.token.domain).toEqual({ id: 'default', name: 'Default' });
  });

  it('refuses a scope the user holds no role on', async () => {
    await projectWithUser('mine', 'member');
    const other = await passwordToken('mine-user', 'pw', {
      project: { name: 'admin', domain: { id: 'default' } },
    });
    expect(other.status).toBe(401);
    expect(other.body.error.code).toBe(401);
  });
});

describe('validating a token again', () => {
  /** GET /v3/auth/tokens of `subject` by the admin: the status and the token body. */
  async function validate(subject: string) {
    const response = await cloud.app.inject({
      method: 'GET',
      url: '/identity/v3/auth/tokens',
      headers: { 'x-auth-token': await adminToken(), 'x-subject-token': subject },
    });
    return { status: response.statusCode, token: response.json().token };
  }

  it('shows role and catalog changes at once, though contexts and bodies are reused', async () => {
    const { projectId, userId, userName } = await projectWithUser('changing', 'reader');
    const { token } = await passwordToken(userName, 'pw', { project: { id: projectId } });
    const roleNames = async () =>
      ((await validate(token)).token.roles as { name: string }[]).map((role) => role.name).sort();
    expect(await roleNames()).toEqual(['reader']);
    expect(await roleNames()).toEqual(['reader']);

    const admin = await adminToken();
    const memberId = (await call(admin, 'GET', '/roles?name=member')).body.roles[0].id;
    const grant = `/projects/${projectId}/users/${userId}/roles/${memberId}`;
    expect((await call(admin, 'PUT', grant)).status).toBe(204);
    expect(await roleNames()).toEqual(['member', 'reader']);

    const service = (await call(admin, 'POST', '/services', { service: { type: 'changing', name: 'c' } }))
      .body.service;
    const types = async () =>
      ((await validate(token)).token.catalog as { type: string }[]).map((entry) => entry.type);
    expect(await types()).toContain('changing');
    expect((await call(admin, 'DELETE', `/services/${service.id}`)).status).toBe(204);
    expect(await types()).not.toContain('changing');

    const readerId = (await call(admin, 'GET', '/roles?name=reader')).body.roles[0].id;
    expect((await call(admin, 'DELETE', grant)).status).toBe(204);
    expect(
      (await call(admin, 'DELETE', `/projects/${projectId}/users/${userId}/roles/${readerId}`)).status,
    ).toBe(204);
    expect((await validate(token)).status).toBe(404);
  });
});

describe('negative cases', () => {
  it('ends tokens of a disabled project and refuses new ones', async () => {
    const { projectId, userName } = await projectWithUser('closing', 'member');
    const { token } = await passwordToken(userName, 'pw', { project: { id: projectId } });
    expect((await call(token, 'GET', '/auth/catalog')).status).toBe(200);
    expect(
      (await call(await adminToken(), 'PATCH', `/projects/${projectId}`, { project: { enabled: false } }))
        .status,
    ).toBe(200);
    expect((await call(token, 'GET', '/auth/catalog')).status).toBe(401);
    expect((await passwordToken(userName, 'pw', { project: { id: projectId } })).status).toBe(401);
  });

  it("keeps a member out of other projects and out of other users' records", async () => {
    const { projectId, userName } = await projectWithUser('fenced', 'member');
    const { token } = await passwordToken(userName, 'pw', { project: { id: projectId } });
    expect((await call(token, 'GET', `/projects/${projectId}`)).status).toBe(200);
    const adminProject = (await call(await adminToken(), 'GET', '/projects?name=admin')).body.projects[0].id;
    const denied = await call(token, 'GET', `/projects/${adminProject}`);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(/identity:get_project/);
    const adminUser = (await call(await adminToken(), 'GET', '/users?name=admin')).body.users[0].id;
    expect((await call(token, 'GET', `/users/${adminUser}`)).status).toBe(403);
    expect((await call(token, 'DELETE', `/projects/${projectId}`)).status).toBe(403);
  });

  it('answers oversized, malformed and ill-typed bodies with 4xx in Keystone’s shape, never 500', async () => {
    const admin = await adminToken();
    const oversized = await cloud.app.inject({
      method: 'POST',
      url: '/identity/v3/projects',
      headers: { 'x-auth-token': admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ project: { name: 'big', description: 'x'.repeat(200_000) } }),
    });
    expect(oversized.statusCode).toBe(413);
    expect(oversized.json().error.code).toBe(413);
    const bodies: [string, string, unknown][] = [
      ['POST', '/auth/tokens', { auth: {} }],
      ['POST', '/auth/tokens', { auth: { identity: { methods: ['password'] } } }],
      ['POST', '/auth/tokens', { auth: { identity: { methods: ['kerberos'] } } }],
      ['POST', '/auth/tokens', { auth: { identity: { methods: ['token'], token: { id: 'not-a-token' } } } }],
      ['POST', '/projects', { project: { name: '' } }],
      ['POST', '/projects', { project: { name: 7 } }],
      ['POST', '/projects', { project: { name: 'orphan', parent_id: 'missing' } }],
      ['POST', '/users', { user: { name: 'x', domain_id: 'no-such-domain' } }],
      ['POST', '/users', { user: { name: 'long', password: 'p'.repeat(100) } }],
      ['PATCH', '/projects/missing', { project: { name: 'x' } }],
      ['PUT', '/projects/missing/users/missing/roles/missing', undefined],
      ['POST', '/roles', { role: { name: 'r'.repeat(300) } }],
      ['POST', '/endpoints', { endpoint: { service_id: 'missing', interface: 'public', url: 'http://x' } }],
      ['POST', '/endpoints', { endpoint: { service_id: 'x', interface: 'sideways', url: 'http://x' } }],
      ['GET', '/role_assignments?effective=perhaps', undefined],
    ];
    for (const [method, url, payload] of bodies) {
      const response = await cloud.app.inject({
        method: method as 'GET',
        url: `/identity/v3${url}`,
        headers: { 'x-auth-token': admin },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      expect(response.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, `${method} ${url}`).toBeLessThan(500);
      expect(response.json().error, `${method} ${url}`).toMatchObject({ code: response.statusCode });
    }
  });

  it('refuses unknown fields in an application credential, and restricted credentials creating more', async () => {
    const { projectId, userId, userName } = await projectWithUser('robot', 'member');
    const { token } = await passwordToken(userName, 'pw', { project: { id: projectId } });
    const unknown = await call(token, 'POST', `/users/${userId}/application_credentials`, {
      application_credential: { name: 'c', colour: 'blue' },
    });
    expect(unknown.status).toBe(400);
    const created = await call(token, 'POST', `/users/${userId}/application_credentials`, {
      application_credential: { name: 'c' },
    });
    expect(created.status).toBe(201);
    const auth = await cloud.app.inject({
      method: 'POST',
      url: '/identity/v3/auth/tokens',
      payload: {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: {
              id: created.body.application_credential.id,
              secret: created.body.application_credential.secret,
            },
          },
        },
      },
    });
    expect(auth.statusCode).toBe(201);
    const credentialToken = auth.headers['x-subject-token'] as string;
    const more = await call(credentialToken, 'POST', `/users/${userId}/application_credentials`, {
      application_credential: { name: 'c2' },
    });
    expect(more.status).toBe(403);
  });
});
