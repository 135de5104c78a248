// The client against the real api-server on loopback, and relays in front of it that record
// what was sent and fail requests on purpose (see live-cloud.suite.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../exec.js';
import { createLogger } from '../log.js';
import { type ClientOptions, OpenStackClient } from './client.js';
import { parseCloudsYaml } from './config.js';
import {
  BadRequest,
  ConfigurationError,
  Conflict,
  ConnectionFailed,
  EndpointNotFound,
  NotFound,
  QuotaExceeded,
  ServerError,
  Unauthorized,
} from './errors.js';
import {
  type LiveCloud,
  PROJECT_IMAGE_QUOTA_BYTES,
  type RecordedRequest,
  startLiveCloud,
  startRelay,
} from './live-cloud.suite.js';

const ALICE_PASSWORD = 'alice-Long-Secret-pw';
const FAST_RETRIES: ClientOptions['retry'] = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 };

let live: LiveCloud;
let projectId: string;
let aliceId: string;
const clients: OpenStackClient[] = [];

/** clouds.yaml for a member of nebula through the front relay, the password in secure.yaml. */
function memberCloud(username: string, password: string, extra = '') {
  const clouds = `
clouds:
  nebula:
    auth:
      auth_url: ${live.front.url}/identity
      username: ${username}
      user_domain_name: Default
      project_name: nebula
      project_domain_id: default
    region_name: RegionOne
${extra}`;
  return parseCloudsYaml(clouds, 'nebula', `clouds: {nebula: {auth: {password: ${password}}}}`);
}

const aliceCloud = (extra = '') => memberCloud('alice', ALICE_PASSWORD, extra);

function client(cloud = aliceCloud(), options: ClientOptions = {}) {
  const made = new OpenStackClient(cloud, { retry: FAST_RETRIES, ...options });
  clients.push(made);
  return made;
}

/** The bootstrap admin, scoped to the admin project. */
function adminClient() {
  return client(
    parseCloudsYaml(
      `clouds: {admin: {auth: {auth_url: '${live.front.url}/identity', username: admin, password: admin-secret, user_domain_id: default, project_name: admin, project_domain_id: default}}}`,
      'admin',
    ),
  );
}

const count = (requests: RecordedRequest[], method: string, path: RegExp) =>
  requests.filter((request) => request.method === method && path.test(request.url)).length;
const AUTH = /^\/identity\/v3\/auth\/tokens$/;
const NETWORKS = /^\/network\/v2\.0\/networks$/;

/** A new Default-domain user with the member role in nebula; its id. */
async function addMember(name: string, password: string): Promise<string> {
  const call = live.test.call;
  const userId = (
    await call(live.adminToken, 'POST', '/users', { user: { name, password, domain_id: 'default' } })
  ).body.user.id;
  const member = (await call(live.adminToken, 'GET', '/roles?name=member')).body.roles[0].id;
  await call(live.adminToken, 'PUT', `/projects/${projectId}/users/${userId}/roles/${member}`);
  return userId;
}

beforeAll(async () => {
  live = await startLiveCloud();
  projectId = (
    await live.test.call(live.adminToken, 'POST', '/projects', {
      project: { name: 'nebula', domain_id: 'default' },
    })
  ).body.project.id;
  aliceId = await addMember('alice', ALICE_PASSWORD);
});

afterAll(async () => {
  for (const made of clients) made.close();
  await live?.close();
});

