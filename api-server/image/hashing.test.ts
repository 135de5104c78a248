import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ParallelHashes } from './hashing.js';

const digestsOf = (data: Buffer) => ({
  md5: createHash('md5').update(data).digest('hex'),
  sha512: createHash('sha512').update(data).digest('hex'),
});

/** Feeds data in chunks of `chunkBytes`, waiting whenever the threads fall behind. */
async function hashInChunks(hashes: ParallelHashes, data: Buffer, chunkBytes: number) {
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    hashes.update(data.subarray(offset, offset + chunkBytes));
    if (hashes.behind) await hashes.caughtUp();
  }
  return hashes.finish();
}

describe('hashing image data on worker threads', () => {
  it('gives the digests node:crypto gives, across many blocks and chunk sizes that do not line up', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 12_345);
    expect(await hashInChunks(new ParallelHashes(), data, 65_536 + 7)).toEqual(digestsOf(data));
    expect(await hashInChunks(new ParallelHashes(), data, 3 * 1024 * 1024)).toEqual(digestsOf(data));
  });

  it('keeps the streams of concurrent uploads apart', async () => {
    const datas = [randomBytes(5 * 1024 * 1024), randomBytes(3 * 1024 * 1024 + 1), Buffer.alloc(0)];
    const results = await Promise.all(datas.map((data) => hashInChunks(new ParallelHashes(), data, 100_000)));
    expect(results).toEqual(datas.map(digestsOf));
  });

  it('falls behind after a few blocks, so a fast sender has to wait instead of queueing data', async () => {
    const hashes = new ParallelHashes();
    hashes.update(randomBytes(16 * 1024 * 1024));
    expect(hashes.behind).toBe(true);
    await hashes.caughtUp();
    expect(hashes.behind).toBe(false);
    await hashes.finish();
  });

  it('forgets a discarded stream, and refuses to finish it', async () => {
    const abandoned = new ParallelHashes();
    abandoned.update(randomBytes(2 * 1024 * 1024));
    abandoned.discard();
    await expect(abandoned.finish()).rejects.toThrow(/discarded/);
    const data = randomBytes(1024);
    expect(await hashInChunks(new ParallelHashes(), data, 1024)).toEqual(digestsOf(data));
  });
});
