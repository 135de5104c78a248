// Keystone v3 authentication for one cloud: the token and its catalog, kept until shortly
// before they expire, fetched by one request however many callers ask at once, and dropped
// when a service says the token is no longer valid (the caller then asks again, once).
import type { Logger } from '../log.js';
import type { CatalogService } from './catalog.js';
import { versionedBaseUrl } from './catalog.js';
import type { CloudAuth, CloudConfig } from './config.js';
import { ConfigurationError, OpenStackError } from './errors.js';
import { describeUrl, failureOf, type Transport } from './http.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetries } from './retry.js';

export interface Token {
  /** The X-Subject-Token value. */
  value: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  catalog: CatalogService[];
  userId: string;
  projectId: string | undefined;
  domainId: string | undefined;
}

export interface SessionOptions {
  /** A token this close to its expiry is replaced before use (keystoneauth keeps 120 s). */
  expiryMarginMs?: number;
  timeoutMs?: number;
  retry?: RetryPolicy;
  log?: Logger;
}

type Scope = Record<string, unknown> | undefined;

/** The name-or-id reference Keystone takes for a user, project or domain. */
function reference(id: string | undefined, name: string | undefined): Record<string, string> {
  return id ? { id } : { name: name as string };
}

function domainOf(auth: CloudAuth, prefix: 'user' | 'project', what: string): Record<string, string> {
  const id = auth[`${prefix}_domain_id`];
  const name = auth[`${prefix}_domain_name`];
  if (!id && !name)
    throw new ConfigurationError(`${what} by name needs ${prefix}_domain_name or ${prefix}_domain_id`);
  return reference(id, name);
}

function userOf(auth: CloudAuth): Record<string, unknown> {
  if (auth.user_id) return { id: auth.user_id };
  return { name: auth.username, domain: domainOf(auth, 'user', 'a user') };
}

/** What the token is scoped to: a project, a domain, the system, or nothing. */
function scopeOf(auth: CloudAuth): Scope {
  if (auth.project_id) return { project: { id: auth.project_id } };
  if (auth.project_name) {
    return { project: { name: auth.project_name, domain: domainOf(auth, 'project', 'a project') } };
  }
  if (auth.domain_id || auth.domain_name) return { domain: reference(auth.domain_id, auth.domain_name) };
  if (auth.system_scope) return { system: { [auth.system_scope]: true } };
  return undefined;
}

/** The POST /v3/auth/tokens body for the cloud's auth type. */
export function authRequestBody(config: CloudConfig): { auth: Record<string, unknown> } {
  const { auth } = config;
  switch (config.authType) {
    case 'password': {
      const scope = scopeOf(auth);
      return {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { ...userOf(auth), password: auth.password } },
          },
          ...(scope ? { scope } : {}),
        },
      };
    }
    case 'v3applicationcredential': {
      // An application credential carries its own project: Keystone rejects a scope with it.
      const credential = auth.application_credential_id
        ? { id: auth.application_credential_id }
        : { name: auth.application_credential_name, user: userOf(auth) };
      return {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: { ...credential, secret: auth.application_credential_secret },
          },
        },
      };
    }
    case 'token': {
      const scope = scopeOf(auth);
      return {
        auth: { identity: { methods: ['token'], token: { id: auth.token } }, ...(scope ? { scope } : {}) },
      };
    }
    case 'none':
      throw new ConfigurationError(`cloud "${config.name}" uses auth_type none: it has no token to ask for`);
  }
}

interface TokenBody {
  token?: {
    expires_at?: string;
    catalog?: CatalogService[];
    user?: { id?: string };
    project?: { id?: string };
    domain?: { id?: string };
  };
}

export class AuthSession {
  private current: Token | undefined;
  private pending: Promise<Token> | undefined;
  /** Every token this session obtained, so none can slip into an error message. */
  private readonly issued: string[] = [];
  private readonly expiryMarginMs: number;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  constructor(
    readonly config: CloudConfig,
    private readonly transport: Transport,
    private readonly options: SessionOptions = {},
  ) {
    this.expiryMarginMs = options.expiryMarginMs ?? 120_000;
    this.timeoutMs = options.timeoutMs ?? config.apiTimeoutMs ?? 60_000;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
  }

  /** A token valid for at least the expiry margin; concurrent callers share one authentication. */
  async token(): Promise<Token> {
    if (this.current && this.current.expiresAt - this.expiryMarginMs > Date.now()) return this.current;
    this.pending ??= this.authenticate().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /**
   * Forgets `token` after a service refused it, so the next token() authenticates again. A
   * token that was already replaced (another caller got the 401 first) is ignored.
   */
  invalidate(token: Token): void {
    if (this.current === token) this.current = undefined;
  }

  /** The strings that must never appear in an error or a log line. */
  secrets(): string[] {
    const { password, application_credential_secret, token } = this.config.auth;
    return [password, application_credential_secret, token, ...this.issued].filter(
      (secret): secret is string => typeof secret === 'string',
    );
  }

  private async authenticate(): Promise<Token> {
    const body = JSON.stringify(authRequestBody(this.config));
    const url = new URL(`${versionedBaseUrl('identity', this.config.auth.auth_url ?? '')}/auth/tokens`);
    const started = Date.now();
    // Asking for a token twice does no harm, so every failure worth retrying is retried.
    const response = await withRetries(
      async () => {
        const answer = await this.transport.send({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body,
          timeoutMs: this.timeoutMs,
        });
        if (answer.status >= 400)
          throw failureOf({ method: 'POST', url: describeUrl(url) }, answer, this.secrets());
        return answer;
      },
      'POST',
      this.retry,
      { idempotent: true },
    );
    const value = response.headers['x-subject-token'];
    let parsed: TokenBody;
    try {
      parsed = JSON.parse(response.body.toString('utf8')) as TokenBody;
    } catch {
      throw new OpenStackError(
        `POST ${describeUrl(url)} answered ${response.status} with a body that is not JSON`,
      );
    }
    if (typeof value !== 'string' || !parsed.token?.user?.id) {
      throw new OpenStackError(`POST ${describeUrl(url)} answered ${response.status} without a token`);
    }
    this.issued.push(value);
    // Old tokens have expired or been replaced; a few recent ones are all that can still leak.
    if (this.issued.length > 4) this.issued.shift();
    const expiresAt = parsed.token.expires_at ? Date.parse(parsed.token.expires_at) : Number.NaN;
    const token: Token = {
      value,
      // A token without a readable expiry is used until a service refuses it.
      expiresAt: Number.isNaN(expiresAt) ? Number.POSITIVE_INFINITY : expiresAt,
      catalog: parsed.token.catalog ?? [],
      userId: parsed.token.user.id,
      projectId: parsed.token.project?.id,
      domainId: parsed.token.domain?.id,
    };
    this.current = token;
    this.options.log?.debug(
      { cloud: this.config.name, authType: this.config.authType, ms: Date.now() - started },
      'authenticated',
    );
    return token;
  }
}
