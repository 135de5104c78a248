// The few Keystone v3 calls the identity benchmark and the tempest peer run need, spoken the
// same way to the real Keystone and to Overcast: both are an origin plus a v3 base path.
export interface IdentityEndpoint {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** `/v3` for Keystone, `/identity/v3` for Overcast. */
  v3Path: string;
  adminPassword: string;
}

/** The account keystone-manage bootstrap and Overcast's bootstrap both create. */
export const ADMIN = { user: 'admin', project: 'admin', domain: 'Default' } as const;

export function passwordAuthBody(password: string, scope: 'project' | 'unscoped'): string {
  return JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: ADMIN.user, domain: { name: ADMIN.domain }, password } },
      },
      ...(scope === 'project'
        ? { scope: { project: { name: ADMIN.project, domain: { name: ADMIN.domain } } } }
        : {}),
    },
  });
}

/** Exchanges a token for a project-scoped one (the token method), as clients do after an unscoped login. */
export function rescopeAuthBody(token: string): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ['token'], token: { id: token } },
      scope: { project: { name: ADMIN.project, domain: { name: ADMIN.domain } } },
    },
  });
}

export class IdentityCallError extends Error {
  override name = 'IdentityCallError';
}

/** POST /v3/auth/tokens as the admin; returns the X-Subject-Token, or says what came back instead. */
export async function issueAdminToken(
  endpoint: IdentityEndpoint,
  scope: 'project' | 'unscoped',
): Promise<string> {
  const url = `${endpoint.origin}${endpoint.v3Path}/auth/tokens`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: passwordAuthBody(endpoint.adminPassword, scope),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token) {
    throw new IdentityCallError(
      `POST ${url} (${scope}) answered ${response.status}${token ? '' : ' without X-Subject-Token'}: ${text.slice(0, 300)}`,
    );
  }
  return token;
}

/** Checks that a request the benchmark is about to repeat gives the status it will expect. */
export async function expectAnswer(
  endpoint: IdentityEndpoint,
  request: { method: string; path: string; headers?: Record<string, string>; body?: string },
  status: number,
): Promise<void> {
  const url = `${endpoint.origin}${request.path}`;
  const response = await fetch(url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== status) {
    throw new IdentityCallError(
      `${request.method} ${url} answered ${response.status}, expected ${status}: ${text.slice(0, 300)}`,
    );
  }
}
