// POST /v3/auth/tokens: prove who the caller is with each requested method, decide the
// scope, check the user holds a role there, and issue a Fernet token.
import type { RequestContext } from '../common/context.js';
import { BadRequest, Unauthorized } from '../common/errors.js';
import {
  type ApplicationCredentialRecord,
  getApplicationCredential,
  listApplicationCredentials,
} from './application-credential-store.js';
import type { Scope } from './assignments.js';
import { verifyPassword } from './passwords.js';
import type { IdentityRuntime } from './runtime.js';
import type { AuthRequest } from './schemas.js';
import { findUserByName, getDomain, getUser, type UserRecord } from './store.js';

const NOT_AUTHENTICATED = 'The request you have made requires authentication.';

interface Proof {
  userId: string;
  /** The user as read from the database while proving (password, application credential). */
  user?: UserRecord;
  /** An application credential fixes the scope to its own project. */
  projectId?: string;
  /** A token method proof carries on the original token's audit chain and expiry. */
  parentAuditIds?: string[];
  /** ...and keeps the methods the original token was obtained with. */
  parentMethods?: string[];
  expiresAt?: Date;
  applicationCredentialId?: string;
}

async function resolveDomainId(runtime: IdentityRuntime, ref: { id?: string; name?: string } | undefined) {
  if (ref?.id) return ref.id;
  if (ref?.name) return runtime.domainIdByName(ref.name);
  return undefined;
}

async function findUser(
  runtime: IdentityRuntime,
  ref: { id?: string; name?: string; domain?: { id?: string; name?: string } },
): Promise<UserRecord | undefined> {
  if (ref.id) return getUser(runtime.db, ref.id);
  if (!ref.name)
    throw new BadRequest(
      'Expecting to find id or name in user - the server could not comply with the request.',
    );
  if (!ref.domain?.id && !ref.domain?.name) {
    throw new BadRequest('Expecting to find domain in user - the server could not comply with the request.');
  }
  const domainId = await resolveDomainId(runtime, ref.domain);
  return domainId ? findUserByName(runtime.db, domainId, ref.name) : undefined;
}

async function proveByPassword(
  runtime: IdentityRuntime,
  method: NonNullable<AuthRequest['auth']['identity']['password']>,
): Promise<Proof> {
  const user = await findUser(runtime, method.user);
  // The hash is checked even for unknown users' fallback-free path only when a user exists;
  // the answer is the same 401 either way, so the response does not reveal which it was.
  if (!user || !(await verifyPassword(method.user.password, user.passwordHash))) {
    throw new Unauthorized(NOT_AUTHENTICATED);
  }
  const domain = await getDomain(runtime.db, user.domainId);
  if (!user.enabled || !domain?.enabled) throw new Unauthorized(NOT_AUTHENTICATED);
  return { userId: user.id, user };
}

function proveByToken(runtime: IdentityRuntime, token: string): Proof {
  try {
    const { payload } = runtime.tokens.validate(token);
    return {
      userId: payload.userId,
      parentAuditIds: payload.auditIds,
      parentMethods: payload.methods,
      expiresAt: payload.expiresAt,
    };
  } catch {
    throw new Unauthorized(NOT_AUTHENTICATED);
  }
}

async function proveByApplicationCredential(
  runtime: IdentityRuntime,
  method: NonNullable<AuthRequest['auth']['identity']['application_credential']>,
): Promise<Proof> {
  let credential: ApplicationCredentialRecord | undefined;
  if (method.id) {
    credential = await getApplicationCredential(runtime.db, method.id);
  } else {
    if (!method.name || !method.user) {
      throw new BadRequest('Expecting to find id, or name and user, in application_credential.');
    }
    const user = await findUser(runtime, method.user);
    credential =
      user && (await listApplicationCredentials(runtime.db, { userId: user.id, name: method.name }))[0];
  }
  if (!credential || !(await verifyPassword(method.secret, credential.secretHash))) {
    throw new Unauthorized(NOT_AUTHENTICATED);
  }
  if (credential.expiresAt && credential.expiresAt.getTime() <= Date.now())
    throw new Unauthorized(NOT_AUTHENTICATED);
  // A token never outlives the credential it came from.
  const latest = new Date(Date.now() + runtime.config.identity.tokenExpirationSeconds * 1000);
  return {
    userId: credential.userId,
    projectId: credential.projectId,
    applicationCredentialId: credential.id,
    expiresAt: credential.expiresAt && credential.expiresAt < latest ? credential.expiresAt : undefined,
  };
}

