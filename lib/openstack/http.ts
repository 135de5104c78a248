// One HTTP exchange over node:http/https with kept-alive connections, a deadline, and the
// cloud's CA: the only place bytes meet the network. It throws ConnectionFailed when no
// answer came and returns every answer, whatever its status; callers that want an answer of
// 400 or more as its typed error ask failureOf.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { ConnectionFailed, errorFromResponse, type HttpError, type RequestContext } from './errors.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /**
   * A stream is sent as it comes (chunked, unless the headers declare its length); the
   * deadline covers all of it. A stream the server answers before its end is destroyed, and a
   * stream that fails aborts the request, so the server never sees an end it did not get.
   */
  body?: string | Buffer | Readable;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface TransportOptions {
  /** PEM CA certificates to trust instead of the system's. */
  ca?: string | Buffer;
  /** false accepts any server certificate (`insecure`). */
  verify?: boolean;
}

/** Errors that mean the request never reached a server, so it cannot have been acted on. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The URL as errors and logs show it: no user info, which could carry credentials. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search}`;
}

/** The request id OpenStack services put on their answers (Nova's older header too). */
export function requestIdOf(response: HttpResponse): string | undefined {
  const id = response.headers['x-openstack-request-id'] ?? response.headers['x-compute-request-id'];
  return typeof id === 'string' ? id : undefined;
}

/** The typed error an answer of 400 or more stands for, `secrets` masked out of it. */
export function failureOf(
  request: RequestContext,
  response: HttpResponse,
  secrets: readonly string[],
): HttpError {
  return errorFromResponse(
    request,
    {
      status: response.status,
      contentType: String(response.headers['content-type'] ?? ''),
      text: response.body.toString('utf8'),
      requestId: requestIdOf(response),
      retryAfter: response.headers['retry-after'],
    },
    secrets,
  );
}

export class Transport {
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgent: HttpsAgent;

  constructor(options: TransportOptions = {}) {
    this.httpsAgent = new HttpsAgent({
      keepAlive: true,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      rejectUnauthorized: options.verify !== false,
    });
  }

  send(request: HttpRequest): Promise<HttpResponse> {
    const context: RequestContext = { method: request.method, url: describeUrl(request.url) };
    const secure = request.url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const outgoing = (secure ? httpsRequest : httpRequest)(request.url, {
        method: request.method,
        headers: {
          ...request.headers,
          ...(request.body === undefined || request.body instanceof Readable
            ? {}
            : { 'content-length': String(Buffer.byteLength(request.body)) }),
        },
        agent: secure ? this.httpsAgent : this.httpAgent,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      const deadline = setTimeout(() => {
        const timeout = Object.assign(new Error(`no answer within ${request.timeoutMs} ms`), {
          code: 'ETIMEDOUT',
        });
        outgoing.destroy(timeout);
      }, request.timeoutMs);
      outgoing.on('response', (incoming) => {
        // An answer before the whole body went out (a 413): the rest is not wanted, and the
        // request left unfinished cannot go back to the pool.
        const cutShort = request.body instanceof Readable && !request.body.readableEnded;
        if (cutShort && request.body instanceof Readable) {
          request.body.unpipe(outgoing);
          request.body.destroy();
        }
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          clearTimeout(deadline);
          if (cutShort) outgoing.destroy();
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks),
          });
        });
        incoming.on('error', (error) => fail(error));
      });
      outgoing.on('error', (error) => fail(error));
      const fail = (error: Error & { code?: string }) => {
        clearTimeout(deadline);
        if (error.name === 'AbortError') {
          reject(error);
          return;
        }
        // A reset on a kept-alive socket may be a stale connection the request never went
        // out on, or a server that read the request and died: only the caller can say whether
        // sending it again is safe, so it counts as possibly sent.
        reject(
          new ConnectionFailed(
            `${context.method} ${context.url} failed: ${error.code ?? error.message}`,
            context,
            error.code,
            NOT_SENT_CODES.has(error.code ?? ''),
            { cause: error },
          ),
        );
      };
      if (request.body instanceof Readable) {
        const body = request.body;
        body.once('error', (error) => outgoing.destroy(error));
        body.pipe(outgoing);
      } else outgoing.end(request.body);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
