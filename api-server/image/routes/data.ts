// /v2/images/{image_id}/file: an image's data, uploaded once into the store and downloaded
// whole or by byte range. Both directions stream: the upload goes request → meter (data.ts:
// hashes, size, limit) → store, the download store → response, a chunk at a time, so memory
// does not grow with the image.
//
// An upload moves the image queued → saving → active with conditional updates, so two uploads
// racing on one image cannot both win, and an image deleted during its upload loses the data
// that was stored for it. Whatever goes wrong, nothing stays in the store and the image is
// queued again, ready for another try (Glance's _restore).
import type { IncomingMessage } from 'node:http';
import { finished, Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { authorize } from '../../common/authorize.js';
import { contextOf, requireAuth } from '../../common/context.js';
import {
  ApiError,
  BadRequest,
  Conflict,
  Forbidden,
  PayloadTooLarge,
  ServiceUnavailable,
  UnsupportedMediaType,
} from '../../common/errors.js';
import { ImageDataMeter, ImageDataNotFound, ImageDataTooLarge, writeAll } from '../data.js';
import type { ImageService } from '../image-service.js';
import { type ImageRecord, storedBytesOf, updateImage } from '../store.js';
import type { ByteRange } from '../stores/driver.js';
import { policyTarget, viewerOf, visibleImage } from '../visibility.js';

type ImageParams = { image_id: string };

/** server.ts's REQUEST_ID_HEADER (not imported: server.ts imports every service, this among them). */
const REQUEST_ID_HEADER = 'x-openstack-request-id';

/**
 * After refusing an upload, how long the client may go on sending before its connection is
 * cut. The unread rest of the body is read and dropped meanwhile, so a client that sends the
 * whole body before reading the answer (most do) still gets to read the 413.
 */
const DISCARD_GRACE_MS = 10_000;

/** The client went away (or its request broke) before all of the data arrived. */
class UploadAborted extends Error {
  constructor(cause: unknown) {
    super('the client stopped sending image data before its end', { cause });
    this.name = 'UploadAborted';
  }
}

/** What bounds an upload: the per-image cap, or what is left of the owner's quota. */
interface UploadLimit {
  bytes: number;
  /** True when the project quota is the tighter bound (it decides the 413's wording). */
  byQuota: boolean;
  /** Bytes the project may still store, when a quota applies. */
  quotaRemaining?: number;
}

/** Glance's 413s: StorageQuotaFull and ImageSizeLimitExceeded, in its words. */
function tooLarge(limit: UploadLimit, size: number): PayloadTooLarge {
  if (limit.byQuota) {
    return new PayloadTooLarge(
      `Image exceeds the storage quota: The size of the data ${size} will exceed the limit. ` +
        `${limit.quotaRemaining} bytes remaining.`,
    );
  }
  return new PayloadTooLarge('The incoming image is too large: The provided image is too large.');
}

/** The number in Content-Length, if the request declared one. */
function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

/**
 * Feeds the request body into the meter. Not pipeline(): a failing meter (over the limit, or
 * the store failed) would then destroy the request, and with it the connection, before the
 * error could be answered. A client that goes away fails the meter, and so the store's put.
 */
function feedBody(body: IncomingMessage, meter: ImageDataMeter): void {
  // The store's put reports the meter's failure (its pipeline sees a stream that failed before
  // it began); until then nobody listens, and an unheard 'error' (a first chunk over the
  // limit, arriving while the store is still opening its file) would end the process.
  meter.on('error', () => undefined);
  body.pipe(meter);
  const stopWatching = finished(body, (err) => {
    stopWatching();
    if (err) meter.destroy(new UploadAborted(err));
  });
}

/**
 * Reads and drops what the client still sends after its upload was refused, for a while, then
 * cuts the connection if it has not finished: answering early must not leave the client
 * blocked on a full socket, nor let it stream gigabytes into nowhere for ever.
 */
function discardRestOfBody(body: IncomingMessage): void {
  if (body.readableEnded || body.destroyed) return;
  body.unpipe();
  body.resume();
  const timer = setTimeout(() => body.destroy(), DISCARD_GRACE_MS);
  timer.unref();
  body.once('close', () => clearTimeout(timer));
}

/** A store failure in Glance's terms; 5xx answers name the problem but carry no details. */
function storeFailure(err: unknown): ApiError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new PayloadTooLarge('Image storage media is full.');
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new ServiceUnavailable('Insufficient permissions on image storage media.');
  }
  return new ApiError(500, 'The image data could not be stored because of an internal error.');
}

// 416. The route adds `Content-Range: bytes */<size>`, as RFC 9110 asks of a 416.
export class RangeNotSatisfiable extends ApiError {
  constructor(message: string) {
    super(416, message);
  }
}

