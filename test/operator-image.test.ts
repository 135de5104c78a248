// The Image actuator end to end: the real kube-apiserver of the harness, the real api-server on
// loopback (its projects may store PROJECT_IMAGE_QUOTA_BYTES of image data), the operator in
// this process, and the images' data served by a node:http server on 127.0.0.1. Every scenario
// asserts on the object's status and on the cloud through the Glance API.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NotFound, type ServiceClient } from '../lib/openstack/index.js';
import { PROJECT_IMAGE_QUOTA_BYTES } from '../lib/openstack/live-cloud.suite.js';
import type { KindSpec } from '../operator/crds/convention.js';
import type { Image } from '../operator/crds/image.js';
import { ACTUATORS } from '../operator/main.js';
import { condition, type OperatorTestbed, startOperatorTestbed } from './harness/operator.js';

const DATA = randomBytes(256);
const SMALL = randomBytes(16);
const digest = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

let bed: OperatorTestbed;
let files: Server;
let filesUrl: string;
/** Requests of /flaky.raw answered 503 so far. */
let flakyRefusals = 0;
/** Downloads of /cut.raw broken off half-way so far. */
let cutDownloads = 0;

const apply = (name: string, spec: Partial<KindSpec<typeof Image>>) => bed.apply('Image', name, spec);
const getImage = (name: string) => bed.get('Image', name);
const glance = (): ServiceClient => bed.cloud.service('image');
const raw = (path: string) => ({ url: `${filesUrl}${path}`, diskFormat: 'raw' as const });

async function imageInCloud(id: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await glance().get(`/images/${id}`)).body;
  } catch (error) {
    if (error instanceof NotFound) return undefined;
    throw error;
  }
}

/** An image made straight through Glance (with `data` uploaded, so active). */
async function glanceImage(body: Record<string, unknown>, data?: Buffer): Promise<string> {
  const { id } = (await glance().post('/images', { disk_format: 'raw', container_format: 'bare', ...body }))
    .body;
  if (data) await glance().put(`/images/${id}/file`, undefined, { rawBody: data });
  return id;
}

const patchBehindTheBack = (id: string, operations: unknown[]) =>
  glance().patch(`/images/${id}`, undefined, {
    rawBody: JSON.stringify(operations),
    contentType: 'application/openstack-images-v2.1-json-patch',
  });