describe('authentication and the catalog', () => {
  it('authenticates with a password from clouds.yaml, once, and finds every service at its versioned URL', async () => {
    const before = count(live.front.requests, 'POST', AUTH);
    const nebula = client();
    expect(await nebula.projectId()).toBe(projectId);
    const front = live.front.url;
    expect(await nebula.endpoint('network')).toBe(`${front}/network/v2.0`);
    expect(await nebula.endpoint('image')).toBe(`${front}/image/v2`);
    expect(await nebula.endpoint('compute')).toBe(`${front}/compute/v2.1`);
    expect(await nebula.endpoint('identity')).toBe(`${front}/identity/v3`);
    expect(await nebula.endpoint('placement')).toBe(`${front}/placement`);
    const listed = await nebula.service('network').get('/networks');
    expect(listed.status).toBe(200);
    expect(listed.body.networks).toEqual([]);
    expect(listed.requestId).toMatch(/^req-/);
    expect(count(live.front.requests, 'POST', AUTH) - before).toBe(1);
  });

  it('concurrent first calls share one authentication', async () => {
    const before = count(live.front.requests, 'POST', AUTH);
    const nebula = client();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => nebula.service('network').get('/networks')),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    expect(count(live.front.requests, 'POST', AUTH) - before).toBe(1);
  });

  it('replaces a token that is within the expiry margin before using it', async () => {
    let before = count(live.front.requests, 'POST', AUTH);
    const usual = client().session;
    expect((await usual.token()).value).toBe((await usual.token()).value);
    expect(count(live.front.requests, 'POST', AUTH) - before).toBe(1);

    before = count(live.front.requests, 'POST', AUTH);
    // A margin longer than the token's whole life: every token is already too close to expiry.
    const cautious = client(aliceCloud(), { expiryMarginMs: 10 * 24 * 3600_000 }).session;
    expect((await cautious.token()).value).not.toBe((await cautious.token()).value);
    expect(count(live.front.requests, 'POST', AUTH) - before).toBe(2);
  });

  it('speaks TLS to a server its CA vouches for, refuses an unknown certificate, and skips the check when insecure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-client-tls-'));
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    await run([
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const cert = readFileSync(certFile, 'utf8');
    const secure = await startRelay(live.directUrl, { key: readFileSync(keyFile, 'utf8'), cert });
    try {
      const base = aliceCloud();
      const overTls = { ...base, auth: { ...base.auth, auth_url: `${secure.url}/identity` } };
      expect(await client(overTls, { ca: cert }).projectId()).toBe(projectId);
      expect(await client({ ...overTls, cacert: certFile }).projectId()).toBe(projectId);
      expect(await client({ ...overTls, verify: false }).projectId()).toBe(projectId);
      const unknown = await client(overTls, { retry: { maxAttempts: 1 } })
        .projectId()
        .catch((error: unknown) => error);
      expect(unknown).toBeInstanceOf(ConnectionFailed);
      expect((unknown as ConnectionFailed).code).toMatch(/SELF_SIGNED/);
      const missing = join(dir, 'missing.pem');
      expect(() => client({ ...overTls, cacert: missing })).toThrow(
        new ConfigurationError(`cloud "nebula": cacert ${missing} cannot be read (ENOENT)`),
      );
    } finally {
      await secure.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('picks the interface and region asked for, per client or per service, and honours endpoint overrides', async () => {
    const internal = client(aliceCloud('    interface: internal'));
    expect(await internal.endpoint('network')).toBe(`${live.directUrl}/network/v2.0`);
    expect(await internal.endpoint('image')).toBe(`${live.directUrl}/image/v2`);

    const networkInternal = client(aliceCloud('    network_interface: internal'));
    expect(await networkInternal.endpoint('network')).toBe(`${live.directUrl}/network/v2.0`);
    expect(await networkInternal.endpoint('image')).toBe(`${live.front.url}/image/v2`);

    const nebula = client();
    const regionTwo = nebula.service('network', { regionName: 'RegionTwo' });
    expect(await regionTwo.baseUrl()).toBe(`${live.regionTwo.url}/network/v2.0`);
    expect((await regionTwo.get('/networks')).status).toBe(200);
    expect(count(live.regionTwo.requests, 'GET', NETWORKS)).toBe(1);
    await expect(nebula.endpoint('image', { regionName: 'RegionTwo' })).rejects.toThrow(
      new EndpointNotFound('the catalog has no public image endpoint in region RegionTwo'),
    );

    const overridden = client(aliceCloud(`    network_endpoint_override: ${live.regionTwo.url}/network`));
    expect(await overridden.endpoint('network')).toBe(`${live.regionTwo.url}/network/v2.0`);
  });

  it('authenticates with an application credential, by id or by name with its user', async () => {
    const alice = client();
    const created = await alice.service('identity').post(`/users/${aliceId}/application_credentials`, {
      application_credential: { name: 'operator' },
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.body.application_credential;
    const byId = client(
      parseCloudsYaml(
        `clouds: {op: {auth_type: v3applicationcredential, auth: {auth_url: '${live.front.url}/identity/v3', application_credential_id: ${id}, application_credential_secret: ${secret}}}}`,
        'op',
      ),
    );
    expect(await byId.projectId()).toBe(projectId);
    expect((await byId.service('network').get('/networks')).status).toBe(200);
    const byName = client(
      parseCloudsYaml(
        `clouds: {op: {auth: {auth_url: '${live.front.url}/identity', application_credential_name: operator, username: alice, user_domain_id: default, application_credential_secret: ${secret}}}}`,
        'op',
      ),
    );
    expect(byName.cloud.authType).toBe('v3applicationcredential');
    expect(await byName.projectId()).toBe(projectId);
  });

  it('a revoked token is replaced once and the call succeeds', async () => {
    const nebula = client();
    const network = nebula.service('network');
    await network.get('/networks');
    const revoked = (await nebula.session.token()).value;
    const revoke = await fetch(`${live.directUrl}/identity/v3/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': live.adminToken, 'x-subject-token': revoked },
    });
    expect(revoke.status).toBe(204);

    const before = count(live.front.requests, 'POST', AUTH);
    expect((await network.get('/networks')).status).toBe(200);
    expect(count(live.front.requests, 'POST', AUTH) - before).toBe(1);
    expect((await nebula.session.token()).value).not.toBe(revoked);
  });

  it('a user Keystone stops accepting fails Unauthorized after one new authentication, not a loop', async () => {
    const carolPassword = 'carol-Long-Secret-pw';
    const carolId = await addMember('carol', carolPassword);
    const network = client(memberCloud('carol', carolPassword)).service('network');
    await network.get('/networks');
    // Disabling a user revokes her tokens; Keystone then refuses her password too.
    await live.test.call(live.adminToken, 'PATCH', `/users/${carolId}`, { user: { enabled: false } });
    const before = count(live.front.requests, 'POST', AUTH);
    const refused = await network.get('/networks').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Unauthorized);
    expect((refused as Error).message).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/identity\/v3\/auth\/tokens answered 401/,
    );
    expect((refused as Error).message).not.toContain(carolPassword);
    expect(count(live.front.requests, 'POST', AUTH) - before).toBe(1);
  });
});

describe('pagination', () => {
  it('walks Neutron networks page by page through networks_links', async () => {
    const network = client().service('network');
    const created = new Set<string>();
    for (let i = 0; i < 23; i++) {
      created.add((await network.post('/networks', { network: { name: `page-net-${i}` } })).body.network.id);
    }
    const pagesBefore = count(live.front.requests, 'GET', /^\/network\/v2\.0\/networks\?/);
    const listed: { id: string; name: string }[] = [];
    for await (const item of network.list<{ id: string; name: string }>('/networks', 'networks', {
      limit: 5,
    })) {
      listed.push(item);
    }
    expect(new Set(listed.map((item) => item.id))).toEqual(created);
    expect(listed).toHaveLength(23);
    // Five full pages and the last of three.
    expect(count(live.front.requests, 'GET', /^\/network\/v2\.0\/networks\?/) - pagesBefore).toBe(5);

    const filtered: unknown[] = [];
    for await (const item of network.list('/networks', 'networks', { query: { name: 'page-net-7' } }))
      filtered.push(item);
    expect(filtered).toHaveLength(1);
  });

  it("walks Glance images through its version-relative next, and Keystone's links", async () => {
    const nebula = client();
    const image = nebula.service('image');
    const created = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const answer = await image.post('/images', {
        name: `page-img-${i}`,
        disk_format: 'raw',
        container_format: 'bare',
      });
      expect(answer.status).toBe(201);
      created.add(answer.body.id);
    }
    const pagesBefore = count(live.front.requests, 'GET', /^\/image\/v2\/images\?/);
    const listed: string[] = [];
    for await (const item of image.list<{ id: string }>('/images', 'images', { limit: 5 }))
      listed.push(item.id);
    expect(new Set(listed)).toEqual(created);
    expect(listed).toHaveLength(12);
    expect(count(live.front.requests, 'GET', /^\/image\/v2\/images\?/) - pagesBefore).toBeGreaterThanOrEqual(
      3,
    );

    const projects: string[] = [];
    const admin = adminClient();
    for await (const project of admin.service('identity').list<{ name: string }>('/projects', 'projects')) {
      projects.push(project.name);
    }
    expect(projects).toEqual(expect.arrayContaining(['admin', 'nebula']));

    // Keystone pages nothing: a limit it ignores gives every project once, whether the page
    // comes back longer than the limit or (asking for marker pages) exactly as long.
    for (const limit of [1, projects.length]) {
      const limited: string[] = [];
      for await (const project of admin
        .service('identity')
        .list<{ name: string }>('/projects', 'projects', { limit })) {
        limited.push(project.name);
      }
      expect(limited).toEqual(projects);
    }
  });
});

describe('typed errors from real answers', () => {
  it('NotFound from Neutron, Glance and Keystone, with the service type and request id', async () => {
    const nebula = client();
    const missing = '1b7e4d0c-2f1a-4c4e-9d4e-7a0f7c3f0a11';
    const network = await nebula
      .service('network')
      .get(`/networks/${missing}`)
      .catch((error: unknown) => error);
    expect(network).toBeInstanceOf(NotFound);
    expect(network).toMatchObject({
      status: 404,
      type: 'NetworkNotFound',
      requestId: expect.stringMatching(/^req-/),
    });
    expect((network as Error).message).toContain(`Network ${missing} could not be found.`);
    await expect(nebula.service('image').get(`/images/${missing}`)).rejects.toBeInstanceOf(NotFound);
    await expect(nebula.service('identity').get(`/projects/${missing}`)).rejects.toBeInstanceOf(NotFound);
  });

  it('BadRequest, Conflict (sent once unless the caller says it is transient) and QuotaExceeded', async () => {
    const network = client().service('network');
    await expect(
      network.post('/networks', { network: { admin_state_up: 'sideways' } }),
    ).rejects.toBeInstanceOf(BadRequest);

    const inUse = (await network.post('/networks', { network: { name: 'in-use' } })).body.network.id;
    await network.post('/subnets', { subnet: { network_id: inUse, cidr: '10.9.0.0/24', ip_version: 4 } });
    await network.post('/ports', { port: { network_id: inUse } });
    const deletes = new RegExp(`^/network/v2\\.0/networks/${inUse}$`);
    const conflict = await network.delete(`/networks/${inUse}`).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(Conflict);
    expect(conflict).toMatchObject({ type: 'NetworkInUse' });
    expect(count(live.front.requests, 'DELETE', deletes)).toBe(1);
    await expect(
      network.delete(`/networks/${inUse}`, { retry: { retryConflict: true } }),
    ).rejects.toBeInstanceOf(Conflict);
    expect(count(live.front.requests, 'DELETE', deletes)).toBe(1 + 4);

    const quotaProject = (
      await live.test.call(live.adminToken, 'POST', '/projects', {
        project: { name: 'quota', domain_id: 'default' },
      })
    ).body.project.id;
    const admin = adminClient().service('network');
    await admin.put(`/quotas/${quotaProject}`, { quota: { network: 1 } });
    await admin.post('/networks', { network: { name: 'first', project_id: quotaProject } });
    const over = await admin
      .post('/networks', { network: { name: 'second', project_id: quotaProject } })
      .catch((error: unknown) => error);
    expect(over).toBeInstanceOf(QuotaExceeded);
    expect(over).toMatchObject({ status: 409, type: 'OverQuota' });

    const image = client().service('image');
    const { id } = (
      await image.post('/images', { name: 'too-big', disk_format: 'raw', container_format: 'bare' })
    ).body;
    const tooBig = await image
      .put(`/images/${id}/file`, undefined, { rawBody: Buffer.alloc(PROJECT_IMAGE_QUOTA_BYTES + 1) })
      .catch((error: unknown) => error);
    expect(tooBig).toBeInstanceOf(QuotaExceeded);
    expect(tooBig).toMatchObject({ status: 413 });
    expect((tooBig as Error).message).toMatch(/Image exceeds the storage quota/);
    const fits = await image.put(`/images/${id}/file`, undefined, {
      rawBody: Buffer.alloc(PROJECT_IMAGE_QUOTA_BYTES),
    });
    expect(fits.status).toBe(204);
    expect((await image.get(`/images/${id}`)).body).toMatchObject({
      status: 'active',
      size: PROJECT_IMAGE_QUOTA_BYTES,
    });
  });
});

describe('retries', () => {
  it('sends a GET again after 503s and connection resets, and gives up after the last attempt', async () => {
    const network = client().service('network');
    await network.get('/networks');

    let before = count(live.front.requests, 'GET', NETWORKS);
    live.front.fail(2, { method: 'GET', path: NETWORKS }, { kind: 'status', status: 503 });
    expect((await network.get('/networks')).status).toBe(200);
    expect(count(live.front.requests, 'GET', NETWORKS) - before).toBe(3);

    before = count(live.front.requests, 'GET', NETWORKS);
    live.front.fail(3, { method: 'GET', path: NETWORKS }, { kind: 'reset' });
    expect((await network.get('/networks')).status).toBe(200);
    expect(count(live.front.requests, 'GET', NETWORKS) - before).toBe(4);

    before = count(live.front.requests, 'GET', NETWORKS);
    live.front.fail(10, { method: 'GET', path: NETWORKS }, { kind: 'status', status: 502 });
    await expect(network.get('/networks')).rejects.toBeInstanceOf(ServerError);
    expect(count(live.front.requests, 'GET', NETWORKS) - before).toBe(4);
    live.front.clearFailures();
  });

  it('streams a Readable body once: never resent, and a stream that fails aborts the upload', async () => {
    const image = adminClient().service('image');
    const FILE = /\/images\/[^/]+\/file$/;
    const queued = async () =>
      (await image.post('/images', { name: 'streamed', disk_format: 'raw', container_format: 'bare' })).body
        .id;
    const id = await queued();
    const chunks = [Buffer.from('streamed '), Buffer.from('image data')];
    expect(
      (await image.put(`/images/${id}/file`, undefined, { rawBody: Readable.from(chunks) })).status,
    ).toBe(204);
    expect((await image.get(`/images/${id}`)).body).toMatchObject({ status: 'active', size: 19 });

    const refused = await queued();
    const before = count(live.front.requests, 'PUT', FILE);
    live.front.fail(1, { method: 'PUT', path: FILE }, { kind: 'status', status: 503 });
    await expect(
      image.put(`/images/${refused}/file`, undefined, { rawBody: Readable.from(chunks) }),
    ).rejects.toBeInstanceOf(ServerError);
    expect(count(live.front.requests, 'PUT', FILE) - before).toBe(1);

    const broken = new Readable({ read() {} });
    broken.push(Buffer.alloc(100));
    const failure = image.put(`/images/${refused}/file`, undefined, { rawBody: broken });
    setTimeout(() => broken.destroy(new Error('source went away')), 50);
    const error = await failure.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(((error as Error).cause as Error).message).toBe('source went away');
    await vi.waitFor(async () => expect((await image.get(`/images/${refused}`)).body.status).toBe('queued'));
  });

  it('does not send a creation again when the server may have acted on it', async () => {
    const network = client().service('network');
    await network.get('/networks');
    let before = count(live.front.requests, 'POST', NETWORKS);
    live.front.fail(1, { method: 'POST', path: NETWORKS }, { kind: 'reset' });
    const reset = await network
      .post('/networks', { network: { name: 'maybe' } })
      .catch((error: unknown) => error);
    expect(reset).toBeInstanceOf(ConnectionFailed);
    expect(count(live.front.requests, 'POST', NETWORKS) - before).toBe(1);

    before = count(live.front.requests, 'POST', NETWORKS);
    live.front.fail(1, { method: 'POST', path: NETWORKS }, { kind: 'status', status: 500 });
    await expect(network.post('/networks', { network: { name: 'maybe' } })).rejects.toBeInstanceOf(
      ServerError,
    );
    expect(count(live.front.requests, 'POST', NETWORKS) - before).toBe(1);

    before = count(live.front.requests, 'POST', NETWORKS);
    live.front.fail(1, { method: 'POST', path: NETWORKS }, { kind: 'status', status: 503 });
    expect((await network.post('/networks', { network: { name: 'after-503' } })).status).toBe(201);
    expect(count(live.front.requests, 'POST', NETWORKS) - before).toBe(2);
  });

  it('waits as long as Retry-After asks', async () => {
    const network = client(aliceCloud(), {
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5_000 },
    }).service('network');
    await network.get('/networks');
    live.front.fail(1, { method: 'GET', path: NETWORKS }, { kind: 'status', status: 503, retryAfter: '1' });
    const started = Date.now();
    expect((await network.get('/networks')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('gives up on a server that never answers after the timeout', async () => {
    const network = client(aliceCloud(), { retry: { maxAttempts: 1 }, timeoutMs: 300 }).service('network');
    await network.get('/networks');
    live.front.fail(1, { method: 'GET', path: NETWORKS }, { kind: 'hang' });
    const timedOut = await network.get('/networks').catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(ConnectionFailed);
    expect(timedOut).toMatchObject({ code: 'ETIMEDOUT' });
  });
});

describe('headers and secrets', () => {
  it('asks Nova for a microversion in both of its headers', async () => {
    const compute = client().service('compute', { microversion: '2.61' });
    const version = await compute.get('');
    expect(version.body.version.id).toBe('v2.1');
    const sent = live.front.requests.filter((request) => request.url === '/compute/v2.1').at(-1);
    expect(sent?.headers).toMatchObject({
      'x-openstack-nova-api-version': '2.61',
      'openstack-api-version': 'compute 2.61',
    });
  });

  it("speaks to a service without Keystone (auth_type none): no token, the caller's identity headers", async () => {
    const before = count(live.front.requests, 'POST', AUTH);
    const peer = client(
      parseCloudsYaml(
        `clouds: {peer: {auth_type: none, compute_endpoint_override: '${live.front.url}/compute'}}`,
        'peer',
      ),
      { headers: { 'x-project-id': 'bench-project', 'x-roles': 'admin' } },
    );
    expect(await peer.projectId()).toBeUndefined();
    const version = await peer.service('compute').get('');
    expect(version.body.version.id).toBe('v2.1');
    const sent = live.front.requests.filter((request) => request.url === '/compute/v2.1').at(-1);
    expect(sent?.headers).toMatchObject({ 'x-project-id': 'bench-project', 'x-roles': 'admin' });
    expect(sent?.headers).not.toHaveProperty('x-auth-token');
    expect(count(live.front.requests, 'POST', AUTH)).toBe(before);
    await expect(peer.endpoint('network')).rejects.toThrow(
      new ConfigurationError('cloud "peer" uses auth_type none, so network needs an endpoint override'),
    );
  });

  it('never lets a password or token into an error or a log line, even from a server that echoes them', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger('client-test', 'debug', sink);
    const nebula = client(aliceCloud(), { log });
    const network = nebula.service('network');
    await network.get('/networks');
    const token = (await nebula.session.token()).value;
    live.front.fail(1, { method: 'GET', path: NETWORKS }, { kind: 'echo', status: 400 });
    const echoed = await network.get('/networks').catch((error: unknown) => error);
    expect(echoed).toBeInstanceOf(BadRequest);
    expect((echoed as Error).message).toContain('"x-auth-token":"***"');
    expect((echoed as Error).message).not.toContain(token);

    const fresh = client(aliceCloud(), { log });
    live.front.fail(1, { method: 'POST', path: AUTH }, { kind: 'echo', status: 400 });
    const auth = await fresh
      .service('network')
      .get('/networks')
      .catch((error: unknown) => error);
    expect(auth).toBeInstanceOf(BadRequest);
    expect((auth as Error).message).toContain('"password":"***"');
    expect((auth as Error).message).not.toContain(ALICE_PASSWORD);

    live.front.fail(1, { method: 'GET', path: NETWORKS }, { kind: 'status', status: 503 });
    await network.get('/networks');
    const logged = lines.join('');
    expect(logged).toContain('retrying OpenStack call');
    expect(logged).toContain('OpenStack call');
    expect(logged).not.toContain(ALICE_PASSWORD);
    expect(logged).not.toContain(token);
  });
});
