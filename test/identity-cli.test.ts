// The seeds' identity walk-through, driven by the real `openstack` CLI (Debian's
// python-openstackclient) against `overcast up`, on SQLite and on MariaDB.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/exec.js';
import { OPENSTACK_COMMAND } from '../lib/kit/openstack.js';
import type { Dialect } from './harness/databases.js';
import { type CliCloud, startCliCloud } from './harness/openstack-cli.js';
import { OVERCAST } from './harness/overcast-up.js';

describe.each(['sqlite', 'mysql'] as const)(
  'identity walk-through with the openstack CLI on %s',
  (dialect: Dialect) => {
    let cli: CliCloud;

    beforeAll(async () => {
      cli = await startCliCloud(dialect, 'identity', { commandTimeoutMs: 60_000 });
    });

    afterAll(() => cli?.stop());

    it('issues a project-scoped token and shows the catalog of every service', async () => {
      const token = await cli.openstack(['token', 'issue', '-f', 'json']);
      expect(token.code, token.stderr).toBe(0);
      expect(JSON.parse(token.stdout)).toMatchObject({ id: expect.stringMatching(/^gAAAAA/) });
      const catalog = await cli.openstack(['catalog', 'list', '-f', 'json']);
      const types = JSON.parse(catalog.stdout).map((entry: { Type: string }) => entry.Type);
      expect(types.sort()).toEqual(['compute', 'identity', 'image', 'network', 'placement']);
      const services = JSON.parse((await cli.openstack(['service', 'list', '-f', 'json'])).stdout);
      expect(services).toHaveLength(5);
      const endpoints = JSON.parse((await cli.openstack(['endpoint', 'list', '-f', 'json'])).stdout);
      expect(endpoints).toHaveLength(15);
      expect(endpoints.map((e: { URL: string }) => e.URL)).toContain(`${cli.baseUrl}/compute/v2.1`);
    });

    it('creates a domain, the Nebula project, its admin user and a role assignment', async () => {
      expect((await cli.openstack(['domain', 'create', 'nebula-domain'])).code).toBe(0);
      const project = await cli.openstack([
        'project',
        'create',
        '--domain',
        'default',
        '--description',
        'Nebula Inc',
        'nebula',
        '-f',
        'json',
      ]);
      expect(project.code, project.stderr).toBe(0);
      expect(JSON.parse(project.stdout)).toMatchObject({
        name: 'nebula',
        description: 'Nebula Inc',
        domain_id: 'default',
      });
      const user = await cli.openstack([
        'user',
        'create',
        '--domain',
        'default',
        '--password',
        'Nebula-Pass1',
        'nebula_admin',
      ]);
      expect(user.code, user.stderr).toBe(0);
      const role = await cli.openstack([
        'role',
        'add',
        '--project',
        'nebula',
        '--user',
        'nebula_admin',
        'member',
      ]);
      expect(role.code, role.stderr).toBe(0);
      const assignments = await cli.openstack([
        'role',
        'assignment',
        'list',
        '--user',
        'nebula_admin',
        '--names',
        '-f',
        'json',
      ]);
      expect(JSON.parse(assignments.stdout)).toEqual([
        expect.objectContaining({ Role: 'member', User: 'nebula_admin@Default', Project: 'nebula@Default' }),
      ]);
    });

    it('refuses tokens to a disabled user and issues them again once re-enabled', async () => {
      const asNebulaAdmin = {
        OS_USERNAME: 'nebula_admin',
        OS_PASSWORD: 'Nebula-Pass1',
        OS_PROJECT_NAME: 'nebula',
      };
      expect((await cli.openstack(['token', 'issue'], asNebulaAdmin)).code).toBe(0);
      expect((await cli.openstack(['user', 'set', '--disable', 'nebula_admin'])).code).toBe(0);
      const refused = await cli.openstack(['token', 'issue'], asNebulaAdmin);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/HTTP 401/);
      expect((await cli.openstack(['user', 'set', '--enable', 'nebula_admin'])).code).toBe(0);
      expect((await cli.openstack(['token', 'issue'], asNebulaAdmin)).code).toBe(0);
    });

    it('lets a member read but not create users, and refuses duplicate names with 409', async () => {
      const asMember = {
        OS_USERNAME: 'nebula_admin',
        OS_PASSWORD: 'Nebula-Pass1',
        OS_PROJECT_NAME: 'nebula',
      };
      const denied = await cli.openstack(['user', 'create', '--password', 'x', 'intruder'], asMember);
      expect(denied.stderr).toMatch(
        /not authorized to perform the requested action: identity:create_user.*HTTP 403/,
      );
      const duplicate = await cli.openstack(['project', 'create', '--domain', 'default', 'nebula']);
      expect(duplicate.stderr).toMatch(/HTTP 409/);
    });

    it('authenticates with an application credential limited to the roles it was given, until deleted', async () => {
      const asNebulaAdmin = {
        OS_USERNAME: 'nebula_admin',
        OS_PASSWORD: 'Nebula-Pass1',
        OS_PROJECT_NAME: 'nebula',
      };
      const created = await cli.openstack(
        [
          'application',
          'credential',
          'create',
          '--secret',
          'ci-secret-1',
          '--role',
          'reader',
          'ci-cred',
          '-f',
          'json',
        ],
        asNebulaAdmin,
      );
      expect(created.code, created.stderr).toBe(0);
      const credential = JSON.parse(created.stdout);
      expect(credential).toMatchObject({ name: 'ci-cred', secret: 'ci-secret-1', unrestricted: false });
      const listed = await cli.openstack(['application', 'credential', 'list', '-f', 'json'], asNebulaAdmin);
      expect(listed.stdout).toContain('ci-cred');
      expect(listed.stdout).not.toContain('ci-secret-1');

      const asCredential = (secret: string) => ({
        OS_AUTH_TYPE: 'v3applicationcredential',
        OS_APPLICATION_CREDENTIAL_ID: credential.id,
        OS_APPLICATION_CREDENTIAL_SECRET: secret,
        OS_USERNAME: '',
        OS_PASSWORD: '',
        OS_PROJECT_NAME: '',
        OS_USER_DOMAIN_NAME: '',
        OS_PROJECT_DOMAIN_NAME: '',
      });
      const issued = await cli.openstack(['token', 'issue', '-f', 'json'], asCredential('ci-secret-1'));
      expect(issued.code, issued.stderr).toBe(0);
      const token = JSON.parse(issued.stdout);
      expect(token.project_id).toBe(credential.project_id);
      const validated = await fetch(`${cli.baseUrl}/identity/v3/auth/tokens`, {
        headers: { 'x-auth-token': token.id, 'x-subject-token': token.id },
      });
      const body = (await validated.json()) as { token: { roles: { name: string }[]; methods: string[] } };
      expect(body.token.methods).toEqual(['application_credential']);
      expect(body.token.roles.map((role) => role.name)).toEqual(['reader']);
      expect((await cli.openstack(['token', 'issue'], asCredential('wrong-secret'))).stderr).toMatch(
        /HTTP 401/,
      );

      expect(
        (await cli.openstack(['application', 'credential', 'delete', 'ci-cred'], asNebulaAdmin)).code,
      ).toBe(0);
      const afterDelete = await fetch(`${cli.baseUrl}/identity/v3/auth/catalog`, {
        headers: { 'x-auth-token': token.id },
      });
      expect(afterDelete.status).toBe(401);
    });

    it('works through clouds.yaml with --os-cloud', async () => {
      const result = run(
        [OPENSTACK_COMMAND, '--os-cloud', 'overcast', 'project', 'list', '-f', 'value', '-c', 'Name'],
        {
          allowFailure: true,
          env: {
            PATH: '/usr/bin:/bin',
            HOME: cli.workDir,
            OS_CLIENT_CONFIG_FILE: join(cli.workDir, 'data', 'clouds.yaml'),
          },
        },
      );
      const { code, stdout, stderr } = await result;
      expect(code, stderr).toBe(0);
      expect(stdout.split('\n').sort()).toEqual(expect.arrayContaining(['admin', 'nebula']));
    });

    it('keeps tokens of the previous primary key valid across fernet-rotate, until the key is purged', async () => {
      const token = JSON.parse((await cli.openstack(['token', 'issue', '-f', 'json'])).stdout).id as string;
      const validate = async () =>
        (
          await fetch(`${cli.baseUrl}/identity/v3/auth/tokens`, {
            headers: { 'x-auth-token': token, 'x-subject-token': token },
          })
        ).status;
      const rotate = () =>
        run([OVERCAST, 'manage', 'fernet-rotate', '--data-dir', join(cli.workDir, 'data')], {
          timeoutMs: 30_000,
        });
      expect((await rotate()).stdout).toMatch(/primary key is now 2/);
      // The server re-reads the key repository every few seconds.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(await validate()).toBe(200);
      // With three active keys, the second rotation purges the key the token was made with.
      expect((await rotate()).stdout).toMatch(/removed 1/);
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(await validate()).toBe(401);
      expect((await cli.openstack(['token', 'issue'])).code).toBe(0);
    });

    it('answers bad and revoked tokens the way Keystone does', async () => {
      const auth = await fetch(`${cli.baseUrl}/identity/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ['password'],
              password: {
                user: { name: 'admin', domain: { id: 'default' }, password: cli.adminEnv.OS_PASSWORD },
              },
            },
            scope: { project: { name: 'admin', domain: { id: 'default' } } },
          },
        }),
      });
      expect(auth.status).toBe(201);
      const token = auth.headers.get('x-subject-token')!;
      const tampered = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      const withToken = (authToken: string, subject: string, method = 'GET') =>
        fetch(`${cli.baseUrl}/identity/v3/auth/tokens`, {
          method,
          headers: { 'x-auth-token': authToken, 'x-subject-token': subject },
        });
      expect((await withToken(tampered, token)).status).toBe(401);
      expect((await withToken(token, tampered)).status).toBe(404);
      expect((await withToken(token, token)).status).toBe(200);
      const second = (await withToken(token, token)).headers.get('x-subject-token');
      expect(second).toBe(token);
      expect((await withToken(token, token, 'DELETE')).status).toBe(204);
      expect((await withToken(token, token)).status).toBe(401);
      const garbage = await fetch(`${cli.baseUrl}/identity/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"auth": ',
      });
      expect(garbage.status).toBe(400);
      expect(((await garbage.json()) as { error: { code: number } }).error.code).toBe(400);
    });
  },
);
