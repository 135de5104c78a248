// For tests: the api-server in-process over a private SQLite database, bootstrapped like a
// fresh cloud, with helpers to call the identity API. (`.suite.ts` keeps it out of the build.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createBus } from '../../lib/bus/index.js';
import { type Config, defaultConfig } from '../../lib/config.js';
import { openDatabase } from '../../lib/db/database.js';
import { migrateToLatest } from '../../lib/db/migrations.js';
import { createLogger } from '../../lib/log.js';
import { buildApiServer } from '../server.js';
import { SERVICE_MIGRATIONS, SERVICES } from '../services.js';
import { bootstrapIdentity } from './bootstrap.js';

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
  close(): Promise<void>;
}

export async function startTestCloud(): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'overcast-identity-'));
  // bcrypt at its lowest cost keeps tests fast; the cost is configuration, not logic.
  const config: Config = {
    ...defaultConfig(),
    dataDir,
    identity: { ...defaultConfig().identity, passwordHashRounds: 4 },
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
  return {
    app,
    call,
    issue,
    byPassword,
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
