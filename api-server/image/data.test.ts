import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandExists, run } from '../../lib/exec.js';
import {
  HEADER_BYTES,
  ImageDataMeter,
  ImageDataTooLarge,
  qcow2VirtualSize,
  type RecyclingReadable,
  virtualSizeOf,
  writeAll,
} from './data.js';

// qemu-utils is one of the packages the kit installs with QEMU; without it the one test that
// needs it says it was skipped.
const hasQemuImg = await commandExists('qemu-img');

/** Splits data into chunks of uneven sizes, as a network delivers it. */
function chunksOf(data: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Runs chunks through a meter into a sink; resolves with what came out. */
async function meter(chunks: readonly Buffer[], options: ConstructorParameters<typeof ImageDataMeter>[0]) {
  const through = new ImageDataMeter(options);
  const received: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      received.push(chunk);
      done();
    },
  });
  const outcome = await pipeline(Readable.from(chunks), through, sink).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { through, output: Buffer.concat(received), error: outcome };
}

/** A qcow2 header as qemu writes it: magic, version, and the virtual size at offset 24. */
function qcow2Header(virtualSize: bigint, version = 3): Buffer {
  const header = Buffer.alloc(104);
  header.write('QFI\xfb', 0, 'latin1');
  header.writeUInt32BE(version, 4);
  header.writeUInt32BE(16, 20); // cluster_bits
  header.writeBigUInt64BE(virtualSize, 24);
  return header;
}

describe('metering image data on its way to the store', () => {
  it('passes the data through unchanged and reports the MD5, SHA-512 and size node:crypto computes', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const { through, output, error } = await meter(chunksOf(data, [65_536, 1, 4_093, 200_000]), {
      maxBytes: data.length,
      diskFormat: 'raw',
    });
    expect(error).toBeUndefined();
    expect(output.equals(data)).toBe(true);
    expect(through.measurements()).toEqual({
      size: data.length,
      checksum: createHash('md5').update(data).digest('hex'),
      osHashAlgo: 'sha512',
      osHashValue: createHash('sha512').update(data).digest('hex'),
      virtualSize: data.length,
    });
  });

  it('measures empty data as Glance does: size 0 and the digests of nothing', async () => {
    const { through, error } = await meter([], { maxBytes: 0, diskFormat: 'raw' });
    expect(error).toBeUndefined();
    expect(through.measurements()).toMatchObject({
      size: 0,
      checksum: 'd41d8cd98f00b204e9800998ecf8427e',
      virtualSize: 0,
    });
  });

  it('accepts exactly maxBytes and fails at the first byte beyond, without passing it on', async () => {
    const data = randomBytes(10_000);
    const exact = await meter(chunksOf(data, [3_000]), { maxBytes: 10_000, diskFormat: 'raw' });
    expect(exact.error).toBeUndefined();

    const over = await meter(chunksOf(data, [3_000]), { maxBytes: 9_999, diskFormat: 'raw' });
    expect(over.error).toBeInstanceOf(ImageDataTooLarge);
    expect(over.error).toMatchObject({ limitBytes: 9_999, receivedBytes: 10_000 });
    // Nothing beyond the limit ever reached the sink.
    expect(over.output.length).toBeLessThanOrEqual(9_000);
    expect(() => over.through.measurements()).toThrow(/before the data ended/);
  });

  it('refuses to report measurements before the data has ended', () => {
    expect(() => new ImageDataMeter({ maxBytes: 1, diskFormat: null }).measurements()).toThrow();
  });
});

