import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageDataMeter, ImageDataNotFound, ImageDataTooLarge } from '../data.js';
import { createFilesystemStore, ForeignLocation } from './filesystem.js';

let workDir: string;
let storeDir: string;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'overcast-store-'));
  storeDir = join(workDir, 'data', 'images');
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Waits until `check` holds, for at most two seconds. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error('condition not reached within 2 s');
}

describe('the filesystem image store', () => {
  it('creates its directory, private to its owner, when it is missing', async () => {
    await createFilesystemStore(storeDir);
    const info = await stat(storeDir);
    expect(info.isDirectory()).toBe(true);
    expect(info.mode & 0o777).toBe(0o700);
  });

  it("keeps an image's data under its id and gives it back whole or by inclusive byte range", async () => {
    const store = await createFilesystemStore(storeDir);
    const id = randomUUID();
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const location = await store.put(id, Readable.from([data.subarray(0, 1000), data.subarray(1000)]));

    expect(location).toBe(pathToFileURL(join(storeDir, id)).href);
    expect(location).toBe(`file://${storeDir}/${id}`);
    expect(await readdir(storeDir)).toEqual([id]);
    expect((await stat(join(storeDir, id))).mode & 0o777).toBe(0o600);
    expect((await readAll(await store.get(location))).equals(data)).toBe(true);
    expect(
      (await readAll(await store.get(location, { start: 10, end: 19 }))).equals(data.subarray(10, 20)),
    ).toBe(true);
    const lastByte = data.length - 1;
    expect(await readAll(await store.get(location, { start: lastByte, end: lastByte }))).toEqual(
      data.subarray(lastByte),
    );
  });

  it('streams files of many read-ahead chunks in order, and fails a range the file does not hold', async () => {
    const store = await createFilesystemStore(storeDir);
    const data = randomBytes(7 * 1024 * 1024 + 3);
    const location = await store.put(randomUUID(), Readable.from([data]));
    expect((await readAll(await store.get(location))).equals(data)).toBe(true);
    const middle = { start: 1024 * 1024 - 1, end: 5 * 1024 * 1024 + 1 };
    expect(
      (await readAll(await store.get(location, middle))).equals(data.subarray(middle.start, middle.end + 1)),
    ).toBe(true);
    const beyond = await store.get(location, { start: data.length - 10, end: data.length + 10 });
    await expect(readAll(beyond)).rejects.toThrow(/ends before byte/);
  });

  it('shows nothing under the image name until all data is written, then renames it into place', async () => {
    const store = await createFilesystemStore(storeDir);
    const id = randomUUID();
    const source = new PassThrough();
    const put = store.put(id, source);
    source.write('first half, ');
    await eventually(async () => (await readdir(storeDir)).length === 1);
    const [partial] = await readdir(storeDir);
    expect(partial).toMatch(new RegExp(`^\\.partial-${id}\\.`));

    source.end('second half');
    const location = await put;
    expect(await readdir(storeDir)).toEqual([id]);
    expect(await text(await store.get(location))).toBe('first half, second half');
  });

  it('leaves nothing behind when the source fails mid-stream (the client went away)', async () => {
    const store = await createFilesystemStore(storeDir);
    const source = new PassThrough();
    const put = store.put(randomUUID(), source);
    source.write(randomBytes(100_000));
    await eventually(async () => (await readdir(storeDir)).length === 1);
    source.destroy(new Error('connection reset by peer'));
    await expect(put).rejects.toThrow('connection reset by peer');
    expect(await readdir(storeDir)).toEqual([]);
  });

  it('leaves nothing behind when the data goes over the limit of its meter', async () => {
    const store = await createFilesystemStore(storeDir);
    const meter = new ImageDataMeter({ maxBytes: 1_000_000, diskFormat: 'raw' });
    Readable.from([randomBytes(600_000), randomBytes(600_000)]).pipe(meter);
    await expect(store.put(randomUUID(), meter)).rejects.toBeInstanceOf(ImageDataTooLarge);
    expect(await readdir(storeDir)).toEqual([]);
  });

  it('names files by image id only: anything else is refused before a file is created', async () => {
    const store = await createFilesystemStore(storeDir);
    for (const id of ['../../etc/passwd', 'not-a-uuid', `${randomUUID()}/x`, '', `${randomUUID()}\0`]) {
      await expect(store.put(id, Readable.from(['data']))).rejects.toThrow(/not an image id/);
    }
    expect(await readdir(storeDir)).toEqual([]);
  });

  it('reads and deletes only image files directly inside its directory', async () => {
    const store = await createFilesystemStore(storeDir);
    const outside = join(workDir, 'secret');
    await writeFile(outside, 'not yours');
    await mkdir(join(storeDir, 'sub'));
    const id = randomUUID();
    const foreign = [
      pathToFileURL(outside).href,
      `file://${storeDir}/../secret`,
      `file://${storeDir}/sub/${id}`,
      `file://${storeDir}/.partial-${id}.x`,
      `file://${storeDir}`,
      `http://example.com/${id}`,
      `${storeDir}/${id}`,
      'file:///etc/passwd',
      'not a url at all',
    ];
    for (const location of foreign) {
      await expect(store.get(location), location).rejects.toBeInstanceOf(ForeignLocation);
      await expect(store.delete(location), location).rejects.toBeInstanceOf(ForeignLocation);
    }
    expect(await readFile(outside, 'utf8')).toBe('not yours');
  });

  it('deletes data, and treats data that is already gone as deleted; reading it says it is not found', async () => {
    const store = await createFilesystemStore(storeDir);
    const location = await store.put(randomUUID(), Readable.from(['bytes']));
    await store.delete(location);
    expect(await readdir(storeDir)).toEqual([]);
    await store.delete(location);
    await expect(store.get(location)).rejects.toBeInstanceOf(ImageDataNotFound);
  });

  it('removes partial files a crash left behind at start-up, names their images, and keeps complete images', async () => {
    await mkdir(storeDir, { recursive: true });
    const kept = randomUUID();
    await writeFile(join(storeDir, kept), 'complete');
    const interrupted = randomUUID();
    await writeFile(join(storeDir, `.partial-${interrupted}.${randomUUID()}`), 'half');
    const store = await createFilesystemStore(storeDir);
    expect(await readdir(storeDir)).toEqual([kept]);
    expect(store.interruptedUploads).toEqual([interrupted]);
    expect(await text(await store.get(`file://${storeDir}/${kept}`))).toBe('complete');
  });
});
