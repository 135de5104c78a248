// For tests of every service: the api-server in-process over a private SQLite database,
// bootstrapped like a fresh cloud, with helpers to call any service's API and to make projects
// with member users. (`.suite.ts` keeps it out of the build.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { createBus } from '../../lib/bus/index.js';
import { type Config, defaultConfig } from '../../lib/config.js';
import { openDatabase } from '../../lib/db/database.js';
import { migrateToLatest } from '../../lib/db/migrations.js';
import { createLogger } from '../../lib/log.js';
import { bootstrapIdentity } from '../identity/bootstrap.js';
import { buildApiServer } from '../server.js';
import { SERVICE_MIGRATIONS, SERVICES } from '../services.js';

export const ADMIN_PASSWORD = 'admin-secret';

/** A response body: whatever JSON the API returned, read by the tests' expectations. */
// biome-ignore lint/suspicious/noExplicitAny: tests index into arbitrary response JSON
type Json = any;

export type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface TestCloud {
  app: FastifyInstance;
  /** An identity API call (path below /identity/v3) with a token. */
  call(
    token: string,
    method: Method,
    url: string,
    payload?: unknown,
  ): Promise<{ status: number; body: Json }>;
  /** POST /v3/auth/tokens with `auth`; `query` is appended to the URL (e.g. "?nocatalog"). */
  issue(
    auth: Record<string, unknown>,
    query?: string,
  ): Promise<{ status: number; token: string; body: Json }>;
  /** A password token of a Default-domain user, scoped as asked ('unscoped' or a scope object). */
  byPassword(
    name: string,
    password: string,
    scope?: Record<string, unknown> | 'unscoped',
  ): Promise<{ status: number; token: string; body: Json }>;
  /** A fresh project-scoped token of the bootstrap admin. */
  adminToken(): Promise<string>;
  /** A new Default-domain project whose user `<name>-user` has the member role, and its token. */
  memberProject(adminToken: string, name: string): Promise<{ projectId: string; token: string }>;
  /**
   * A caller of one service's API (`prefix` such as '/network'), failing the test on any 5xx.
   * A `contentType` sends the payload as that type (JSON patch documents, for instance).
   */
  service(prefix: string): ServiceCall;
  close(): Promise<void>;
}

export type ServiceCall = (
  token: string,
  method: Method,
  url: string,
  payload?: unknown,
  contentType?: string,
) => Promise<{ status: number; body: Json }>;

/** `image` overrides the image service's defaults (a project quota, a size cap). */
export async function startTestCloud(image: Partial<Config['image']> = {}): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'overcast-identity-'));
  // bcrypt at its lowest cost keeps tests fast; the cost is configuration, not logic.
  const config: Config = {
    ...defaultConfig(),
    dataDir,
    identity: { ...defaultConfig().identity, passwordHashRounds: 4 },
    image: { ...defaultConfig().image, ...image },
  };
  const log = createLogger('test', 'silent');
  const database = await openDatabase('sqlite::memory:', { dataDir });
  await migrateToLatest(database, SERVICE_MIGRATIONS, log);
  await bootstrapIdentity(database, config, {
    adminPassword: ADMIN_PASSWORD,
    publicUrl: 'http://cloud.test',
    services: SERVICES,
  });
  const bus = await createBus('memory://', { log });
  const app = await buildApiServer({ config, database, bus }, log);

  const call: TestCloud['call'] = async (token, method, url, payload) => {
    const response = await app.inject({
      method,
      url: `/identity/v3${url}`,
      headers: { 'x-auth-token': token },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: response.statusCode, body: response.body ? response.json() : undefined };
  };
  const issue: TestCloud['issue'] = async (auth, query = '') => {
    const response = await app.inject({
      method: 'POST',
      url: `/identity/v3/auth/tokens${query}`,
      payload: { auth },
    });
    return {
      status: response.statusCode,
      token: response.headers['x-subject-token'] as string,
      body: response.json(),
    };
  };
  const byPassword: TestCloud['byPassword'] = (name, password, scope) =>
    issue({
      identity: { methods: ['password'], password: { user: { name, password, domain: { id: 'default' } } } },
      ...(scope ? { scope } : {}),
    });
  const memberProject: TestCloud['memberProject'] = async (adminToken, name) => {
    const project = (await call(adminToken, 'POST', '/projects', { project: { name, domain_id: 'default' } }))
      .body.project;
    const user = (
      await call(adminToken, 'POST', '/users', {
        user: { name: `${name}-user`, password: 'pw', domain_id: 'default' },
      })
    ).body.user;
    const member = (await call(adminToken, 'GET', '/roles?name=member')).body.roles[0].id;
    await call(adminToken, 'PUT', `/projects/${project.id}/users/${user.id}/roles/${member}`);
    const { token } = await byPassword(`${name}-user`, 'pw', { project: { id: project.id } });
    return { projectId: project.id, token };
  };
  const service: TestCloud['service'] = (prefix) => async (token, method, url, payload, contentType) => {
    const headers: Record<string, string> = { 'x-auth-token': token };
    if (payload !== undefined) headers['content-type'] = contentType ?? 'application/json';
    const response = await app.inject({
      method,
      url: `${prefix}${url}`,
      headers,
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(500);
    return { status: response.statusCode, body: response.body ? response.json() : undefined };
  };
  return {
    app,
    call,
    issue,
    byPassword,
    memberProject,
    service,
    adminToken: async () =>
      (await byPassword('admin', ADMIN_PASSWORD, { project: { name: 'admin', domain: { id: 'default' } } }))
        .token,
    async close() {
      await app.close();
      await bus.close();
      await database.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
