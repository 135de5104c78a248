// Image data over HTTP against the api-server in-process (SQLite in memory, a temporary store
// directory): uploads, downloads and byte ranges, and every way an upload can fail — each
// leaving the image queued and nothing in the store.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, type MessageBus } from '../../../lib/bus/index.js';
import { type Config, defaultConfig } from '../../../lib/config.js';
import { type Database, openDatabase } from '../../../lib/db/database.js';
import { migrateToLatest } from '../../../lib/db/migrations.js';
import { createLogger } from '../../../lib/log.js';
import { bootstrapIdentity } from '../../identity/bootstrap.js';
import { buildApiServer } from '../../server.js';
import { SERVICE_MIGRATIONS, SERVICES } from '../../services.js';
import { deleteImage, updateImage } from '../store.js';
import type { ImageTables } from '../tables.js';

const ADMIN_PASSWORD = 'admin-secret';
const MiB = 1024 * 1024;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: tests index into arbitrary response JSON
  json(): any;
}

interface RequestOptions {
  token?: string;
  headers?: Record<string, string | number>;
  /** A buffer is sent with its Content-Length; a stream is sent chunked. */
  body?: Buffer | string | Readable;
}

/** A cloud listening on a loopback port: real sockets, so streaming and aborts are real too. */
interface ImageCloud {
  baseUrl: string;
  storeDir: string;
  adminToken: string;
  adminProjectId: string;
  database: Database;
  call(method: string, path: string, options?: RequestOptions): Promise<Answer>;
  /** Stops the server as a crash would leave things, keeping its data directory and database. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

function send(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.token) headers['x-auth-token'] = options.token;
    const request = httpRequest(new URL(path, baseUrl), { method, headers, agent: false });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
          json: () => JSON.parse(body.toString()),
        });
      });
      response.on('error', reject);
    });
    // The server may answer (413) and stop reading before the body is all sent: a write error
    // after the answer arrived is expected, not a failure.
    request.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (options.body instanceof Readable) options.body.pipe(request);
    else request.end(options.body);
  });
}

/** A cloud on a fresh data directory, or on the one of a cloud that was stopped (a restart). */
async function startImageCloud(
  image: Partial<Config['image']> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'overcast-image-data-')),
): Promise<ImageCloud> {
  const defaults = defaultConfig();
  const config: Config = {
    ...defaults,
    dataDir,
    identity: { ...defaults.identity, passwordHashRounds: 4 },
    image: { ...defaults.image, ...image },
  };
  const log = createLogger('test', 'silent');
  const database: Database = await openDatabase('sqlite:overcast.db', { dataDir });
  await migrateToLatest(database, SERVICE_MIGRATIONS, log);
  await bootstrapIdentity(database, config, {
    adminPassword: ADMIN_PASSWORD,
    publicUrl: 'http://cloud.test',
    services: SERVICES,
  });
  const bus: MessageBus = await createBus('memory://', { log });
  const app: FastifyInstance = await buildApiServer({ config, database, bus }, log);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const issued = await send(baseUrl, 'POST', '/identity/v3/auth/tokens', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', password: ADMIN_PASSWORD, domain: { id: 'default' } } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  const adminToken = issued.headers['x-subject-token'] as string;
  const stop = async () => {
    await app.close();
    await bus.close();
    await database.destroy();
  };
  return {
    baseUrl,
    storeDir: join(dataDir, 'images'),
    adminToken,
    adminProjectId: issued.json().token.project.id,
    database,
    call: (method, path, options = {}) => send(baseUrl, method, path, { token: adminToken, ...options }),
    stop,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const octets = { 'content-type': 'application/octet-stream' };

async function createImage(cloud: ImageCloud, attributes: Record<string, unknown> = {}): Promise<string> {
  const created = await cloud.call('POST', '/image/v2/images', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'data-test', disk_format: 'raw', container_format: 'bare', ...attributes }),
  });
  expect(created.status, created.body.toString()).toBe(201);
  return created.json().id;
}

