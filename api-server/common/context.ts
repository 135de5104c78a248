// Who is calling: built once per request from the X-Auth-Token by the identity service's
// authenticator, and what every service's handlers and policy checks read.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Unauthorized } from './errors.js';

export interface NamedRef {
  id: string;
  name: string;
}

export type ContextScope =
  | { kind: 'unscoped' }
  | { kind: 'project'; project: NamedRef; domain: NamedRef }
  | { kind: 'domain'; domain: NamedRef }
  | { kind: 'system' };

export interface RequestContext {
  user: NamedRef;
  userDomain: NamedRef;
  scope: ContextScope;
  /** Effective roles on the scope, implied roles included. */
  roles: NamedRef[];
  methods: string[];
  auditIds: string[];
  issuedAt: Date;
  expiresAt: Date;
  applicationCredentialId?: string;
}

export interface Authenticator {
  /** Validates a token and builds its context; throws Unauthorized for any bad token. */
  authenticate(token: string): Promise<RequestContext>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireAuth for every authenticated route. */
    context?: RequestContext;
  }
}

/** A preHandler that rejects requests without a valid X-Auth-Token (401). */
export function requireAuth(authenticator: Authenticator) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = request.headers['x-auth-token'];
    if (typeof token !== 'string' || token === '') throw new Unauthorized();
    request.context = await authenticator.authenticate(token);
  };
}

/** The context of an authenticated request (requireAuth ran). */
export function contextOf(request: FastifyRequest): RequestContext {
  if (!request.context) throw new Unauthorized();
  return request.context;
}

export function projectIdOf(context: RequestContext): string | undefined {
  return context.scope.kind === 'project' ? context.scope.project.id : undefined;
}