describe('virtual size', () => {
  it('reads the big-endian virtual size of a qcow2 v2 or v3 header', () => {
    const tenGiB = 10n * 2n ** 30n;
    expect(qcow2VirtualSize(qcow2Header(tenGiB, 3))).toBe(10 * 2 ** 30);
    expect(qcow2VirtualSize(qcow2Header(123_456_789n, 2))).toBe(123_456_789);
  });

  it('does not parse a header with the wrong magic, an unknown version, too few bytes or an absurd size', () => {
    const wrongMagic = qcow2Header(1024n);
    wrongMagic[3] = 0xfa;
    expect(qcow2VirtualSize(wrongMagic)).toBeNull();
    expect(qcow2VirtualSize(qcow2Header(1024n, 1))).toBeNull();
    expect(qcow2VirtualSize(qcow2Header(1024n).subarray(0, HEADER_BYTES - 1))).toBeNull();
    expect(qcow2VirtualSize(qcow2Header(2n ** 63n))).toBeNull();
  });

  it('follows the declared disk format: qcow2 from the header, raw is the size, others unknown', () => {
    const header = qcow2Header(4096n);
    expect(virtualSizeOf('qcow2', header, 104)).toBe(4096);
    expect(virtualSizeOf('qcow2', Buffer.from('not an image at all, just some bytes'), 36)).toBeNull();
    expect(virtualSizeOf('raw', header, 104)).toBe(104);
    expect(virtualSizeOf('iso', header, 104)).toBeNull();
    expect(virtualSizeOf(null, header, 104)).toBeNull();
  });

  it('finds the qcow2 header even when it arrives a byte at a time', async () => {
    const header = qcow2Header(5n * 2n ** 30n);
    const { through } = await meter(chunksOf(header, [1]), { maxBytes: 1024, diskFormat: 'qcow2' });
    expect(through.measurements().virtualSize).toBe(5 * 2 ** 30);
  });

  describe('of a real qcow2 file made by qemu-img', () => {
    let workDir: string;
    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'overcast-qcow2-'));
    });
    afterAll(async () => {
      await rm(workDir, { recursive: true, force: true });
    });

    it.skipIf(!hasQemuImg)('reports what `qemu-img create -f qcow2 ... 3G` declared', async () => {
      const file = join(workDir, 'disk.qcow2');
      await run(['qemu-img', 'create', '-q', '-f', 'qcow2', file, '3G']);
      const data = await readFile(file);
      const { through, error } = await meter(chunksOf(data, [7, 65_536]), {
        maxBytes: data.length,
        diskFormat: 'qcow2',
      });
      expect(error).toBeUndefined();
      expect(through.measurements()).toMatchObject({ size: data.length, virtualSize: 3 * 2 ** 30 });
    });
  });
});

describe('writing a download into its response', () => {
  /** A source of `count` chunks that records what is handed back to it. */
  function recyclingSource(count: number) {
    const chunks = Array.from({ length: count }, (_, i) => Buffer.alloc(1000, i));
    const recycled: Buffer[] = [];
    const source = Object.assign(Readable.from(chunks, { objectMode: false }), {
      recycle: (chunk: Buffer) => recycled.push(chunk),
    }) as RecyclingReadable;
    return { source, chunks, recycled };
  }

  it('writes every chunk in order and hands each back only once its write has completed', async () => {
    const { source, chunks, recycled } = recyclingSource(20);
    const written: Buffer[] = [];
    const recycledWhenWritten: number[] = [];
    const destination = new Writable({
      highWaterMark: 2500,
      write(chunk: Buffer, _encoding, done) {
        recycledWhenWritten.push(recycled.length);
        written.push(Buffer.from(chunk));
        setImmediate(done);
      },
    });
    await writeAll(source, destination);
    expect(Buffer.concat(written).equals(Buffer.concat(chunks))).toBe(true);
    expect(recycled).toEqual(chunks);
    // While chunk i was being written, at most the i chunks before it had been handed back.
    for (const [i, count] of recycledWhenWritten.entries()) expect(count).toBeLessThanOrEqual(i);
  });

  it('stops reading and rejects when the response is closed early, handing nothing unwritten back', async () => {
    const { source, recycled } = recyclingSource(1000);
    let writes = 0;
    const destination = new Writable({
      highWaterMark: 1000,
      write(_chunk, _encoding, done) {
        if (++writes === 3) destination.destroy();
        else setImmediate(done);
      },
    });
    await expect(writeAll(source, destination)).rejects.toThrow();
    expect(source.destroyed).toBe(true);
    expect(recycled.length).toBeLessThan(3);
  });
});
