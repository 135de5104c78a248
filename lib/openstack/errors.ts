// Typed errors for every way an OpenStack call can fail, and the one place where each
// service's error body is read. Callers branch on the class (NotFound, Conflict,
// QuotaExceeded...) instead of on status codes and wording.

/** What a failed call was: enough to say which request failed, never its headers or body. */
export interface RequestContext {
  method: string;
  url: string;
}

/** Base of every error the client throws. Messages never contain a secret (see redactSecrets). */
export class OpenStackError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The cloud configuration is missing, malformed or names something that does not exist. */
export class ConfigurationError extends OpenStackError {}

/** The catalog has no endpoint for the service type, interface and region asked for. */
export class EndpointNotFound extends OpenStackError {}

/** The request never got an HTTP answer: refused, reset, DNS, TLS or timed out. */
export class ConnectionFailed extends OpenStackError {
  constructor(
    message: string,
    readonly request: RequestContext,
    /** The system error code (ECONNREFUSED, ECONNRESET, ETIMEDOUT...) when there is one. */
    readonly code: string | undefined,
    /** True when the server cannot have seen the request (refused, DNS), so any method may be resent. */
    readonly beforeSending: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An HTTP answer of 400 or more. */
export class HttpError extends OpenStackError {
  constructor(
    message: string,
    readonly status: number,
    readonly request: RequestContext,
    /** x-openstack-request-id (or x-compute-request-id) of the answer, for the operator's logs. */
    readonly requestId: string | undefined,
    /** The service's own error name when its body has one (Neutron's "NetworkNotFound"). */
    readonly type: string | undefined,
    /** Seconds or a date from Retry-After, as sent. */
    readonly retryAfter: string | undefined,
  ) {
    super(message);
  }
}

export class BadRequest extends HttpError {}
export class Unauthorized extends HttpError {}
export class Forbidden extends HttpError {}
export class NotFound extends HttpError {}
export class MethodNotAllowed extends HttpError {}
export class Conflict extends HttpError {}
export class PreconditionFailed extends HttpError {}
/** A quota would be passed: Neutron's 409 OverQuota, Nova's 403 "Quota exceeded", any 413. */
export class QuotaExceeded extends HttpError {}
export class UnsupportedMediaType extends HttpError {}
export class TooManyRequests extends HttpError {}
/** Any 5xx. */
export class ServerError extends HttpError {}

type HttpErrorClass = new (...args: ConstructorParameters<typeof HttpError>) => HttpError;

const CLASS_BY_STATUS: Record<number, HttpErrorClass> = {
  400: BadRequest,
  401: Unauthorized,
  403: Forbidden,
  404: NotFound,
  405: MethodNotAllowed,
  409: Conflict,
  412: PreconditionFailed,
  413: QuotaExceeded,
  415: UnsupportedMediaType,
  429: TooManyRequests,
};

/** What an error body says: a message and, where the service names its errors, a type. */
export interface ErrorDetails {
  message: string | undefined;
  type: string | undefined;
}

const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads every service's error shape:
 * - Keystone `{"error": {"code", "title", "message"}}`
 * - Neutron `{"NeutronError": {"type", "message", "detail"}}`
 * - Nova `{"itemNotFound": {"code", "message"}}` (the fault name as the only key)
 * - Placement and the API-SIG `{"errors": [{"title", "detail", "code"}]}`
 * - Glance as webob renders it: JSON `{"code", "title", "message"}`, or an HTML/plain page
 */
export function parseErrorBody(contentType: string, text: string): ErrorDetails {
  if (text.trim() === '') return { message: undefined, type: undefined };
  if (contentType.includes('json')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { message: plainText(text), type: undefined };
    }
    return fromJson(body) ?? { message: plainText(text), type: undefined };
  }
  return { message: plainText(text), type: undefined };
}

function fromJson(body: unknown): ErrorDetails | undefined {
  if (!isRecord(body)) return undefined;
  if (isRecord(body.NeutronError)) {
    const { type, message, detail } = body.NeutronError;
    return { message: str(message) ?? str(detail), type: str(type) };
  }
  if (Array.isArray(body.errors) && isRecord(body.errors[0])) {
    const [first] = body.errors as Record<string, unknown>[];
    return { message: str(first?.detail) ?? str(first?.title), type: str(first?.code) };
  }
  if (str(body.message)) return { message: str(body.message), type: str(body.title) };
  // Keystone's {"error": {...}} and Nova's {"<faultName>": {...}} both wrap one object; Nova's
  // key is the fault's name, Keystone's title says the same thing.
  for (const [key, value] of Object.entries(body)) {
    if (isRecord(value) && str(value.message)) {
      return { message: str(value.message), type: key === 'error' ? str(value.title) : key };
    }
  }
  return undefined;
}

/** An HTML or plain error page as one line: tags dropped, and the status line webob repeats. */
function plainText(text: string): string | undefined {
  const lines = text
    .replace(/<title>[\s\S]*?<\/title>/gi, '')
    .replace(/<[^>]+>/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^\d{3} [A-Za-z ]+$/.test(line));
  const joined = lines.join(' ').slice(0, 500);
  return joined === '' ? undefined : joined;
}

const QUOTA_WORDS = /quota|over ?limit|exceeds?.*limit/i;

/** QuotaExceeded where a service says so in its own way; otherwise the class of the status. */
function classify(status: number, details: ErrorDetails): HttpErrorClass {
  if (details.type === 'OverQuota' || details.type === 'overLimit') return QuotaExceeded;
  if ((status === 403 || status === 409) && details.message && QUOTA_WORDS.test(details.message)) {
    return QuotaExceeded;
  }
  if (status >= 500) return ServerError;
  return CLASS_BY_STATUS[status] ?? HttpError;
}

export interface ErrorResponse {
  status: number;
  contentType: string;
  text: string;
  requestId: string | undefined;
  retryAfter: string | undefined;
}

/** The typed error for an HTTP answer of 400 or more; `secrets` are masked out of its message. */
export function errorFromResponse(
  request: RequestContext,
  response: ErrorResponse,
  secrets: readonly string[] = [],
): HttpError {
  // Masked before parsing: a message cut short could otherwise keep the start of a secret.
  const details = parseErrorBody(response.contentType, redactSecrets(response.text, secrets));
  const ErrorClass = classify(response.status, details);
  const said = details.message ? `: ${details.message}` : '';
  const message = redactSecrets(
    `${request.method} ${request.url} answered ${response.status}${said}` +
      (response.requestId ? ` (request ${response.requestId})` : ''),
    secrets,
  );
  return new ErrorClass(
    message,
    response.status,
    request,
    response.requestId,
    details.type,
    response.retryAfter,
  );
}

/** `text` with every occurrence of each secret replaced by ***; short strings are left alone. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) {
    // A one- or two-character "secret" would mask innocent text and protects nothing.
    if (secret.length < 3) continue;
    redacted = redacted.split(secret).join('***');
  }
  return redacted;
}
