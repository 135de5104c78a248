// The identity service's long-lived state in one api-server process: the Fernet keys, the
// token provider, the revocation list held in memory, and the cache that lets token
// validation run without touching the database.
import { isAbsolute, join } from 'node:path';
import type { Kysely } from 'kysely';
import { BoundedMap } from '../../lib/bounded-map.js';
import type { Config } from '../../lib/config.js';
import type { Database } from '../../lib/db/database.js';
import type { Logger } from '../../lib/log.js';
import type { Authenticator, ContextScope, NamedRef, RequestContext } from '../common/context.js';
import { Unauthorized } from '../common/errors.js';
import { getApplicationCredential } from './application-credential-store.js';
import { effectiveRoleIds, expandImpliedRoles, type Scope } from './assignments.js';
import { type CacheStamp, IdentityCache } from './cache.js';
import { listEndpoints, listServices } from './catalog-store.js';
import {
  findDomainByName,
  getDomain,
  getProject,
  getUser,
  listImpliedRoleRules,
  listProjects,
  listRoles,
  newId,
} from './store.js';
import type { IdentityTables } from './tables.js';
import { keepIfUnchanged, loadKeys } from './tokens/keys.js';
import { TokenProvider, type ValidatedToken } from './tokens/provider.js';
import { type RevocationEvent, RevocationList } from './tokens/revocation.js';
import { tokenBody } from './views.js';

/** How many tokens' contexts are remembered (see resolveToken). */
const TOKEN_CONTEXT_CACHE_SIZE = 10_000;

/** How often a replica re-reads revocation events written by the others. */
const REVOCATION_REFRESH_MS = 5_000;

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: {
    id: string;
    interface: string;
    region_id: string | null;
    region: string | null;
    url: string;
  }[];
}

export function keyRepositoryPath(config: Pick<Config, 'dataDir' | 'identity'>): string {
  const path = config.identity.keyRepository;
  return isAbsolute(path) ? path : join(config.dataDir, path);
}

export class IdentityRuntime implements Authenticator {
  readonly db: Kysely<IdentityTables>;
  readonly cache = new IdentityCache();
  /** Recently used tokens' contexts and rendered bodies (resolveToken, renderToken). */
  private readonly tokenContexts = new BoundedMap<
    string,
    { stamp: CacheStamp; context: RequestContext; bodies: { withCatalog?: string; withoutCatalog?: string } }
  >(TOKEN_CONTEXT_CACHE_SIZE);
  readonly revocations: RevocationList;
  readonly tokens: TokenProvider;
  private refreshTimer: NodeJS.Timeout | undefined;

  private constructor(
    database: Database,
    readonly config: Config,
  ) {
    this.db = database.tables<IdentityTables>();
    this.revocations = new RevocationList({
      maxTokenLifetimeSeconds: config.identity.tokenExpirationSeconds,
    });
    const keyDir = keyRepositoryPath(config);
    let keys = loadKeys(keyDir);
    this.tokens = new TokenProvider(() => keys, this.revocations, {
      expirationSeconds: config.identity.tokenExpirationSeconds,
    });
    // Rotation by `overcast manage fernet-rotate` is picked up without a restart.
    this.reloadKeys = () => {
      keys = keepIfUnchanged(keys, loadKeys(keyDir));
    };
  }

  readonly reloadKeys: () => void;

  static async start(database: Database, config: Config, log: Logger): Promise<IdentityRuntime> {
    const runtime = new IdentityRuntime(database, config);
    await runtime.refreshRevocations();
    runtime.refreshTimer = setInterval(() => {
      runtime.reloadKeys();
      runtime.refreshRevocations().catch((err) => log.warn({ err }, 'cannot refresh revocation events'));
    }, REVOCATION_REFRESH_MS);
    runtime.refreshTimer.unref();
    return runtime;
  }

  close(): void {
    clearInterval(this.refreshTimer);
  }

