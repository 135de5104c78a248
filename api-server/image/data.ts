// Image data on its way into the store: a pass-through stream that measures what flows through
// it (Glance's checksum, os_hash_value, size, virtual_size) and stops the flow as soon as it
// exceeds the size the upload may have. It holds the first 32 bytes and, for the hashing
// threads (hashing.ts), a few blocks of 1 MiB, so memory stays constant however large the image
// is. And on the way out, writeAll() streams a download into its response. No HTTP in here:
// the route (routes/data.ts) turns these errors into answers.
import { finished, type Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { ParallelHashes } from './hashing.js';

/** Glance's default `hashing_algorithm`: the algorithm behind os_hash_value. */
export const OS_HASH_ALGO = 'sha512';

/** More data came than the upload may store; the stream fails at the first byte too many. */
export class ImageDataTooLarge extends Error {
  constructor(
    /** The most bytes the upload could have had. */
    readonly limitBytes: number,
    /** Bytes seen when the limit was crossed (at least limitBytes + 1). */
    readonly receivedBytes: number,
  ) {
    super(`image data exceeds ${limitBytes} bytes`);
    this.name = 'ImageDataTooLarge';
  }
}

/** A store has no data at a location it handed out (removed behind its back). */
export class ImageDataNotFound extends Error {
  constructor(location: string) {
    super(`no image data at ${location}`);
    this.name = 'ImageDataNotFound';
  }
}

/** What the upload measured, in the image record's terms. */
export interface ImageDataMeasurements {
  size: number;
  /** MD5 hex digest: Glance's legacy `checksum`. */
  checksum: string;
  osHashAlgo: typeof OS_HASH_ALGO;
  osHashValue: string;
  /** Bytes the guest sees: from the qcow2 header, the size itself for raw, otherwise unknown. */
  virtualSize: number | null;
}

// A qcow2 header starts with the magic "QFI\xfb", a big-endian uint32 version (2 or 3) and, at
// offset 24, the big-endian uint64 virtual size in bytes.
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);
const QCOW2_VERSION_OFFSET = 4;
const QCOW2_SIZE_OFFSET = 24;
/** How much of the data's start the virtual size is read from. */
export const HEADER_BYTES = 32;

/** The virtual size a qcow2 header declares, or null when `header` is not a qcow2 v2/v3 header. */
export function qcow2VirtualSize(header: Buffer): number | null {
  if (header.length < HEADER_BYTES) return null;
  if (!header.subarray(0, QCOW2_MAGIC.length).equals(QCOW2_MAGIC)) return null;
  const version = header.readUInt32BE(QCOW2_VERSION_OFFSET);
  if (version !== 2 && version !== 3) return null;
  const size = header.readBigUInt64BE(QCOW2_SIZE_OFFSET);
  // Sizes are JavaScript numbers in the records; a header claiming more than 8 PiB is not one
  // we can report exactly, so it is treated as not parsed.
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(size);
}

/**
 * Glance's virtual_size for data of `diskFormat` (as declared on the image): the header's
 * figure for qcow2, the data's size for raw, and unknown (null) for other formats or a qcow2
 * image whose header does not parse.
 */
export function virtualSizeOf(diskFormat: string | null, header: Buffer, size: number): number | null {
  if (diskFormat === 'raw') return size;
  if (diskFormat === 'qcow2') return qcow2VirtualSize(header);
  return null;
}

/**
 * A stream that takes back the chunks it produced once their consumer is done with them, and
 * fills them again. Every fresh buffer is memory V8 counts as "external", and allocating it at
 * disk speed makes V8 run a full garbage collection every few dozen megabytes, each pausing
 * every request of the process for tens of milliseconds; reusing a few buffers avoids that (in
 * `overcast up`, half the CPU of a download). The filesystem store's downloads are such
 * streams; writeAll() hands their buffers back once sent.
 */
export interface RecyclingReadable extends Readable {
  /** `chunk`, emitted by this stream, is no longer used by anyone and may be overwritten. */
  recycle(chunk: Buffer): void;
}

export function isRecycling(stream: Readable): stream is RecyclingReadable {
  return typeof (stream as Partial<RecyclingReadable>).recycle === 'function';
}

export interface ImageDataMeterOptions {
  /** The most bytes allowed through; one more fails the stream with ImageDataTooLarge. */
  maxBytes: number;
  /** The image's declared disk_format, which decides how virtual_size is found. */
  diskFormat: string | null;
}

/**
 * A Transform that passes image data through unchanged while hashing and counting it. Pipe the
 * upload into it and it into the store; once it has ended, measurements() tells what passed.
 * If more than maxBytes arrive it errors with ImageDataTooLarge before passing the excess on,
 * so a store writing its output never receives it.
 */
export class ImageDataMeter extends Transform {
  private readonly hashes = new ParallelHashes();
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerLength = 0;
  private bytes = 0;
  private result: ImageDataMeasurements | undefined;

  constructor(private readonly options: ImageDataMeterOptions) {
    super();
  }

  /** Bytes that have passed so far. */
  get bytesSeen(): number {
    return this.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.options.maxBytes) {
      callback(new ImageDataTooLarge(this.options.maxBytes, this.bytes));
      return;
    }
    if (this.headerLength < HEADER_BYTES) {
      this.headerLength += chunk.copy(this.header, this.headerLength, 0, HEADER_BYTES - this.headerLength);
    }
    try {
      this.hashes.update(chunk);
    } catch (err) {
      callback(err as Error);
      return;
    }
    // The data goes on at once; only when the hashing threads are too far behind does the
    // stream wait for them (and so, through backpressure, the sender).
    this.push(chunk);
    if (!this.hashes.behind) callback();
    else this.hashes.caughtUp().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.hashes.finish().then((digests) => {
      this.result = {
        size: this.bytes,
        checksum: digests.md5,
        osHashAlgo: OS_HASH_ALGO,
        osHashValue: digests.sha512,
        virtualSize: virtualSizeOf(
          this.options.diskFormat,
          this.header.subarray(0, this.headerLength),
          this.bytes,
        ),
      };
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Ended or abandoned: either way the hashing threads may forget this stream.
    this.hashes.discard();
    callback(error);
  }

  /** What passed through; only once all data has (the stream has ended). */
  measurements(): ImageDataMeasurements {
    if (!this.result) throw new Error('ImageDataMeter: measurements asked before the data ended');
    return this.result;
  }
}

/**
 * Writes all of `data` into `destination` (an HTTP response) and ends it, with backpressure.
 * Unlike pipe(), it learns when each chunk has been written (the write callback), and hands it
 * back to a recycling source then. Resolves once the destination has finished; if either side
 * fails, or the destination is closed early (the client went away), destroys both and rejects.
 */
export function writeAll(data: Readable, destination: Writable): Promise<void> {
  const recycling = isRecycling(data) ? data : undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error | null) => {
      if (settled) return;
      settled = true;
      if (error) {
        data.destroy();
        destination.destroy();
        reject(error);
      } else resolve();
    };
    data.on('data', (chunk: Buffer) => {
      const more = destination.write(chunk, (error) => {
        if (!error) recycling?.recycle(chunk);
      });
      if (!more) {
        data.pause();
        destination.once('drain', () => data.resume());
      }
    });
    data.once('end', () => destination.end());
    data.once('error', settle);
    finished(destination, settle);
  });
}
