// The store-driver interface (glance_store's, reduced to what the API needs): a driver keeps
// image data under locations it chooses and hands back only opaque location URIs. Hashing,
// size limits and status transitions are the caller's (data.ts); a driver only moves bytes.
import type { Readable } from 'node:stream';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface ImageStoreDriver {
  /** The scheme of the locations this driver makes ("file"). */
  readonly scheme: string;
  /**
   * Images whose uploads into this store were cut short when the previous server process
   * ended (their partial data is already gone): the service puts those still `saving` back
   * to `queued`, so a crash never leaves an image stuck mid-upload.
   */
  readonly interruptedUploads: readonly string[];
  /**
   * Copies `data` into the store as the data of image `imageId` and resolves with its location
   * once it is complete and durable. If `data` fails (the client went away, a limit was
   * exceeded) or the store does, it rejects with that error and leaves nothing behind.
   */
  put(imageId: string, data: Readable): Promise<string>;
  /** The data at `location`, or the bytes of `range` of it. */
  get(location: string, range?: ByteRange): Promise<Readable>;
  /** Removes the data; a location that is already gone is not an error. */
  delete(location: string): Promise<void>;
}
