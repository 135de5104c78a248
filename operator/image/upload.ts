// An Image's data, from its http(s) URL into Glance (PUT /v2/images/{id}/file), streamed: the
// download flows through a hash into the upload a chunk at a time, so memory does not grow with
// the image. When the data must have an expected hash, the last chunk is held back until the
// download has ended and the digest is known: on a mismatch the upload is aborted before its
// end, Glance never receives a complete image and puts it back to `queued` without data (its
// handling of a client that goes away mid-upload), and no image is ever active with wrong bits.
import { createHash, type Hash } from 'node:crypto';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ConnectionFailed, type ServiceClient } from '../../lib/openstack/index.js';
import type { KindSpec } from '../crds/convention.js';
import type { Image } from '../crds/image.js';
import { TemporaryError, TerminalError } from '../framework/errors.js';

export type ImageContent = NonNullable<NonNullable<KindSpec<typeof Image>['resource']>['content']>;
export type ExpectedHash = NonNullable<ImageContent['expectedHash']>;

/** The downloaded data does not have the expected hash. */
export class HashMismatch extends Error {
  override name = 'HashMismatch';
  constructor(
    readonly algorithm: string,
    readonly actual: string,
    readonly expected: string,
  ) {
    super(`downloaded data has ${algorithm} ${actual}, expected ${expected}`);
  }
}

/**
 * Passes data through unchanged while hashing it, always one chunk behind: the last chunk goes
 * out only once the input has ended and its digest equals the expected one; otherwise the
 * stream fails with HashMismatch and whatever it feeds never sees the data's end. Holds at most
 * one chunk. Without an expected hash it passes everything straight on.
 */
export class VerifiedData extends Transform {
  private readonly hash: Hash | undefined;
  private held: Buffer | undefined;
  /** Set when the digest did not match. */
  mismatch: HashMismatch | undefined;

  constructor(private readonly expected: ExpectedHash | undefined) {
    super();
    this.hash = expected ? createHash(expected.algorithm) : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.hash) {
      callback(null, chunk);
      return;
    }
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    if (this.hash && this.expected) {
      const actual = this.hash.digest('hex');
      const expected = this.expected.value.toLowerCase();
      if (actual !== expected) {
        this.mismatch = new HashMismatch(this.expected.algorithm, actual, expected);
        callback(this.mismatch);
        return;
      }
    }
    callback(null, this.held);
  }
}

/** The URL as messages show it: no user info, no query (either may hold a credential). */
export function describeContentUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** How an answer of the content URL is taken: a missing file needs a spec change, a 5xx passes. */
export function downloadFailure(url: string, status: number): Error {
  const message = `downloading ${describeContentUrl(url)} failed: it answered ${status}`;
  if (status >= 500 || status === 408 || status === 429) return new TemporaryError(message);
  return new TerminalError(
    status === 404 || status === 410 ? `${message} (there is no image data at this URL)` : message,
  );
}

/** Opens the download of `url` (redirects followed, no content encoding), or throws as above. */
async function openDownload(url: string, signal: AbortSignal): Promise<Readable> {
  let response: Response;
  try {
    // identity: the bytes hashed and stored are the file itself, not a compressed rendering.
    response = await fetch(url, { signal, headers: { 'accept-encoding': 'identity' } });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new TemporaryError(
      `downloading ${describeContentUrl(url)} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw downloadFailure(url, response.status);
  }
  return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
}

/** The Glance call of the upload: the whole upload, however long, within this time. */
const UPLOAD_TIMEOUT_MS = 6 * 3_600_000;

/**
 * Streams `content` into image `imageId` (which must be queued). A hash mismatch is
 * InvalidConfiguration with the image left queued and empty; a download that fails (the
 * connection, a 5xx, cut off mid-way) is TransientError; Glance's own refusals (413 over quota)
 * are thrown as lib/openstack throws them.
 */
export async function uploadContent(
  image: ServiceClient,
  imageId: string,
  content: ImageContent,
): Promise<void> {
  const aborter = new AbortController();
  const download = await openDownload(content.url, aborter.signal);
  const verified = new VerifiedData(content.expectedHash);
  let downloadError: Error | undefined;
  pipeline(download, verified, (error) => {
    if (error && error !== verified.mismatch) downloadError = error;
  });
  try {
    await image.put(`/images/${encodeURIComponent(imageId)}/file`, undefined, {
      rawBody: verified,
      contentType: 'application/octet-stream',
      timeoutMs: UPLOAD_TIMEOUT_MS,
    });
  } catch (error) {
    // Glance answered (over quota, not queued any more): that answer is the failure. Only a
    // request cut short was cut by our side or by the network.
    if (!(error instanceof ConnectionFailed)) throw error;
    if (verified.mismatch)
      throw new TerminalError(`${verified.mismatch.message}; the image was left queued without data`);
    if (downloadError)
      throw new TemporaryError(
        `downloading ${describeContentUrl(content.url)} failed mid-way: ${downloadError.message}`,
      );
    throw error;
  } finally {
    aborter.abort();
  }
}