async function resolveScope(
  runtime: IdentityRuntime,
  request: AuthRequest,
  user: UserRecord,
): Promise<Scope> {
  const scope = request.auth.scope;
  if (scope === 'unscoped') return { kind: 'unscoped' };
  if (!scope) {
    // Like Keystone: with no scope asked for, a user's default project scopes the token
    // when the user holds a role there; otherwise the token is unscoped.
    if (user.defaultProjectId) {
      const roles = await runtime.rolesOn(user.id, { kind: 'project', id: user.defaultProjectId });
      if (roles.length > 0) return { kind: 'project', id: user.defaultProjectId };
    }
    return { kind: 'unscoped' };
  }
  const asked = [scope.project, scope.domain, scope.system].filter((part) => part !== undefined);
  if (asked.length !== 1)
    throw new BadRequest('Specify exactly one of project, domain or system as the scope.');
  if (scope.system) {
    if (!scope.system.all) throw new BadRequest('Only system scope "all" exists.');
    return { kind: 'system' };
  }
  if (scope.domain) {
    const domainId = await resolveDomainId(runtime, scope.domain);
    if (!domainId) throw new Unauthorized(`Could not find domain: ${scope.domain.name ?? scope.domain.id}.`);
    return { kind: 'domain', id: domainId };
  }
  const project = scope.project!;
  if (project.id) return { kind: 'project', id: project.id };
  if (!project.name || !project.domain) throw new BadRequest('Expecting to find domain in project.');
  const domainId = await resolveDomainId(runtime, project.domain);
  const found = domainId ? await runtime.projectIdByName(domainId, project.name) : undefined;
  if (!found) throw new Unauthorized(`Could not find project: ${project.name}.`);
  return { kind: 'project', id: found };
}

export async function issueToken(
  runtime: IdentityRuntime,
  request: AuthRequest,
): Promise<{ token: string; context: RequestContext }> {
  const identity = request.auth.identity;
  const proofs: Proof[] = [];
  for (const method of new Set(identity.methods)) {
    if (method === 'password') {
      if (!identity.password) throw new BadRequest('Expecting to find password in identity.');
      proofs.push(await proveByPassword(runtime, identity.password));
    } else if (method === 'token') {
      if (!identity.token) throw new BadRequest('Expecting to find token in identity.');
      proofs.push(proveByToken(runtime, identity.token.id));
    } else if (method === 'application_credential') {
      if (!identity.application_credential)
        throw new BadRequest('Expecting to find application_credential in identity.');
      proofs.push(await proveByApplicationCredential(runtime, identity.application_credential));
    } else {
      throw new Unauthorized(`Attempted to authenticate with an unsupported method: ${method}.`);
    }
  }
  const userIds = new Set(proofs.map((proof) => proof.userId));
  if (userIds.size !== 1) throw new Unauthorized(NOT_AUTHENTICATED);
  // A token proof reads the user through the runtime's cache: disabling a user revokes its
  // tokens, so a token that still validates belongs to a user who was enabled.
  const user = proofs.find((proof) => proof.user)?.user ?? (await runtime.user(proofs[0]!.userId));
  if (!user?.enabled) throw new Unauthorized(NOT_AUTHENTICATED);

  const credential = proofs.find((proof) => proof.applicationCredentialId);
  let scope: Scope;
  if (credential) {
    scope = { kind: 'project', id: credential.projectId! };
    const asked = await resolveScope(runtime, request, user);
    if (request.auth.scope && !(asked.kind === 'project' && asked.id === scope.id)) {
      throw new Unauthorized('An application credential can only be used on its own project.');
    }
  } else {
    scope = await resolveScope(runtime, request, user);
  }
  const carried = proofs.find((proof) => proof.parentAuditIds) ?? credential;
  const issued = runtime.tokens.issue(
    {
      userId: user.id,
      // As Keystone: a token obtained with a token lists that token's methods too.
      methods: [...new Set([...(carried?.parentMethods ?? []), ...identity.methods])],
      scope,
      ...(credential ? { applicationCredentialId: credential.applicationCredentialId } : {}),
    },
    { parentAuditIds: carried?.parentAuditIds, expiresAt: carried?.expiresAt },
  );
  const context = await runtime.contextFor(issued.payload, issued.issuedAt);
  if (!context) {
    const where = scope.kind === 'unscoped' ? '' : ` on ${scope.kind}${'id' in scope ? ` ${scope.id}` : ''}`;
    throw new Unauthorized(`User ${user.id} has no access${where}.`);
  }
  return { token: issued.token, context };
}