async function statusOf(cloud: ImageCloud, id: string): Promise<string> {
  return (await cloud.call('GET', `/image/v2/images/${id}`)).json().status;
}

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`${what}: not within 3 s`);
}

describe('image data without limits', () => {
  let cloud: ImageCloud;
  beforeAll(async () => {
    cloud = await startImageCloud();
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('stores uploaded data, makes the image active with its hashes and sizes, and gives the data back', async () => {
    const id = await createImage(cloud);
    const data = randomBytes(2 * MiB + 3);
    const upload = await cloud.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body: data });
    expect(upload.status, upload.body.toString()).toBe(204);
    expect(upload.body.length).toBe(0);

    const md5 = createHash('md5').update(data).digest('hex');
    const image = (await cloud.call('GET', `/image/v2/images/${id}`)).json();
    expect(image).toMatchObject({
      status: 'active',
      size: data.length,
      virtual_size: data.length,
      checksum: md5,
      os_hash_algo: 'sha512',
      os_hash_value: createHash('sha512').update(data).digest('hex'),
    });
    expect(image).not.toHaveProperty('location');
    expect(await readdir(cloud.storeDir)).toEqual([id]);

    const download = await cloud.call('GET', `/image/v2/images/${id}/file`);
    expect(download.status).toBe(200);
    expect(download.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-length': String(data.length),
      'content-md5': md5,
    });
    expect(download.body.equals(data)).toBe(true);
    expect(download.headers['x-openstack-request-id']).toMatch(/^req-/);

    const head = await cloud.call('HEAD', `/image/v2/images/${id}/file`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(data.length));
    expect(head.body.length).toBe(0);
  });

  it('accepts data streamed without a Content-Length, and an empty image', async () => {
    const streamed = await createImage(cloud);
    const data = randomBytes(300_000);
    const upload = await cloud.call('PUT', `/image/v2/images/${streamed}/file`, {
      headers: octets,
      body: Readable.from([data.subarray(0, 1), data.subarray(1, 70_000), data.subarray(70_000)]),
    });
    expect(upload.status).toBe(204);
    expect((await cloud.call('GET', `/image/v2/images/${streamed}/file`)).body.equals(data)).toBe(true);

    const empty = await createImage(cloud);
    expect(
      (await cloud.call('PUT', `/image/v2/images/${empty}/file`, { headers: octets, body: '' })).status,
    ).toBe(204);
    const image = (await cloud.call('GET', `/image/v2/images/${empty}`)).json();
    expect(image).toMatchObject({ status: 'active', size: 0, checksum: 'd41d8cd98f00b204e9800998ecf8427e' });
    const download = await cloud.call('GET', `/image/v2/images/${empty}/file`);
    expect(download.status).toBe(200);
    expect(download.body.length).toBe(0);
  });

  it("reads a qcow2 image's virtual size from its header", async () => {
    const id = await createImage(cloud, { disk_format: 'qcow2' });
    const header = Buffer.alloc(512);
    header.write('QFI\xfb', 0, 'latin1');
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(20n * 2n ** 30n, 24);
    await cloud.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body: header });
    expect((await cloud.call('GET', `/image/v2/images/${id}`)).json()).toMatchObject({
      size: 512,
      virtual_size: 20 * 2 ** 30,
    });
  });

  it('answers byte ranges with 206, Content-Range and only those bytes', async () => {
    const id = await createImage(cloud);
    const data = randomBytes(10_000);
    await cloud.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body: data });
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      ['bytes=9000-', 9000, 9999],
      ['bytes=-10', 9990, 9999],
      ['bytes=9990-20000', 9990, 9999],
      ['bytes=-20000', 0, 9999],
    ];
    for (const [range, start, end] of cases) {
      const answer = await cloud.call('GET', `/image/v2/images/${id}/file`, { headers: { range } });
      expect(answer.status, range).toBe(206);
      expect(answer.headers['content-range'], range).toBe(`bytes ${start}-${end}/10000`);
      expect(answer.headers['content-length'], range).toBe(String(end - start + 1));
      expect(answer.headers, range).not.toHaveProperty('content-md5');
      expect(answer.body.equals(data.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('refuses ranges it cannot satisfy with 416 and the size, and several ranges with 400, as Glance', async () => {
    const id = await createImage(cloud);
    await cloud.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body: randomBytes(100) });
    for (const range of ['bytes=100-', 'bytes=500-600', 'bytes=50-10', 'bytes=-0', 'pages=1-2', 'bytes=x-']) {
      const answer = await cloud.call('GET', `/image/v2/images/${id}/file`, { headers: { range } });
      expect(answer.status, range).toBe(416);
      expect(answer.headers['content-range'], range).toBe('bytes */100');
    }
    const beyond = await cloud.call('GET', `/image/v2/images/${id}/file`, {
      headers: { range: 'bytes=100-' },
    });
    expect(beyond.json().message).toBe(
      'Invalid start position in Range header. Start position MUST be in the inclusive range [0, 99].',
    );
    const several = await cloud.call('GET', `/image/v2/images/${id}/file`, {
      headers: { range: 'bytes=0-1,5-6' },
    });
    expect(several.status).toBe(400);
  });

  it('answers 204 No Content for an image that has no data yet', async () => {
    const id = await createImage(cloud);
    const answer = await cloud.call('GET', `/image/v2/images/${id}/file`);
    expect(answer.status).toBe(204);
    expect(answer.body.length).toBe(0);
  });

  it('refuses a second upload to an active image with 409 and keeps the first data', async () => {
    const id = await createImage(cloud);
    const first = randomBytes(1000);
    await cloud.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body: first });
    const again = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: octets,
      body: randomBytes(10),
    });
    expect(again.status).toBe(409);
    expect(again.json().message).toBe('Image status transition from active to saving is not allowed');
    expect((await cloud.call('GET', `/image/v2/images/${id}/file`)).body.equals(first)).toBe(true);
  });

  it('refuses data before disk_format and container_format are set (400) and bodies of another type (415)', async () => {
    const bare = await createImage(cloud, { disk_format: undefined, container_format: undefined });
    const noFormats = await cloud.call('PUT', `/image/v2/images/${bare}/file`, {
      headers: octets,
      body: 'x',
    });
    expect(noFormats.status).toBe(400);
    expect(noFormats.json().message).toBe(
      'Properties disk_format, container_format must be set prior to saving data.',
    );

    const id = await createImage(cloud);
    const json = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: { 'content-type': 'application/json' },
      body: '{"data": "no"}',
    });
    expect(json.status).toBe(415);
    expect(await statusOf(cloud, id)).toBe('queued');
  });

  it('refuses to upload into an image of another project that the caller cannot see (404)', async () => {
    const answer = await cloud.call('PUT', '/image/v2/images/6f1e5a2c-29c5-4f7c-a3cf-3c4d5e6f7a8b/file', {
      headers: octets,
      body: 'x',
    });
    expect(answer.status).toBe(404);
  });

  it('puts the image back to queued and keeps nothing when the client goes away mid-upload', async () => {
    const id = await createImage(cloud);
    const body = new PassThrough();
    const request = httpRequest(new URL(`/image/v2/images/${id}/file`, cloud.baseUrl), {
      method: 'PUT',
      headers: { ...octets, 'x-auth-token': cloud.adminToken },
      agent: false,
    });
    request.on('error', () => undefined);
    body.pipe(request);
    body.write(randomBytes(MiB));
    await eventually('upload under way', async () => (await statusOf(cloud, id)) === 'saving');
    request.destroy();
    await eventually('image queued again', async () => (await statusOf(cloud, id)) === 'queued');
    await eventually('store empty', async () => !(await readdir(cloud.storeDir)).includes(id));
    expect((await readdir(cloud.storeDir)).filter((name) => name.includes(id))).toEqual([]);

    // And the image takes data again afterwards.
    const retry = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: octets,
      body: 'second try',
    });
    expect(retry.status).toBe(204);
  });

  it('removes the uploaded data when the image is deleted during its upload (410)', async () => {
    const id = await createImage(cloud);
    const body = new PassThrough();
    const answer = cloud.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body });
    body.write(randomBytes(100_000));
    await eventually('upload under way', async () => (await statusOf(cloud, id)) === 'saving');
    expect((await cloud.call('DELETE', `/image/v2/images/${id}`)).status).toBe(204);
    body.end(randomBytes(100_000));
    expect((await answer).status).toBe(410);
    expect((await readdir(cloud.storeDir)).filter((name) => name.includes(id))).toEqual([]);
  });

  it('deletes an image row only while its data location is the one the deleter read', async () => {
    // The race it closes: DELETE reads the image (no data yet), an upload then activates it
    // with a location, and the deletion must not drop the row and lose track of that data.
    const id = await createImage(cloud);
    const upload = await cloud.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body: 'bits' });
    expect(upload.status).toBe(204);
    const db = cloud.database.tables<ImageTables>();
    const stored = await db
      .selectFrom('image_image')
      .select('location')
      .where('id', '=', id)
      .executeTakeFirst();
    expect(stored?.location).toMatch(/^file:/);
    expect(await deleteImage(db, id, null)).toBe(false);
    expect(await statusOf(cloud, id)).toBe('active');
    expect(await deleteImage(db, id, stored!.location)).toBe(true);
    expect((await cloud.call('GET', `/image/v2/images/${id}`)).status).toBe(404);
  });

  it('queues an image again at start-up when the server stopped in the middle of its upload', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'overcast-image-restart-'));
    let first: ImageCloud | undefined = await startImageCloud({}, dataDir);
    let second: ImageCloud | undefined;
    try {
      const id = await createImage(first);
      // What a process killed mid-upload leaves: the image saving, a partial file in the store.
      await updateImage(first.database.tables<ImageTables>(), id, { status: 'saving' }, ['queued']);
      await writeFile(join(first.storeDir, `.partial-${id}.${randomUUID()}`), randomBytes(1000));
      await first.stop();
      first = undefined;

      second = await startImageCloud({}, dataDir);
      expect(await statusOf(second, id)).toBe('queued');
      expect(await readdir(second.storeDir)).toEqual([]);
      const data = randomBytes(5000);
      const upload = await second.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body: data });
      expect(upload.status).toBe(204);
      expect(await statusOf(second, id)).toBe('active');
    } finally {
      await first?.stop();
      await second?.close();
    }
  });

  it('refuses a download of a deactivated image to a project member (403), not to an admin', async () => {
    const id = await createImage(cloud);
    await cloud.call('PUT', `/image/v2/images/${id}/file`, { headers: octets, body: 'payload' });
    const json = { 'content-type': 'application/json' };
    const user = (
      await cloud.call('POST', '/identity/v3/users', {
        headers: json,
        body: JSON.stringify({ user: { name: 'member', password: 'member-pw', domain_id: 'default' } }),
      })
    ).json().user;
    const memberRole = (await cloud.call('GET', '/identity/v3/roles?name=member')).json().roles[0].id;
    await cloud.call(
      'PUT',
      `/identity/v3/projects/${cloud.adminProjectId}/users/${user.id}/roles/${memberRole}`,
    );
    const memberToken = (
      await send(cloud.baseUrl, 'POST', '/identity/v3/auth/tokens', {
        headers: json,
        body: JSON.stringify({
          auth: {
            identity: { methods: ['password'], password: { user: { id: user.id, password: 'member-pw' } } },
            scope: { project: { id: cloud.adminProjectId } },
          },
        }),
      })
    ).headers['x-subject-token'] as string;
    expect(
      (await send(cloud.baseUrl, 'GET', `/image/v2/images/${id}/file`, { token: memberToken })).status,
    ).toBe(200);

    expect((await cloud.call('POST', `/image/v2/images/${id}/actions/deactivate`)).status).toBe(204);
    const refused = await send(cloud.baseUrl, 'GET', `/image/v2/images/${id}/file`, { token: memberToken });
    expect(refused.status).toBe(403);
    expect(refused.json().message).toBe(
      'The requested image has been deactivated. Image data download is forbidden.',
    );
    expect((await cloud.call('GET', `/image/v2/images/${id}/file`)).body.toString()).toBe('payload');
  });
});

