import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBus } from '../lib/bus/index.js';
import type { MessageBus } from '../lib/bus/types.js';
import { defaultConfig } from '../lib/config.js';
import { type Database, openDatabase } from '../lib/db/database.js';
import { migrateToLatest } from '../lib/db/migrations.js';
import { createLogger } from '../lib/log.js';
import type { ServiceDependencies } from './common/dependencies.js';
import { keystoneErrorBody } from './common/error-bodies.js';
import { Conflict } from './common/errors.js';
import type { OpenStackService } from './common/service.js';
import { keyRepositoryPath } from './identity/runtime.js';
import { setupKeyRepository } from './identity/tokens/keys.js';
import { buildApiServer, REQUEST_ID_HEADER } from './server.js';
import { SERVICE_MIGRATIONS, SERVICES } from './services.js';

// A service that exists only in this test, to exercise validation and error handling
// through the same mounting path the real services use.
const probeRoutes: FastifyPluginAsync<ServiceDependencies> = async (app) => {
  app.post(
    '/things',
    {
      schema: {
        body: Type.Object(
          {
            thing: Type.Object(
              { name: Type.String({ minLength: 1, maxLength: 64 }) },
              { additionalProperties: false },
            ),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => reply.code(201).send(request.body),
  );
  app.post('/conflict', async () => {
    throw new Conflict('Duplicate entry for thing alpha.');
  });
  app.get('/crash', async () => {
    throw new Error('database password=hunter2 leaked in a stack trace');
  });
  app.get('/slow', async () => {
    await sleep(400);
    return { done: true };
  });
};

const probeService: OpenStackService = {
  name: 'probe',
  type: 'probe',
  catalogName: 'probe',
  prefix: '/probe',
  endpointPath: '/probe',
  errorBody: keystoneErrorBody,
  routes: probeRoutes,
  migrations: { service: 'probe', migrations: {} },
  policyDefaults: {},
};

let app: FastifyInstance;
let database: Database;
let bus: MessageBus;

beforeEach(async () => {
  const config = { ...defaultConfig(), dataDir: mkdtempSync(join(tmpdir(), 'overcast-server-')) };
  setupKeyRepository(keyRepositoryPath(config));
  const log = createLogger('test', 'silent');
  database = await openDatabase('sqlite::memory:', { dataDir: config.dataDir });
  await migrateToLatest(database, SERVICE_MIGRATIONS, log);
  bus = await createBus('memory://', { log });
  app = await buildApiServer({ config, database, bus }, log, [...SERVICES, probeService]);
});

afterEach(async () => {
  await app.close();
  await bus.close();
  await database.destroy();
});

describe('version discovery', () => {
  it('answers Keystone discovery at /identity and the root with 300 and an absolute v3 link', async () => {
    for (const url of ['/identity', '/']) {
      const response = await app.inject({ url, headers: { host: 'cloud.test:5000' } });
      expect(response.statusCode).toBe(300);
      const [v3] = response.json().versions.values;
      expect(v3).toMatchObject({ id: 'v3.14', status: 'stable' });
      expect(v3.links).toContainEqual({ rel: 'self', href: 'http://cloud.test:5000/identity/v3/' });
    }
    const v3 = await app.inject({ url: '/identity/v3', headers: { host: 'cloud.test:5000' } });
    expect(v3.statusCode).toBe(200);
    expect(v3.json().version.id).toBe('v3.14');
  });

  it('gives compute the microversion range openstacksdk negotiates with', async () => {
    const { version } = (await app.inject({ url: '/compute/v2.1' })).json();
    expect(version).toMatchObject({ id: 'v2.1', status: 'CURRENT', min_version: '2.1' });
    expect(version.version).toMatch(/^2\.\d+$/);
    expect(version.links[0].href).toMatch(/\/compute\/v2\.1\/$/);
  });

  it('lists image, network and placement versions', async () => {
    const image = await app.inject({ url: '/image' });
    expect(image.statusCode).toBe(300);
    expect(image.json().versions[0]).toMatchObject({ id: 'v2.16', status: 'CURRENT' });
    expect((await app.inject({ url: '/network' })).json().versions[0].id).toBe('v2.0');
    expect((await app.inject({ url: '/network/v2.0' })).json()).toHaveProperty('resources');
    expect((await app.inject({ url: '/placement' })).json().versions[0]).toMatchObject({
      min_version: '1.0',
    });
  });
});

describe('request ids', () => {
  it('stamps every response, success or error, with a fresh x-openstack-request-id', async () => {
    const ok = await app.inject({ url: '/identity/v3' });
    const missing = await app.inject({ url: '/nowhere' });
    for (const response of [ok, missing]) {
      expect(response.headers[REQUEST_ID_HEADER]).toMatch(/^req-[0-9a-f-]{36}$/);
    }
    expect(ok.headers[REQUEST_ID_HEADER]).not.toBe(missing.headers[REQUEST_ID_HEADER]);
  });
});

describe('OpenStack error bodies', () => {
  it('answers an unknown path in each service in that service’s own format', async () => {
    expect((await app.inject({ url: '/identity/v3/nope' })).json()).toMatchObject({
      error: { code: 404, title: 'Not Found' },
    });
    expect((await app.inject({ url: '/image/v2/nope' })).json()).toMatchObject({ code: '404 Not Found' });
    expect((await app.inject({ url: '/compute/v2.1/nope' })).json()).toMatchObject({
      itemNotFound: { code: 404 },
    });
    expect((await app.inject({ url: '/network/v2.0/nope' })).json()).toMatchObject({
      NeutronError: { type: 'HTTPNotFound' },
    });
    const placement = await app.inject({ url: '/placement/nope' });
    expect(placement.statusCode).toBe(404);
    expect(placement.json().errors[0]).toMatchObject({
      status: 404,
      request_id: placement.headers[REQUEST_ID_HEADER],
    });
  });

  it('rejects malformed JSON, unknown fields and bad values with 400', async () => {
    const post = (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/probe/things',
        payload,
        headers: { 'content-type': 'application/json' },
      });
    const malformed = await post('{"thing": ');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.message).toMatch(/Malformed JSON/);
    expect((await post('{"thing": {"name": "a", "colour": "red"}}')).statusCode).toBe(400);
    expect((await post('{"thing": {"name": ""}}')).statusCode).toBe(400);
    expect((await post('{"thing": {"name": "alpha"}}')).statusCode).toBe(201);
  });

  it('takes an empty body labelled JSON as no body, as OpenStack services do', async () => {
    const empty = await app.inject({
      method: 'POST',
      url: '/probe/conflict',
      payload: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(empty.statusCode).toBe(409);
    const required = await app.inject({
      method: 'POST',
      url: '/probe/things',
      payload: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(required.statusCode).toBe(400);
    const poisoned = await app.inject({
      method: 'POST',
      url: '/probe/things',
      payload: '{"thing": {"name": "a"}, "__proto__": {"x": 1}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(poisoned.statusCode).toBe(400);
  });

  it('rejects oversized bodies with 413 and unsupported media types with 415', async () => {
    const huge = JSON.stringify({ thing: { name: 'x'.repeat(200_000) } });
    const tooLarge = await app.inject({
      method: 'POST',
      url: '/probe/things',
      payload: huge,
      headers: { 'content-type': 'application/json' },
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json().error.code).toBe(413);
    const xml = await app.inject({
      method: 'POST',
      url: '/probe/things',
      payload: '<thing/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(xml.statusCode).toBe(415);
  });

  it('turns typed domain errors into their status', async () => {
    const response = await app.inject({ method: 'POST', url: '/probe/conflict' });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.message).toBe('Duplicate entry for thing alpha.');
  });

  it('hides the details of unexpected failures', async () => {
    const response = await app.inject({ url: '/probe/crash' });
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toContain('at ');
  });
});

describe('health and shutdown', () => {
  it('reports healthy when the database and bus answer, 503 when the database is gone', async () => {
    const healthy = await app.inject({ url: '/healthz' });
    expect(healthy.statusCode).toBe(200);
    expect(healthy.json()).toEqual({ status: 'ok', checks: { database: 'ok', bus: 'ok' } });
    await database.destroy();
    const failing = await app.inject({ url: '/healthz' });
    expect(failing.statusCode).toBe(503);
    expect(failing.json().checks.database).toMatch(/^failing/);
    database = await openDatabase('sqlite::memory:', { dataDir: '/tmp' });
  });

  it('finishes in-flight requests on close and refuses new ones', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const inFlight = fetch(`http://127.0.0.1:${port}/probe/slow`);
    await sleep(100);
    const closing = app.close();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await closing;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