beforeAll(async () => {
  files = createServer((request, response) => {
    const send = (data: Buffer) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      // In pieces, as a real download arrives.
      response.write(data.subarray(0, 100));
      response.end(data.subarray(100));
    };
    if (request.url === '/cirros.raw') send(DATA);
    else if (request.url === '/big.raw') send(randomBytes(PROJECT_IMAGE_QUOTA_BYTES + 1));
    else if (request.url === '/flaky.raw' && flakyRefusals < 2) {
      flakyRefusals++;
      response.writeHead(503).end('busy');
    } else if (request.url === '/flaky.raw') send(DATA);
    else if (request.url === '/cut.raw' && cutDownloads < 1) {
      cutDownloads++;
      response.writeHead(200, { 'content-length': DATA.length });
      response.write(DATA.subarray(0, 100), () => response.socket?.destroy());
    } else if (request.url === '/cut.raw') send(DATA);
    else response.writeHead(404).end('no such file');
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  bed = await startOperatorTestbed('opimg');
}, 180_000);

afterAll(async () => {
  await bed?.close();
  files?.closeAllConnections();
  await new Promise((resolve) => files?.close(resolve));
});

describe('the Image actuator', () => {
  it('creates a minimal image: the data streamed in from its URL, active, Available', async () => {
    await apply('minimal', { resource: { content: raw('/cirros.raw') } });
    const object = await bed.settled('Image', 'minimal');
    expect(condition(object, 'Available')).toMatchObject({ status: 'True', reason: 'Success' });
    expect(object.status?.resource).toMatchObject({
      name: 'minimal',
      status: 'active',
      diskFormat: 'raw',
      containerFormat: 'bare',
      sizeBytes: DATA.length,
      virtualSizeBytes: DATA.length,
      hash: { algorithm: 'sha512', value: digest('sha512', DATA) },
    });
    const id = object.status?.id as string;
    expect(await imageInCloud(id)).toMatchObject({
      name: 'minimal',
      status: 'active',
      size: DATA.length,
      os_hash_value: digest('sha512', DATA),
      checksum: digest('md5', DATA),
      owner: await bed.cloud.projectId(),
    });
    expect((await glance().get(`/images/${id}/file`)).raw.equals(DATA)).toBe(true);
    expect((await bed.eventsOf('minimal')).map((event) => event.reason)).toContain('Created');
  });

  it('creates a full image (checked against its sha256), and deletes it with the object though protected', async () => {
    await apply('full', {
      resource: {
        name: 'Full Image',
        content: {
          url: `${filesUrl}/cirros.raw`,
          diskFormat: 'qcow2',
          containerFormat: 'bare',
          expectedHash: { algorithm: 'sha256', value: digest('sha256', DATA) },
        },
        visibility: 'public',
        protected: true,
        minRamMegabytes: 64,
        minDiskGigabytes: 1,
        properties: { hw_disk_bus: 'scsi', os_distro: 'cirros' },
        tags: ['base', 'cirros'],
      },
    });
    const object = await bed.settled('Image', 'full');
    expect(condition(object, 'Available')?.status).toBe('True');
    expect(object.status?.resource).toMatchObject({
      name: 'Full Image',
      visibility: 'public',
      protected: true,
      diskFormat: 'qcow2',
      minRamMegabytes: 64,
      minDiskGigabytes: 1,
      properties: { hw_disk_bus: 'scsi', os_distro: 'cirros' },
    });
    const id = object.status?.id as string;
    const inCloud = await imageInCloud(id);
    expect(inCloud).toMatchObject({
      name: 'Full Image',
      status: 'active',
      visibility: 'public',
      protected: true,
      disk_format: 'qcow2',
      container_format: 'bare',
      min_ram: 64,
      min_disk: 1,
      hw_disk_bus: 'scsi',
      os_distro: 'cirros',
      size: DATA.length,
    });
    expect([...(inCloud?.tags as string[])].sort()).toEqual(['base', 'cirros']);

    await bed.remove('Image', 'full');
    expect(await imageInCloud(id)).toBeUndefined();
  });

  it('updates what changed by JSON patch, removing only the properties it had set, with an Updated Event', async () => {
    await apply('updated', {
      resource: { content: raw('/cirros.raw'), properties: { a: '1', b: '2' }, tags: ['x'] },
    });
    const id = (await bed.settled('Image', 'updated')).status?.id as string;
    await patchBehindTheBack(id, [{ op: 'add', path: '/theirs', value: 'kept' }]);
    await apply('updated', {
      resource: {
        content: raw('/cirros.raw'),
        name: 'renamed',
        minRamMegabytes: 128,
        visibility: 'community',
        properties: { a: '10' },
        tags: ['y'],
      },
    });
    const object = await bed.settled('Image', 'updated');
    expect(object.status?.resource).toMatchObject({ name: 'renamed', minRamMegabytes: 128, tags: ['y'] });
    expect(object.status?.resource?.properties).toEqual({ a: '10', theirs: 'kept' });
    const inCloud = await imageInCloud(id);
    expect(inCloud).toMatchObject({
      name: 'renamed',
      min_ram: 128,
      visibility: 'community',
      a: '10',
      theirs: 'kept',
      tags: ['y'],
    });
    expect(inCloud).not.toHaveProperty('b');
    const updated = (await bed.eventsOf('updated')).find((event) => event.reason === 'Updated');
    expect(updated?.message).toMatch(new RegExp(`^Updated Image ${id} \\(changed .*name`));
  });

  it('waits for its Project in plain words', async () => {
    await apply('owned', { resource: { content: raw('/cirros.raw'), projectRef: 'img-project' } });
    await vi.waitFor(
      async () => {
        const progressing = condition(await getImage('owned'), 'Progressing');
        expect(progressing).toMatchObject({ reason: 'WaitingForDependency' });
        expect(progressing?.message).toBe('Waiting for Project/img-project to be available');
      },
      { timeout: 30_000, interval: 250 },
    );
  });

  it.runIf(ACTUATORS.some((actuator) => actuator.kind.kind === 'Project'))(
    'goes on once its Project is available, and the image is that project’s',
    async () => {
      await bed.apply('Project', 'img-project', { resource: {} });
      const project = await bed.available('Project', 'img-project');
      const object = await bed.settled('Image', 'owned');
      expect(condition(object, 'Available')?.status).toBe('True');
      expect(await imageInCloud(object.status?.id as string)).toMatchObject({
        owner: project.status?.id,
        status: 'active',
      });
    },
  );

  it('imports by filter (not the trap with the same name) and by id', async () => {
    const target = await glanceImage({ name: 'imp-target', tags: ['pick'] }, SMALL);
    await glanceImage({ name: 'imp-target' });
    await glanceImage({ name: 'imp-other', tags: ['pick'] });
    await apply('by-filter', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'imp-target', tags: ['pick'] } },
    });
    const byFilter = await bed.settled('Image', 'by-filter');
    expect(byFilter.status?.id).toBe(target);
    expect(condition(byFilter, 'Available')?.status).toBe('True');
    expect(byFilter.status?.resource).toMatchObject({ name: 'imp-target', status: 'active', tags: ['pick'] });

    await apply('by-id', { managementPolicy: 'unmanaged', import: { id: target } });
    const byId = await bed.settled('Image', 'by-id');
    expect(byId.status?.id).toBe(target);
    expect(byId.status?.resource?.sizeBytes).toBe(SMALL.length);
    // Imported: deleting the objects leaves the image.
    await bed.remove('Image', 'by-id');
    await bed.remove('Image', 'by-filter');
    expect((await imageInCloud(target))?.status).toBe('active');
  });

  it('refuses an import filter matching several images, and an ID that does not exist', async () => {
    await glanceImage({ name: 'imp-twin' });
    await glanceImage({ name: 'imp-twin' });
    await apply('ambiguous', { managementPolicy: 'unmanaged', import: { filter: { name: 'imp-twin' } } });
    const ambiguous = await bed.settled('Image', 'ambiguous');
    expect(condition(ambiguous, 'Progressing')).toMatchObject({
      reason: 'InvalidConfiguration',
      message: '2 Images match the import filter; it must match exactly one',
    });
    const missing = '0b7e2d6c-1f5a-4c8e-9d3b-2a1f0e9c8b7a';
    await apply('missing', { managementPolicy: 'unmanaged', import: { id: missing } });
    expect(condition(await bed.settled('Image', 'missing'), 'Progressing')).toMatchObject({
      reason: 'InvalidConfiguration',
      message: `No Image has the ID ${missing}`,
    });
  });

  it('creates a managed image deleted behind its back again, data and all, with an ExternalDeletion Event', async () => {
    await apply('drifting', { resource: { content: raw('/cirros.raw') }, resyncPeriod: '2s' });
    const first = (await bed.settled('Image', 'drifting')).status?.id as string;
    await glance().delete(`/images/${first}`);
    const again = await vi.waitFor(
      async () => {
        const object = await getImage('drifting');
        expect(object?.status?.id).not.toBe(first);
        expect(condition(object, 'Available')?.status).toBe('True');
        return object?.status?.id as string;
      },
      { timeout: 30_000, interval: 250 },
    );
    expect(await imageInCloud(again)).toMatchObject({
      name: 'drifting',
      status: 'active',
      size: DATA.length,
    });
    expect((await bed.eventsOf('drifting')).map((event) => event.reason)).toContain('ExternalDeletion');
  });

  it('reports an imported image deleted from the cloud as UnrecoverableError', async () => {
    const target = await glanceImage({ name: 'imp-doomed' }, SMALL);
    await apply('doomed', { managementPolicy: 'unmanaged', import: { id: target }, resyncPeriod: '2s' });
    await bed.settled('Image', 'doomed');
    await glance().delete(`/images/${target}`);
    await vi.waitFor(
      async () => {
        const object = await getImage('doomed');
        expect(condition(object, 'Progressing')).toMatchObject({
          status: 'False',
          reason: 'UnrecoverableError',
        });
        expect(condition(object, 'Available')?.status).toBe('False');
      },
      { timeout: 30_000, interval: 250 },
    );
  });

  it('corrects a change behind its back on resync (DriftCorrected), and leaves it with resyncPeriod 0s', async () => {
    await apply('resynced', {
      resource: { content: raw('/cirros.raw'), minRamMegabytes: 32, properties: { os_distro: 'cirros' } },
      resyncPeriod: '2s',
    });
    await apply('frozen', {
      resource: { content: raw('/cirros.raw'), minRamMegabytes: 32 },
      resyncPeriod: '0s',
    });
    const resynced = (await bed.settled('Image', 'resynced')).status?.id as string;
    const frozen = (await bed.settled('Image', 'frozen')).status?.id as string;
    await patchBehindTheBack(resynced, [
      { op: 'replace', path: '/min_ram', value: 0 },
      { op: 'remove', path: '/os_distro' },
    ]);
    await patchBehindTheBack(frozen, [{ op: 'replace', path: '/min_ram', value: 0 }]);
    await vi.waitFor(
      async () => expect(await imageInCloud(resynced)).toMatchObject({ min_ram: 32, os_distro: 'cirros' }),
      { timeout: 30_000, interval: 250 },
    );
    const corrected = (await bed.eventsOf('resynced')).find((event) => event.reason === 'DriftCorrected');
    expect(corrected?.message).toMatch(
      /^Corrected Image .+, changed outside the operator \(.*minRamMegabytes/,
    );
    // Two resync periods of the other object have passed by now; this one has none.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await imageInCloud(frozen))?.min_ram).toBe(0);
  });

  it('refuses data with the wrong hash: the upload is aborted, the image stays queued and empty', async () => {
    const wrong = 'f'.repeat(64);
    await apply('wrong-hash', {
      resource: { content: { ...raw('/cirros.raw'), expectedHash: { algorithm: 'sha256', value: wrong } } },
    });
    const object = await bed.settled('Image', 'wrong-hash');
    expect(condition(object, 'Progressing')).toMatchObject({
      reason: 'InvalidConfiguration',
      message: `downloaded data has sha256 ${digest('sha256', DATA)}, expected ${wrong}; the image was left queued without data`,
    });
    expect(condition(object, 'Available')?.status).toBe('False');
    const id = object.status?.id as string;
    await vi.waitFor(
      async () => expect(await imageInCloud(id)).toMatchObject({ status: 'queued', size: null }),
      {
        timeout: 10_000,
        interval: 250,
      },
    );
    const warning = (await bed.eventsOf('wrong-hash')).find(
      (event) => event.reason === 'InvalidConfiguration',
    );
    expect(warning?.type).toBe('Warning');
  });

  it("reports data over the project's image quota as InvalidConfiguration, the image queued", async () => {
    await apply('over-quota', { resource: { content: raw('/big.raw') } });
    const object = await bed.settled('Image', 'over-quota');
    const progressing = condition(object, 'Progressing');
    expect(progressing?.reason).toBe('InvalidConfiguration');
    expect(progressing?.message).toMatch(/^quota exceeded: .*Image exceeds the storage quota/);
    expect(await imageInCloud(object.status?.id as string)).toMatchObject({ status: 'queued', size: null });
  });

  it('reports a URL answering 404 as InvalidConfiguration', async () => {
    await apply('no-data', { resource: { content: raw('/missing.raw') } });
    expect(condition(await bed.settled('Image', 'no-data'), 'Progressing')).toMatchObject({
      reason: 'InvalidConfiguration',
      message: `downloading ${filesUrl}/missing.raw failed: it answered 404 (there is no image data at this URL)`,
    });
  });

  it('retries a download the server refuses with 503 (TransientError) until it succeeds', async () => {
    await apply('flaky', { resource: { content: raw('/flaky.raw') } });
    const object = await bed.settled('Image', 'flaky');
    expect(condition(object, 'Available')?.status).toBe('True');
    expect(flakyRefusals).toBe(2);
    expect(await imageInCloud(object.status?.id as string)).toMatchObject({
      status: 'active',
      size: DATA.length,
    });
    const transient = (await bed.eventsOf('flaky')).find((event) => event.reason === 'TransientError');
    expect(transient?.message).toBe(`downloading ${filesUrl}/flaky.raw failed: it answered 503`);
  });

  it('starts again after a download broken off mid-way, which left no image with part of the data', async () => {
    await apply('cut', { resource: { content: raw('/cut.raw') } });
    const object = await bed.settled('Image', 'cut');
    expect(condition(object, 'Available')?.status).toBe('True');
    expect(cutDownloads).toBe(1);
    const id = object.status?.id as string;
    expect(await imageInCloud(id)).toMatchObject({ status: 'active', size: DATA.length });
    expect((await glance().get(`/images/${id}/file`)).raw.equals(DATA)).toBe(true);
    const transient = (await bed.eventsOf('cut')).find((event) => event.reason === 'TransientError');
    expect(transient?.message).toMatch(new RegExp(`^downloading ${filesUrl}/cut.raw failed mid-way: `));
  });

  it("adopts the image a create before a crash left (same name, same owner), never another project's namesake", async () => {
    const leftBehind = await glanceImage({ name: 'left-behind' });
    const other = await bed.live.test.memberProject(bed.live.adminToken, `img-${bed.namespace}`);
    const namesake = await glanceImage({ name: 'namesake', owner: other.projectId });
    await apply('left-behind', { resource: { content: raw('/cirros.raw') } });
    await apply('namesake', { resource: { content: raw('/cirros.raw') } });
    const adopted = await bed.settled('Image', 'left-behind');
    expect(adopted.status?.id).toBe(leftBehind);
    expect(await imageInCloud(leftBehind)).toMatchObject({ status: 'active', size: DATA.length });
    expect((await bed.eventsOf('left-behind')).map((event) => event.reason)).toContain('Adopted');
    const created = await bed.settled('Image', 'namesake');
    expect(created.status?.id).not.toBe(namesake);
    expect(await imageInCloud(namesake)).toMatchObject({ status: 'queued', owner: other.projectId });
    for (const name of ['left-behind', 'namesake']) await bed.remove('Image', name);
  });

  it('deletes the image with the object', async () => {
    const id = (await getImage('minimal'))?.status?.id as string;
    await bed.remove('Image', 'minimal');
    expect(await getImage('minimal')).toBeUndefined();
    expect(await imageInCloud(id)).toBeUndefined();
  });
});