/**
 * The byte range a Range header asks for, as Glance reads it: one range only (several are a
 * 400, as Glance answers them), `bytes=a-b`, `bytes=a-` or the suffix `bytes=-n`; an end past
 * the data is cut to its last byte. Throws RangeNotSatisfiable for anything else.
 */
export function requestedRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  if (header.includes(',')) {
    throw new BadRequest(
      'Requests with multiple ranges are not supported in Glance. ' +
        'You may make multiple single-range requests instead.',
    );
  }
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  const [first, last] = [match?.[1] ?? '', match?.[2] ?? ''];
  if (!match || (first === '' && last === '')) throw new RangeNotSatisfiable('Invalid Range header.');
  if (first === '') {
    // A suffix: the last n bytes (all of them when n is larger than the data).
    const suffixLength = Number(last);
    if (suffixLength === 0 || size === 0) throw new RangeNotSatisfiable('Invalid Range header.');
    return { start: Math.max(0, size - suffixLength), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) throw new RangeNotSatisfiable('Invalid Range header.');
  if (start >= size) {
    throw new RangeNotSatisfiable(
      'Invalid start position in Range header. ' +
        `Start position MUST be in the inclusive range [0, ${size - 1}].`,
    );
  }
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

export const dataRoutes: FastifyPluginAsync<ImageService> = async (app, service) => {
  const { db, store, policy, identity, config } = service;
  app.addHook('preHandler', requireAuth(identity));

  /** The tighter of the per-image cap and what the owner's quota leaves. */
  async function uploadLimitFor(image: ImageRecord): Promise<UploadLimit> {
    const cap = config.image.maxImageSizeBytes;
    if (config.image.projectQuotaBytes < 0) return { bytes: cap, byQuota: false };
    // Counts the owner's stored images; this one is queued and holds nothing yet. Two uploads
    // of one project running at the same time are each measured against what was stored
    // before either began, as in Glance.
    const remaining = Math.max(0, config.image.projectQuotaBytes - (await storedBytesOf(db, image.owner)));
    return remaining < cap
      ? { bytes: remaining, byQuota: true, quotaRemaining: remaining }
      : { bytes: cap, byQuota: false };
  }

  /** Puts a failed upload's image back to queued, unless something else changed it meanwhile. */
  async function requeue(request: FastifyRequest, image: ImageRecord): Promise<void> {
    await updateImage(db, image.id, { status: 'queued' }, ['saving']).catch((err: unknown) =>
      request.log.error(
        { err, image_id: image.id },
        'image upload failed and the image could not be queued again',
      ),
    );
  }

  async function forgetStoredData(request: FastifyRequest, location: string): Promise<void> {
    await store
      .delete(location)
      .catch((err: unknown) =>
        request.log.error({ err, location }, 'cannot remove the data of a failed upload'),
      );
  }

  app.put<{ Params: ImageParams }>('/v2/images/:image_id/file', async (request, reply) => {
    // Glance checks the media type before anything else; the content-type parser of the image
    // plugin hands application/octet-stream bodies over as the request stream itself.
    const body = request.body;
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/octet-stream' || !(body instanceof Readable)) {
      throw new UnsupportedMediaType(`Invalid content type ${request.headers['content-type'] ?? '(none)'}`);
    }
    const raw = request.raw;

    const image = await visibleImage(db, viewerOf(policy, contextOf(request)), request.params.image_id);
    authorize(policy, request, 'upload_image', policyTarget(image));
    if (image.status !== 'queued') {
      throw new Conflict(`Image status transition from ${image.status} to saving is not allowed`);
    }
    const missing = (['disk_format', 'container_format'] as const).filter((name) =>
      name === 'disk_format' ? !image.diskFormat : !image.containerFormat,
    );
    if (missing.length > 0) {
      throw new BadRequest(
        `${missing.length === 1 ? 'Property' : 'Properties'} ${missing.join(', ')} must be set prior to saving data.`,
      );
    }

    const limit = await uploadLimitFor(image);
    const declared = declaredLength(request);
    if (declared !== undefined && declared > limit.bytes) {
      // Refused before reading a byte of it.
      discardRestOfBody(raw);
      throw tooLarge(limit, declared);
    }
    if (!(await updateImage(db, image.id, { status: 'saving' }, ['queued']))) {
      // Another request changed it since we read it (most likely another upload began).
      throw new Conflict(`Image status transition from ${image.status} to saving is not allowed`);
    }

    const started = performance.now();
    const meter = new ImageDataMeter({ maxBytes: limit.bytes, diskFormat: image.diskFormat });
    feedBody(raw, meter);
    let location: string;
    try {
      location = await store.put(image.id, meter);
    } catch (err) {
      // The store keeps nothing of a failed put (its contract).
      await requeue(request, image);
      return failedUpload(request, reply, image, limit, err);
    }

    const measured = meter.measurements();
    let activated: boolean;
    try {
      activated = await updateImage(
        db,
        image.id,
        {
          status: 'active',
          size: measured.size,
          virtualSize: measured.virtualSize,
          checksum: measured.checksum,
          osHashAlgo: measured.osHashAlgo,
          osHashValue: measured.osHashValue,
          location,
        },
        ['saving'],
      );
    } catch (err) {
      await forgetStoredData(request, location);
      await requeue(request, image);
      throw err;
    }
    if (!activated) {
      // Deleted (or otherwise taken out of saving) while the data streamed in: the data has
      // no image to belong to any more.
      await forgetStoredData(request, location);
      throw new ApiError(
        410,
        `Image ${image.id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.`,
      );
    }
    request.log.info(
      { image_id: image.id, bytes: measured.size, ms: Math.round(performance.now() - started) },
      'image data stored',
    );
    return reply.code(204).send();
  });

  /** The answer to an upload whose data did not make it into the store. */
  function failedUpload(
    request: FastifyRequest,
    reply: FastifyReply,
    image: ImageRecord,
    limit: UploadLimit,
    err: unknown,
  ): FastifyReply {
    if (err instanceof UploadAborted) {
      // Nobody is left to answer: the connection is gone.
      request.log.info(
        { image_id: image.id, reason: String(err.cause) },
        'image upload aborted by the client',
      );
      reply.hijack();
      request.raw.destroy();
      return reply;
    }
    discardRestOfBody(request.raw);
    if (err instanceof ImageDataTooLarge) throw tooLarge(limit, err.receivedBytes);
    request.log.error({ err, image_id: image.id }, 'image data could not be stored');
    throw storeFailure(err);
  }

  // GET and HEAD declared together: fastify's automatic HEAD route would read the whole
  // stream a GET answers with, only to throw it away.
  app.route<{ Params: ImageParams }>({
    method: ['GET', 'HEAD'],
    url: '/v2/images/:image_id/file',
    handler: async (request, reply) => {
      const viewer = viewerOf(policy, contextOf(request));
      const image = await visibleImage(db, viewer, request.params.image_id);
      if (image.status === 'deactivated' && !viewer.isAdmin) {
        throw new Forbidden('The requested image has been deactivated. Image data download is forbidden.');
      }
      authorize(policy, request, 'download_image', policyTarget(image));
      // No data (yet): Glance answers 204.
      if (image.location === null || image.size === null) return reply.code(204).send();

      let range: ByteRange | undefined;
      try {
        range = requestedRange(request.headers.range, image.size);
      } catch (err) {
        if (err instanceof RangeNotSatisfiable) reply.header('content-range', `bytes */${image.size}`);
        throw err;
      }

      reply.header('content-type', 'application/octet-stream');
      if (range) {
        reply
          .code(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${image.size}`)
          .header('content-length', range.end - range.start + 1);
      } else {
        reply.header('content-length', image.size);
        // Glance sends the whole image's MD5 even on partial answers; that would be wrong for a
        // range (RFC 1864: the digest of the body), so only whole downloads carry it.
        if (image.checksum) reply.header('content-md5', image.checksum);
      }
      // HEAD gets the headers only: no reason to open the file.
      if (request.method === 'HEAD') return reply.send();

      let data: Readable;
      try {
        data = await store.get(image.location, range);
      } catch (err) {
        if (!(err instanceof ImageDataNotFound)) throw err;
        // The record points at data that is gone: Glance answers as for no data, 204.
        request.log.warn(
          { image_id: image.id, location: image.location },
          'image data missing from the store',
        );
        reply.removeHeader('content-range').removeHeader('content-md5');
        return reply.code(204).send();
      }
      // Written here rather than by reply.send(data), which pipes: writeAll learns when each
      // chunk is on its way and lets the store reuse its buffer (see RecyclingReadable). The
      // access log still sees the answer; the request id, which the server adds in an onSend
      // hook a hijacked reply skips, is added here.
      reply.hijack();
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value);
      }
      reply.raw.setHeader(REQUEST_ID_HEADER, String(request.id));
      reply.raw.writeHead(reply.statusCode);
      await writeAll(data, reply.raw).catch((err: unknown) =>
        request.log.info({ image_id: image.id, reason: String(err) }, 'image download cut short'),
      );
      return reply;
    },
  });
};
