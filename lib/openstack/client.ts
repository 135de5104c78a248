// The client the operator, the tests and the benchmarks share: one per cloud, holding its
// session and connections; `service(type)` gives the calls of one service, relative to that
// service's versioned endpoint, authenticated, retried and failing with typed errors.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import {
  type EndpointInterface,
  microversionHeaders,
  officialServiceType,
  selectEndpoint,
  versionedBaseUrl,
} from './catalog.js';
import type { AuthType, CloudAuth, CloudConfig } from './config.js';
import { ConfigurationError, OpenStackError, redactSecrets } from './errors.js';
import { describeUrl, failureOf, type HttpResponse, requestIdOf, Transport } from './http.js';
import { type Page, type PaginateOptions, paginate } from './pagination.js';
import { DEFAULT_RETRY_POLICY, type RetryOptions, type RetryPolicy, withRetries } from './retry.js';
import { AuthSession } from './session.js';

export interface ClientOptions {
  log?: Logger;
  retry?: Partial<RetryPolicy>;
  /** Per request; defaults to the cloud's api_timeout, else 60 s. */
  timeoutMs?: number;
  /** See SessionOptions.expiryMarginMs. */
  expiryMarginMs?: number;
  /** PEM CA certificates (the operator's Secret `cacert`); else the cloud's cacert file. */
  ca?: string | Buffer;
  userAgent?: string;
  /** Sent with every call: who is asking, for a service without Keystone (X-Project-Id, X-Roles). */
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | readonly (string | number | boolean)[] | undefined;

export interface RequestOptions {
  /** Repeated keys for arrays (`fields=id&fields=name`); undefined values are left out. */
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /**
   * Sent as is with `contentType` (a JSON patch, image data). A stream (image data on its way
   * from elsewhere) is sent once: no retry, no resend after a 401.
   */
  rawBody?: string | Buffer | Readable;
  contentType?: string;
  headers?: Record<string, string>;
  /** The microversion to ask for, in the service's header(s). */
  microversion?: string;
  retry?: RetryOptions;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  status: number;
  headers: HttpResponse['headers'];
  /** Parsed JSON, or undefined for an empty or non-JSON answer (then see `raw`). */
  body: T;
  raw: Buffer;
  requestId: string | undefined;
}

export interface ServiceOptions {
  interface?: EndpointInterface;
  regionName?: string;
  /** Sent with every call of this service unless a call names its own. */
  microversion?: string;
}

function readCaFile(cloud: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigurationError(
      `cloud "${cloud}": cacert ${path} cannot be read (${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

/** `url` with `query` appended: arrays as repeated keys, undefined values left out. */
function withQuery(url: string, query: RequestOptions['query']): URL {
  const target = new URL(url);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) target.searchParams.append(key, String(one));
  }
  return target;
}

// biome-ignore lint/suspicious/noExplicitAny: the default body type of a call is whatever JSON came back
type Json = any;

export class OpenStackClient {
  readonly session: AuthSession;
  private readonly transport: Transport;
  private readonly retryPolicy: RetryPolicy;
  private readonly timeoutMs: number;

  constructor(
    readonly cloud: CloudConfig,
    private readonly options: ClientOptions = {},
  ) {
    const ca = options.ca ?? (cloud.cacert ? readCaFile(cloud.name, cloud.cacert) : undefined);
    this.transport = new Transport({ ...(ca === undefined ? {} : { ca }), verify: cloud.verify });
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? cloud.apiTimeoutMs ?? 60_000;
    this.session = new AuthSession(cloud, this.transport, {
      retry: this.retryPolicy,
      timeoutMs: this.timeoutMs,
      ...(options.expiryMarginMs === undefined ? {} : { expiryMarginMs: options.expiryMarginMs }),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** The calls of one service (`network`, `image`, `compute`, `identity`, `placement`, ...). */
  service(serviceType: string, options: ServiceOptions = {}): ServiceClient {
    return new ServiceClient(this, serviceType, options);
  }

  /**
   * The versioned base URL of `serviceType`: the cloud's `<type>_endpoint_override` if set,
   * else the catalog's endpoint for the interface and region (per-service settings first).
   */
  async endpoint(serviceType: string, options: ServiceOptions = {}): Promise<string> {
    const settings = this.cloud.services[officialServiceType(serviceType).replaceAll('-', '_')] ?? {};
    if (settings.endpointOverride) return versionedBaseUrl(serviceType, settings.endpointOverride);
    if (this.cloud.authType === 'none') {
      throw new ConfigurationError(
        `cloud "${this.cloud.name}" uses auth_type none, so ${serviceType} needs an endpoint override`,
      );
    }
    const token = await this.session.token();
    const url = selectEndpoint(token.catalog, {
      serviceType,
      interface: options.interface ?? settings.interface ?? this.cloud.interface,
      regionName: options.regionName ?? this.cloud.regionName,
    });
    return versionedBaseUrl(serviceType, url);
  }

  /** The project the cloud's token is scoped to, if it is (never, without Keystone). */
  async projectId(): Promise<string | undefined> {
    if (this.cloud.authType === 'none') return undefined;
    return (await this.session.token()).projectId;
  }

  /**
   * One call to an absolute `url`, authenticated (re-authenticating once if the token is
   * refused), retried per policy, parsed; an answer of 400 or more throws its typed error.
   */
  async send<T = Json>(method: string, url: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const target = withQuery(url, options.query);
    return withRetries(
      () => this.sendAuthenticated<T>(method, target, options),
      method,
      options.rawBody instanceof Readable ? { ...this.retryPolicy, maxAttempts: 1 } : this.retryPolicy,
      options.retry,
      {
        ...(options.signal ? { signal: options.signal } : {}),
        onRetry: (error, retry, delayMs) =>
          this.options.log?.warn(
            {
              cloud: this.cloud.name,
              method,
              url: describeUrl(target),
              retry,
              delayMs,
              error: String(error),
            },
            'retrying OpenStack call',
          ),
      },
    );
  }

  private async sendAuthenticated<T>(
    method: string,
    url: URL,
    options: RequestOptions,
  ): Promise<ApiResponse<T>> {
    let response: HttpResponse;
    if (this.cloud.authType === 'none') {
      response = await this.sendOnce(method, url, undefined, options);
    } else {
      const token = await this.session.token();
      response = await this.sendOnce(method, url, token.value, options);
      if (response.status === 401) {
        // The token was revoked or expired early: one fresh token, one more try (a stream
        // cannot be sent twice: the next call gets the fresh token).
        this.session.invalidate(token);
        if (!(options.rawBody instanceof Readable))
          response = await this.sendOnce(method, url, (await this.session.token()).value, options);
      }
    }
    const context = { method, url: describeUrl(url) };
    if (response.status >= 400) throw failureOf(context, response, this.session.secrets());
    const isJson = String(response.headers['content-type'] ?? '').includes('json');
    let body: unknown;
    try {
      body = isJson && response.body.length > 0 ? JSON.parse(response.body.toString('utf8')) : undefined;
    } catch {
      throw new OpenStackError(
        `${method} ${context.url} answered ${response.status} with JSON that does not parse`,
      );
    }
    return {
      status: response.status,
      headers: response.headers,
      body: body as T,
      raw: response.body,
      requestId: requestIdOf(response),
    };
  }

  private async sendOnce(
    method: string,
    url: URL,
    token: string | undefined,
    options: RequestOptions,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.options.userAgent ?? 'overcast-openstack-client',
      ...this.options.headers,
      ...options.headers,
      ...(token === undefined ? {} : { 'x-auth-token': token }),
    };
    let body: string | Buffer | Readable | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    const started = Date.now();
    const response = await this.transport.send({
      method,
      url,
      headers,
      ...(body === undefined ? {} : { body }),
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    this.options.log?.debug(
      {
        cloud: this.cloud.name,
        method,
        url: redactSecrets(describeUrl(url), this.session.secrets()),
        status: response.status,
        requestId: requestIdOf(response),
        ms: Date.now() - started,
      },
      'OpenStack call',
    );
    return response;
  }

  /**
   * A client of the same cloud (auth URL, endpoint choice, TLS trust, timeouts, retries) that
   * authenticates as someone else: the operator acting as a user it manages. Close it after use.
   */
  withAuth(authType: AuthType, auth: Omit<CloudAuth, 'auth_url'>): OpenStackClient {
    return new OpenStackClient(
      { ...this.cloud, authType, auth: { auth_url: this.cloud.auth.auth_url, ...auth } },
      this.options,
    );
  }

  /** Closes the kept-alive connections; the client is not used after. */
  close(): void {
    this.transport.close();
  }
}

/** One service's calls; paths are relative to its versioned endpoint (`/networks`, `/images`). */
export class ServiceClient {
  constructor(
    readonly client: OpenStackClient,
    readonly serviceType: string,
    private readonly options: ServiceOptions = {},
  ) {}

  /** The versioned base URL calls go to. */
  baseUrl(): Promise<string> {
    return this.client.endpoint(this.serviceType, this.options);
  }

  /** `path` relative to the base URL, or an absolute URL (a next link) as is. */
  async request<T = Json>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const url = /^https?:\/\//i.test(path) ? path : `${await this.baseUrl()}${path}`;
    const microversion = options.microversion ?? this.options.microversion;
    const headers = {
      ...(microversion ? microversionHeaders(this.serviceType, microversion) : {}),
      ...options.headers,
    };
    return this.client.send<T>(method, url, { ...options, headers });
  }

  get<T = Json>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = Json>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, body });
  }
  put<T = Json>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, { ...options, body });
  }
  patch<T = Json>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PATCH', path, { ...options, body });
  }
  delete<T = Json>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }

  /**
   * Every item of a collection (`list('/networks', 'networks', {query: {name}})`), fetched page
   * by page as the service links them; see pagination.ts.
   */
  async *list<T = Json>(
    path: string,
    collection: string,
    options: RequestOptions & PaginateOptions = {},
  ): AsyncGenerator<T> {
    const baseUrl = await this.baseUrl();
    const { limit, query, ...pageOptions } = options;
    const first = withQuery(`${baseUrl}${path}`, query);
    const getPage = async (url: string) => (await this.request<Page>('GET', url, pageOptions)).body;
    yield* paginate<T>(getPage, first.toString(), baseUrl, collection, limit === undefined ? {} : { limit });
  }
}
