// Requests to the Kubernetes API over one keep-alive connection pool: JSON in and out,
// authenticated as the configuration says, failures as KubernetesApiError; and watches, whose
// answer is a stream of newline-delimited JSON events.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubernetesConfig } from './config.js';
import { apiErrorOf } from './errors.js';
import { splitLines } from './lines.js';

export type Query = Record<string, string | number | boolean | undefined>;

/** One event of a watch: ADDED, MODIFIED, DELETED, BOOKMARK, or ERROR with a Status. */
export type WatchEventHandler = (type: string, object: unknown) => void;

export interface OpenWatch {
  /** Closes the stream; its `onEnd` is not called afterwards. */
  abort(): void;
}

export const JSON_TYPE = 'application/json';
/** RFC 7386: fields given replace, null removes; lists are replaced whole. */
export const MERGE_PATCH_TYPE = 'application/merge-patch+json';

/** How often a token file is read again: the kubelet rotates a service account's well before expiry. */
const TOKEN_REREAD_MS = 60_000;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
}

export class KubernetesClient {
  readonly server: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private token: { value: string; readAt: number } | undefined;

  constructor(readonly config: KubernetesConfig) {
    this.server = config.server;
    const secure = new URL(config.server).protocol === 'https:';
    this.transport = secure ? https : http;
    this.agent = secure
      ? new https.Agent({
          keepAlive: true,
          ...(config.ca ? { ca: config.ca } : {}),
          ...(config.cert ? { cert: config.cert } : {}),
          ...(config.key ? { key: config.key } : {}),
          rejectUnauthorized: !config.insecureSkipTlsVerify,
        })
      : new http.Agent({ keepAlive: true });
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request('GET', path, { ...(query ? { query } : {}) });
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request('POST', path, { body });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request('PUT', path, { body });
  }

  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.request('PATCH', path, { body: patch, contentType: MERGE_PATCH_TYPE });
  }

  /** The answer's JSON; an answer of 400 or more rejects with KubernetesApiError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const response = await this.send(method, path, options.query, payload, options.contentType);
    const text = await readAll(response);
    const status = response.statusCode ?? 0;
    if (status >= 400 || status < 200) throw apiErrorOf(status, text, { method, path });
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /**
   * Watches `path` from `query.resourceVersion`: `onEvent` for each event, then `onEnd` once,
   * with nothing when the server closed the stream (its timeoutSeconds) or the failure (a
   * KubernetesApiError when the watch was refused, 410 for a resourceVersion too old).
   */
  async watch(
    path: string,
    query: Query,
    onEvent: WatchEventHandler,
    onEnd: (error?: unknown) => void,
  ): Promise<OpenWatch> {
    const request = this.open('GET', path, { ...query, watch: true }, undefined, undefined);
    let ended = false;
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      request.destroy();
      onEnd(error);
    };
    request.on('error', end);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        readAll(response).then((text) => end(apiErrorOf(status, text, { method: 'GET', path })), end);
        return;
      }
      const lines = splitLines((line) => {
        if (ended) return;
        let event: { type?: unknown; object?: unknown } | null;
        try {
          event = JSON.parse(line);
        } catch {
          event = null;
        }
        if (typeof event?.type !== 'string') {
          end(new Error(`the watch of ${path} sent a line that is not an event`));
          return;
        }
        // A failing handler ends this stream (its owner watches again) instead of the process.
        try {
          onEvent(event.type, event.object);
        } catch (error) {
          end(error);
        }
      });
      response.on('data', (chunk: Buffer) => lines.push(chunk));
      response.on('end', () => {
        lines.end();
        end();
      });
      response.on('error', end);
      // Closed without its end: the server, or something between, cut the stream.
      response.on('close', () =>
        end(response.complete ? undefined : new Error(`the watch of ${path} was cut`)),
      );
    });
    request.end();
    return {
      abort() {
        ended = true;
        request.destroy();
      },
    };
  }

  /** Ends every connection, idle or in use: for when the client's owner is done with it. */
  close(): void {
    this.agent.destroy();
  }

  private send(
    method: string,
    path: string,
    query: Query | undefined,
    payload: Buffer | undefined,
    contentType: string | undefined,
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = this.open(method, path, query, payload, contentType);
      request.on('response', resolve);
      request.on('error', reject);
      request.end(payload);
    });
  }

  private open(
    method: string,
    path: string,
    query: Query | undefined,
    payload: Buffer | undefined,
    contentType: string | undefined,
  ): http.ClientRequest {
    const url = new URL(this.server + path);
    for (const [name, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: http.OutgoingHttpHeaders = { Accept: JSON_TYPE };
    const authorization = this.authorization();
    if (authorization) headers.Authorization = authorization;
    if (payload) {
      headers['Content-Type'] = contentType ?? JSON_TYPE;
      headers['Content-Length'] = payload.length;
    }
    return this.transport.request(url, { method, agent: this.agent, headers });
  }

  private authorization(): string | undefined {
    const { token, tokenFile, username, password } = this.config;
    if (token) return `Bearer ${token}`;
    if (tokenFile) {
      const now = Date.now();
      if (!this.token || now - this.token.readAt >= TOKEN_REREAD_MS) {
        try {
          this.token = { value: readFileSync(tokenFile, 'utf8').trim(), readAt: now };
        } catch (error) {
          // Caught mid-rotation: the token read last is still valid for a while.
          if (!this.token) throw error;
        }
      }
      return `Bearer ${this.token.value}`;
    }
    if (username !== undefined && password !== undefined)
      return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    return undefined;
  }
}

function readAll(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete)
        reject(new Error('the Kubernetes API closed the connection before the end of its answer'));
    });
  });
}
