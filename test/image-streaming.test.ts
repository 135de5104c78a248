// A 2 GiB image through `overcast up` (a separate process, SQLite): uploaded from a stream
// generated on the fly (nothing that large is ever written by the test), while the server's
// resident memory is sampled to show that the data streams rather than piles up; downloaded
// and checked against the hashes taken while it was generated; read by byte range; deleted,
// freeing the store. The refusals of the data path (409, 413, 416, 204...) are proven
// in-process by api-server/image/routes/data.test.ts.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssBytes } from '../bench/lib/procfs.js';
import { apiPort, openrcToken, type RunningUp, sourceOpenrc, startUp } from './harness/overcast-up.js';

const MiB = 1024 * 1024;
const CHUNK_BYTES = MiB;
const IMAGE_CHUNKS = 2048; // 2 GiB
const IMAGE_BYTES = IMAGE_CHUNKS * CHUNK_BYTES;
/** How far above its size at rest the server may grow while 2 GiB pass through it. */
const RSS_GROWTH_LIMIT = 250 * 1000 * 1000;
const GENERATOR_KEY = Buffer.alloc(16, 7);
const ZEROS = Buffer.alloc(CHUNK_BYTES);

/**
 * Chunk `index` of the image: AES-128-CTR keystream with the chunk's number as its counter
 * block. Deterministic, incompressible, and any chunk can be made again on its own, which is
 * how the range request is checked without keeping the image anywhere.
 */
function imageChunk(index: number): Buffer {
  const counter = Buffer.alloc(16);
  counter.writeUInt32BE(index, 0);
  return createCipheriv('aes-128-ctr', GENERATOR_KEY, counter).update(ZEROS);
}

/** The whole image as a stream, hashing what it hands out. */
function generatedImage(): { stream: Readable; digests: () => { md5: string; sha512: string } } {
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  let next = 0;
  const stream = new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (next === IMAGE_CHUNKS) {
        this.push(null);
        return;
      }
      const chunk = imageChunk(next++);
      md5.update(chunk);
      sha512.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digests: () => ({ md5: md5.digest('hex'), sha512: sha512.digest('hex') }) };
}

/** Samples a process's RSS every 100 ms until stopped; resolves with the highest seen. */
function sampleRss(pid: number): { stop: () => Promise<number> } {
  let peak = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      peak = Math.max(peak, await rssBytes([pid]));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await sampling;
      return peak;
    },
  };
}

describe('a 2 GiB image streamed through overcast up', () => {
  let workDir: string;
  let up: RunningUp;
  let baseUrl: string;
  let token: string;
  let imageId: string;
  let expected: { md5: string; sha512: string };
  const storeDir = () => join(workDir, 'data', 'images');

  /** An HTTP exchange with the admin's token; the body is streamed in, the answer handed out unread. */
  function exchange(
    method: string,
    path: string,
    options: { headers?: Record<string, string | number>; body?: Readable | string } = {},
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(new URL(path, baseUrl), {
        method,
        headers: { 'x-auth-token': token, ...options.headers },
      });
      request.on('response', resolve);
      request.on('error', reject);
      if (options.body instanceof Readable) options.body.pipe(request);
      else request.end(options.body);
    });
  }

  async function readJson(response: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString() || '{}');
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'overcast-image-streaming-'));
    const port = await apiPort();
    baseUrl = `http://127.0.0.1:${port}`;
    up = await startUp(['--data-dir', join(workDir, 'data'), '--listen', `127.0.0.1:${port}`]);
    const openrc = await sourceOpenrc(join(workDir, 'data', 'admin-openrc'));
    token = await openrcToken(baseUrl, openrc);
  });

  afterAll(async () => {
    await up?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('uploads 2 GiB with the server growing by less than 250 MB', async () => {
    const created = await exchange('POST', '/image/v2/images', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'two-gib', disk_format: 'raw', container_format: 'bare' }),
    });
    expect(created.statusCode).toBe(201);
    imageId = (await readJson(created)).id as string;

    const pid = up.child.pid!;
    const atRest = await rssBytes([pid]);
    const sampler = sampleRss(pid);
    const image = generatedImage();
    const uploaded = await exchange('PUT', `/image/v2/images/${imageId}/file`, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': IMAGE_BYTES },
      body: image.stream,
    });
    const peak = await sampler.stop();
    expect(uploaded.statusCode, JSON.stringify(await readJson(uploaded))).toBe(204);
    expected = image.digests();
    expect(peak - atRest, `RSS at rest ${atRest}, peak ${peak}`).toBeLessThan(RSS_GROWTH_LIMIT);

    const shown = await readJson(await exchange('GET', `/image/v2/images/${imageId}`));
    expect(shown).toMatchObject({
      status: 'active',
      size: IMAGE_BYTES,
      virtual_size: IMAGE_BYTES,
      checksum: expected.md5,
      os_hash_algo: 'sha512',
      os_hash_value: expected.sha512,
    });
    expect(await readdir(storeDir())).toEqual([imageId]);
  }, 600_000);

  it('downloads the same 2 GiB, with the server growing by less than 250 MB', async () => {
    const pid = up.child.pid!;
    const atRest = await rssBytes([pid]);
    const sampler = sampleRss(pid);
    const download = await exchange('GET', `/image/v2/images/${imageId}/file`);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-length']).toBe(String(IMAGE_BYTES));
    expect(download.headers['content-md5']).toBe(expected.md5);
    const md5 = createHash('md5');
    const sha512 = createHash('sha512');
    let bytes = 0;
    for await (const chunk of download) {
      md5.update(chunk as Buffer);
      sha512.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    const peak = await sampler.stop();
    expect(bytes).toBe(IMAGE_BYTES);
    expect(md5.digest('hex')).toBe(expected.md5);
    expect(sha512.digest('hex')).toBe(expected.sha512);
    expect(peak - atRest, `RSS at rest ${atRest}, peak ${peak}`).toBeLessThan(RSS_GROWTH_LIMIT);
  }, 600_000);

  it('serves a byte range across a chunk boundary deep inside the image, and refuses one past its end', async () => {
    // The last 100 bytes of chunk 1500 and the first 100 of chunk 1501.
    const start = 1501 * CHUNK_BYTES - 100;
    const end = 1501 * CHUNK_BYTES + 99;
    const partial = await exchange('GET', `/image/v2/images/${imageId}/file`, {
      headers: { range: `bytes=${start}-${end}` },
    });
    expect(partial.statusCode).toBe(206);
    expect(partial.headers['content-range']).toBe(`bytes ${start}-${end}/${IMAGE_BYTES}`);
    const chunks: Buffer[] = [];
    for await (const chunk of partial) chunks.push(chunk as Buffer);
    const wanted = Buffer.concat([
      imageChunk(1500).subarray(CHUNK_BYTES - 100),
      imageChunk(1501).subarray(0, 100),
    ]);
    expect(Buffer.concat(chunks).equals(wanted)).toBe(true);

    const beyond = await exchange('GET', `/image/v2/images/${imageId}/file`, {
      headers: { range: `bytes=${IMAGE_BYTES}-` },
    });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${IMAGE_BYTES}`);
    beyond.resume();
  });

  it('deletes the image and its data in the store', async () => {
    const deleted = await exchange('DELETE', `/image/v2/images/${imageId}`);
    expect(deleted.statusCode).toBe(204);
    expect(await readdir(storeDir())).toEqual([]);
    const gone = await exchange('GET', `/image/v2/images/${imageId}/file`);
    expect(gone.statusCode).toBe(404);
    gone.resume();
  });
});