  private async refreshRevocations(): Promise<void> {
    // Events older than the longest token lifetime can match no live token.
    const horizon = new Date(Date.now() - this.config.identity.tokenExpirationSeconds * 1000).toISOString();
    const rows = await this.db
      .selectFrom('identity_revocation_event')
      .selectAll()
      .where('revoked_at', '>=', horizon)
      .execute();
    this.revocations.load(
      rows.map((row) => ({
        auditId: row.audit_id ?? undefined,
        auditChainId: row.audit_chain_id ?? undefined,
        userId: row.user_id ?? undefined,
        projectId: row.project_id ?? undefined,
        domainId: row.domain_id ?? undefined,
        issuedBefore: new Date(row.issued_before),
        revokedAt: new Date(row.revoked_at),
      })),
    );
  }

  /** Records a revocation event: in memory at once, in the database for the other replicas. */
  async revoke(
    event: Omit<RevocationEvent, 'revokedAt' | 'issuedBefore'> & { issuedBefore?: Date },
  ): Promise<void> {
    const now = new Date();
    const full: RevocationEvent = { ...event, issuedBefore: event.issuedBefore ?? now, revokedAt: now };
    this.revocations.add(full);
    await this.db
      .insertInto('identity_revocation_event')
      .values({
        id: newId(),
        audit_id: full.auditId ?? null,
        audit_chain_id: full.auditChainId ?? null,
        user_id: full.userId ?? null,
        project_id: full.projectId ?? null,
        domain_id: full.domainId ?? null,
        issued_before: full.issuedBefore.toISOString(),
        revoked_at: full.revokedAt.toISOString(),
      })
      .execute();
  }

  /** Call after every identity write, so cached users, roles and catalog are read again. */
  changed(): void {
    this.cache.clear();
  }

  /** A user's record, as token issuing by the token method needs it. */
  user(id: string) {
    return this.cache.get(`user-record:${id}`, () => getUser(this.db, id));
  }

  domainIdByName(name: string): Promise<string | undefined> {
    return this.cache.get(`domain-named:${name}`, async () => (await findDomainByName(this.db, name))?.id);
  }

  projectIdByName(domainId: string, name: string): Promise<string | undefined> {
    return this.cache.get(
      `project-named:${domainId}:${name}`,
      async () => (await listProjects(this.db, { domainId, name }))[0]?.id,
    );
  }

  userRef(id: string) {
    return this.cache.get(`user:${id}`, async () => {
      const user = await getUser(this.db, id);
      if (!user) return undefined;
      const domain = await getDomain(this.db, user.domainId);
      return {
        user: { id: user.id, name: user.name } as NamedRef,
        domain: { id: user.domainId, name: domain?.name ?? user.domainId } as NamedRef,
        enabled: user.enabled && (domain?.enabled ?? false),
      };
    });
  }

  scopeRef(scope: Scope): Promise<{ scope: ContextScope; enabled: boolean } | undefined> {
    return this.cache.get(`scope:${JSON.stringify(scope)}`, async () => {
      if (scope.kind === 'project') {
        const project = await getProject(this.db, scope.id);
        if (!project) return undefined;
        const domain = await getDomain(this.db, project.domainId);
        return {
          scope: {
            kind: 'project',
            project: { id: project.id, name: project.name },
            domain: { id: project.domainId, name: domain?.name ?? project.domainId },
          },
          enabled: project.enabled && (domain?.enabled ?? false),
        };
      }
      if (scope.kind === 'domain') {
        const domain = await getDomain(this.db, scope.id);
        if (!domain) return undefined;
        return {
          scope: { kind: 'domain', domain: { id: domain.id, name: domain.name } },
          enabled: domain.enabled,
        };
      }
      return { scope, enabled: true };
    });
  }

  rolesOn(userId: string, scope: Scope): Promise<NamedRef[]> {
    return this.cache.get(`roles:${userId}:${JSON.stringify(scope)}`, async () => {
      const ids = await effectiveRoleIds(this.db, userId, scope);
      const roles = await listRoles(this.db, { ids });
      return roles.map((role) => ({ id: role.id, name: role.name }));
    });
  }

  /**
   * Role ids a live application credential may use (its roles and what they imply), or
   * undefined once it is deleted or expired.
   */
  private async applicationCredentialRoles(id: string): Promise<Set<string> | undefined> {
    const credential = await this.cache.get(`appcred:${id}`, () => getApplicationCredential(this.db, id));
    if (!credential || (credential.expiresAt && credential.expiresAt.getTime() <= Date.now()))
      return undefined;
    const rules = await this.cache.get('implied-roles', () => listImpliedRoleRules(this.db));
    return new Set(expandImpliedRoles(credential.roleIds, rules));
  }

