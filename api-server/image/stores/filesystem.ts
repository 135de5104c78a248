// The filesystem image store (glance_store's "file" store): one directory, one file per image,
// named by the image's id and nothing else. Data is written to a partial file beside it, made
// durable (fsync) and renamed into place, so a file under an image's name is always complete;
// a crash leaves only partial files, which start-up removes.
//
// The directory belongs to one api-server: start-up removes every partial file in it, which
// would cut short uploads of another process sharing it.
import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, realpath, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ImageDataNotFound, type RecyclingReadable } from '../data.js';
import type { ByteRange, ImageStoreDriver } from './driver.js';

/** Image ids are UUIDs we generate; file names are made of nothing else. */
const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Partial files: `.partial-<image id>.<random>`; the dot keeps them apart from image names. */
const PARTIAL_PREFIX = '.partial-';
/**
 * Chunk size of reads and of the writes' buffer. Larger than Node's defaults (64 and 16 KiB):
 * fewer system calls and thread-pool round trips per gigabyte, still a constant, small amount
 * of memory per transfer (a download holds at most READS_IN_FLIGHT + 1 chunks).
 */
const IO_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads kept in flight by a download. A virtual disk (or an SSD) serves several requests at
 * once much faster than one after the other: on this project's 2-core VM, four 1 MiB reads in
 * flight read a cold file about twice as fast as one. Three leave a thread of libuv's pool of
 * four to everything else that needs it (uploads' writes, password hashing).
 */
const READS_IN_FLIGHT = 3;

/**
 * Bytes `first`..`last` (inclusive) of an open file as a stream, with READS_IN_FLIGHT reads
 * ahead of the consumer; closes the file when it ends or is destroyed. A file shorter than
 * the range is an error, never a silently short stream. Chunks handed back with recycle() are
 * read into again (see RecyclingReadable in data.ts).
 */
class FileRangeReader extends Readable implements RecyclingReadable {
  private nextPosition: number;
  private readonly reads: Promise<Buffer>[] = [];
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly file: FileHandle,
    first: number,
    private readonly last: number,
  ) {
    super({ highWaterMark: IO_CHUNK_BYTES });
    this.nextPosition = first;
  }

  private readAhead(): void {
    while (this.reads.length < READS_IN_FLIGHT && this.nextPosition <= this.last) {
      const length = Math.min(IO_CHUNK_BYTES, this.last - this.nextPosition + 1);
      const position = this.nextPosition;
      this.nextPosition += length;
      const target =
        length === IO_CHUNK_BYTES
          ? (this.spare.pop() ?? Buffer.allocUnsafeSlow(length))
          : Buffer.allocUnsafeSlow(length);
      const read = this.file.read(target, 0, length, position).then(({ buffer, bytesRead }) => {
        if (bytesRead !== length) throw new Error(`image data ends before byte ${position + length}`);
        return buffer;
      });
      // A read ahead may fail before anyone waits for it; its failure is taken up in order
      // by _read, or ignored once the stream is destroyed, never left unhandled.
      read.catch(() => undefined);
      this.reads.push(read);
    }
  }

  recycle(chunk: Buffer): void {
    // Only whole chunks, and only as many as the reads in flight can use. A reused buffer is
    // always filled entirely by its next read (a short read is an error), so nothing of the
    // bytes it held before can leak into another answer.
    if (chunk.length === IO_CHUNK_BYTES && this.spare.length <= READS_IN_FLIGHT) this.spare.push(chunk);
  }

  override _read(): void {
    this.readAhead();
    const next = this.reads.shift();
    if (!next) {
      this.push(null);
      return;
    }
    next.then(
      (chunk) => this.push(chunk),
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Reads still under way use the file: it is closed once they are over.
    Promise.allSettled(this.reads)
      .then(() => this.file.close())
      .then(
        () => callback(error),
        (closeError: Error) => callback(error ?? closeError),
      );
  }
}

/** A location this store did not make: another scheme, another directory, not an image file. */
export class ForeignLocation extends Error {
  constructor(location: string) {
    super(`not a location of this filesystem store: ${location}`);
    this.name = 'ForeignLocation';
  }
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

/**
 * Creates the directory (mode 0700) if missing and removes partial files left by a crash,
 * naming their images in `interruptedUploads`.
 */
export async function createFilesystemStore(directory: string): Promise<ImageStoreDriver> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  // Canonical (symlinks resolved) so that the locations handed out can be checked by a plain
  // comparison of their directory with this one.
  const root = await realpath(resolve(directory));
  const interruptedUploads = new Set<string>();
  for (const name of await readdir(root)) {
    if (!name.startsWith(PARTIAL_PREFIX)) continue;
    await rm(join(root, name), { force: true });
    const imageId = name.slice(PARTIAL_PREFIX.length).split('.')[0]!;
    if (IMAGE_ID.test(imageId)) interruptedUploads.add(imageId);
  }

  /** The file of an image: validated id, lower case, directly in the store directory. */
  function imagePath(imageId: string): string {
    const id = imageId.toLowerCase();
    if (!IMAGE_ID.test(id)) throw new Error(`not an image id: ${JSON.stringify(imageId)}`);
    return join(root, id);
  }

  /** The file a location names, if it is one of this store's image files. */
  function pathOf(location: string): string {
    let path: string;
    try {
      if (!location.startsWith('file://')) throw new ForeignLocation(location);
      path = resolve(fileURLToPath(location));
    } catch {
      throw new ForeignLocation(location);
    }
    if (dirname(path) !== root || !IMAGE_ID.test(basename(path))) throw new ForeignLocation(location);
    return path;
  }

  /** Makes a rename inside the directory durable, not only the file's contents. */
  async function syncDirectory(): Promise<void> {
    const handle = await open(root, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  return {
    scheme: 'file',
    interruptedUploads: [...interruptedUploads],

    async put(imageId, data) {
      let file: FileHandle | undefined;
      let partialPath: string | undefined;
      let finalPath: string | undefined;
      try {
        finalPath = imagePath(imageId);
        partialPath = join(root, `${PARTIAL_PREFIX}${basename(finalPath)}.${randomUUID()}`);
        // 'wx': never follow or reuse something already there.
        file = await open(partialPath, 'wx', 0o600);
        // flush: the stream fsyncs the file before it closes it, and pipeline waits for that.
        await pipeline(data, file.createWriteStream({ flush: true, highWaterMark: IO_CHUNK_BYTES }));
        file = undefined;
        await rename(partialPath, finalPath);
        partialPath = undefined;
        await syncDirectory();
        return pathToFileURL(finalPath).href;
      } catch (err) {
        // The stream closes the file when it fails, unless it never got to start.
        await file?.close().catch(() => undefined);
        if (partialPath) await rm(partialPath, { force: true });
        // Renamed but not durable: the caller is told it failed, so nothing may stay.
        else if (finalPath) await rm(finalPath, { force: true });
        // Whatever failed, nobody reads the source any more (pipeline has destroyed it already
        // unless the failure came before it started).
        data.destroy();
        throw err;
      }
    },

    async get(location: string, range?: ByteRange): Promise<Readable> {
      const path = pathOf(location);
      // Opened here rather than by the stream, so a missing file rejects now, before an answer
      // has been started, instead of failing the stream later.
      const file = await open(path, 'r').catch((err: unknown) => {
        throw isErrno(err, 'ENOENT') ? new ImageDataNotFound(location) : err;
      });
      try {
        const lastByte = range ? range.end : (await file.stat()).size - 1;
        return new FileRangeReader(file, range ? range.start : 0, lastByte);
      } catch (err) {
        await file.close();
        throw err;
      }
    },

    async delete(location: string): Promise<void> {
      await unlink(pathOf(location)).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
      });
    },
  };
}
