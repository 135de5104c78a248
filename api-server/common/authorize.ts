// The bridge from a request's context to the policy engine: every handler that acts on a
// resource calls authorize() with the action name and the target the rule may look at.
import type { FastifyRequest } from 'fastify';
import { contextOf, type RequestContext } from './context.js';
import type { Credentials, PolicyEnforcer } from './policy/enforcer.js';

/**
 * Credentials per context. The identity service hands every request with the same token the
 * same context object while nothing it was built from has changed (and a new one after), so
 * a context's credentials are built once, not at every policy check of every request.
 */
const credentialsByContext = new WeakMap<RequestContext, Credentials>();

export function credentialsOf(context: RequestContext): Credentials {
  let credentials = credentialsByContext.get(context);
  if (!credentials) {
    credentials = buildCredentials(context);
    credentialsByContext.set(context, credentials);
  }
  return credentials;
}

function buildCredentials(context: RequestContext): Credentials {
  const scope = context.scope;
  return {
    userId: context.user.id,
    userDomainId: context.userDomain.id,
    projectId: scope.kind === 'project' ? scope.project.id : undefined,
    projectDomainId: scope.kind === 'project' ? scope.domain.id : undefined,
    domainId: scope.kind === 'domain' ? scope.domain.id : undefined,
    systemScope: scope.kind === 'system' ? 'all' : undefined,
    roles: context.roles.map((role) => role.name),
    appCredentialId: context.applicationCredentialId,
  };
}

/** Throws a 403 unless policy allows `action` on `target`; returns the caller's context. */
export function authorize(
  policy: PolicyEnforcer,
  request: FastifyRequest,
  action: string,
  target: Record<string, unknown> = {},
): RequestContext {
  const context = contextOf(request);
  policy.authorize(action, target, credentialsOf(context));
  return context;
}

/** Whether policy would allow it, for filtering lists rather than refusing them. */
export function allows(
  policy: PolicyEnforcer,
  context: RequestContext,
  action: string,
  target: Record<string, unknown> = {},
): boolean {
  return policy.enforce(action, target, credentialsOf(context));
}