  catalog(): Promise<CatalogEntry[]> {
    return this.cache.get('catalog', async () => {
      const [services, endpoints] = await Promise.all([listServices(this.db), listEndpoints(this.db)]);
      return services
        .filter((service) => service.enabled)
        .map((service) => ({
          id: service.id,
          type: service.type,
          name: service.name ?? '',
          endpoints: endpoints
            .filter((endpoint) => endpoint.serviceId === service.id && endpoint.enabled)
            .map((endpoint) => ({
              id: endpoint.id,
              interface: endpoint.interface,
              region_id: endpoint.regionId,
              region: endpoint.regionId,
              url: endpoint.url,
            })),
        }));
    });
  }

  /** The catalog as token bodies embed it, serialized once per change. */
  catalogJson(): Promise<string> {
    return this.cache.get('catalog-json', async () => JSON.stringify(await this.catalog()));
  }

  /**
   * Builds the request context of a token: a decrypt and a revocation check, then cached
   * look-ups. Any failure is a 401, as Keystone answers for a bad X-Auth-Token.
   */
  async authenticate(token: string): Promise<RequestContext> {
    let resolved: Awaited<ReturnType<IdentityRuntime['resolveToken']>>;
    try {
      resolved = await this.resolveToken(token);
    } catch {
      throw new Unauthorized('The request you have made requires authentication.');
    }
    if (!resolved.context) throw new Unauthorized('The request you have made requires authentication.');
    return resolved.context;
  }

  /**
   * A token checked in full (signature, expiry, revocation: TokenNotFound when it fails) and
   * its request context, undefined when its user, scope or roles no longer allow it. The
   * context of a token seen recently is reused while the cache entries it came from are fresh:
   * a client sends the same token with every request.
   */
  async resolveToken(token: string): Promise<{ validated: ValidatedToken; context?: RequestContext }> {
    const validated = this.tokens.validate(token);
    const seen = this.tokenContexts.get(token);
    if (seen && this.cache.isFresh(seen.stamp)) return { validated, context: seen.context };
    const stamp = this.cache.stamp();
    const context = await this.contextFor(validated.payload, validated.issuedAt);
    if (context) this.tokenContexts.set(token, { stamp, context, bodies: {} });
    return { validated, context };
  }

  /** The body of GET /v3/auth/tokens for a token resolveToken just gave `context` for. */
  async renderToken(token: string, context: RequestContext, withCatalog: boolean): Promise<string> {
    const seen = this.tokenContexts.get(token);
    const cached = seen?.context === context ? seen.bodies : undefined;
    const kind = withCatalog ? 'withCatalog' : 'withoutCatalog';
    const ready = cached?.[kind];
    if (ready !== undefined) return ready;
    const body = tokenBody(context, withCatalog ? await this.catalogJson() : undefined);
    if (cached) cached[kind] = body;
    return body;
  }

  /** The context of a validated payload, or undefined when its user or scope is gone or disabled. */
  async contextFor(payload: ValidatedToken['payload'], issuedAt: Date): Promise<RequestContext | undefined> {
    const user = await this.userRef(payload.userId);
    if (!user?.enabled) return undefined;
    const scope = await this.scopeRef(payload.scope);
    if (!scope?.enabled) return undefined;
    let roles = payload.scope.kind === 'unscoped' ? [] : await this.rolesOn(payload.userId, payload.scope);
    if (payload.applicationCredentialId) {
      const allowed = await this.applicationCredentialRoles(payload.applicationCredentialId);
      if (!allowed) return undefined;
      roles = roles.filter((role) => allowed.has(role.id));
    }
    if (payload.scope.kind !== 'unscoped' && roles.length === 0) return undefined;
    return {
      user: user.user,
      userDomain: user.domain,
      scope: scope.scope,
      roles,
      methods: payload.methods,
      auditIds: payload.auditIds,
      issuedAt,
      expiresAt: payload.expiresAt,
      applicationCredentialId: payload.applicationCredentialId,
    };
  }
}