describe('image data under a size cap and a project quota', () => {
  let cloud: ImageCloud;
  beforeAll(async () => {
    cloud = await startImageCloud({ maxImageSizeBytes: MiB, projectQuotaBytes: 1.5 * MiB });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  /** After a refused upload: still queued, nothing (not even a partial file) in the store. */
  async function expectRefusedCleanly(id: string): Promise<void> {
    expect(await statusOf(cloud, id)).toBe('queued');
    await eventually('store empty', async () =>
      (await readdir(cloud.storeDir)).every((name) => !name.includes(id)),
    );
  }

  it('refuses an image above the size cap, declared or streamed, with 413', async () => {
    const id = await createImage(cloud);
    const declared = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: octets,
      body: randomBytes(MiB + 1),
    });
    expect(declared.status).toBe(413);
    expect(declared.json().message).toBe('The incoming image is too large: The provided image is too large.');
    await expectRefusedCleanly(id);

    const streamed = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: octets,
      body: Readable.from([randomBytes(MiB / 2), randomBytes(MiB / 2), randomBytes(10)]),
    });
    expect(streamed.status).toBe(413);
    await expectRefusedCleanly(id);

    // Exactly the cap is fine.
    const exact = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: octets,
      body: randomBytes(MiB),
    });
    expect(exact.status).toBe(204);
    expect((await cloud.call('DELETE', `/image/v2/images/${id}`)).status).toBe(204);
  });

  it("refuses an upload past the project's quota with 413, leaving the image queued and the store empty", async () => {
    const stored = await createImage(cloud);
    await cloud.call('PUT', `/image/v2/images/${stored}/file`, { headers: octets, body: randomBytes(MiB) });
    const id = await createImage(cloud);

    const declared = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: octets,
      body: randomBytes(600 * 1024),
    });
    expect(declared.status).toBe(413);
    expect(declared.json().message).toBe(
      `Image exceeds the storage quota: The size of the data ${600 * 1024} will exceed the limit. ${0.5 * MiB} bytes remaining.`,
    );
    await expectRefusedCleanly(id);

    const streamed = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: octets,
      body: Readable.from([randomBytes(300 * 1024), randomBytes(300 * 1024)]),
    });
    expect(streamed.status).toBe(413);
    expect(streamed.json().message).toMatch(/^Image exceeds the storage quota: /);
    await expectRefusedCleanly(id);

    // What is left of the quota is still usable, and deleting frees it.
    expect(
      (
        await cloud.call('PUT', `/image/v2/images/${id}/file`, {
          headers: octets,
          body: randomBytes(0.5 * MiB),
        })
      ).status,
    ).toBe(204);
    for (const image of [stored, id]) await cloud.call('DELETE', `/image/v2/images/${image}`);
    expect(await readdir(cloud.storeDir)).toEqual([]);
  });

  it('refuses a small streamed upload past the quota that arrives before the store has opened its file', async () => {
    const stored = [await createImage(cloud), await createImage(cloud)];
    for (const [index, size] of [MiB, 0.5 * MiB - 100].entries()) {
      const upload = await cloud.call('PUT', `/image/v2/images/${stored[index]}/file`, {
        headers: octets,
        body: randomBytes(size),
      });
      expect(upload.status).toBe(204);
    }
    const id = await createImage(cloud);
    // Over the 100 bytes left in its first chunk: the meter fails at once, before the store
    // listens to it; that failure must still be the answer, not an error thrown out of the process.
    const streamed = await cloud.call('PUT', `/image/v2/images/${id}/file`, {
      headers: octets,
      body: Readable.from([randomBytes(200)]),
    });
    expect(streamed.status).toBe(413);
    await expectRefusedCleanly(id);
    for (const image of [...stored, id]) await cloud.call('DELETE', `/image/v2/images/${image}`);
  });
});
