// Token revocation as Keystone does it: Fernet tokens are not stored, so revoking one records an
// event describing which tokens are dead ("audit id X", "anything of user U issued before T"),
// and validation checks a token against the events. Events are persisted by the identity store;
// this module is the in-memory, indexed copy that validation consults without a database hit.
import type { TokenPayload } from './payload.js';

/**
 * Revokes every token that matches all the fields it sets and was issued at or before
 * `issuedBefore`. Unset fields match anything: `{ userId, issuedBefore }` is every token the
 * user held at that time.
 */
export interface RevocationEvent {
  /** A single token: its own audit id (auditIds[0]). */
  auditId?: string;
  /** A token and every token rescoped from it: the chain's first audit id (auditIds.at(-1)). */
  auditChainId?: string;
  userId?: string;
  /** Tokens scoped to this project. */
  projectId?: string;
  /**
   * Tokens scoped to this domain, scoped to a project of it, or held by a user of it; the last
   * two are only known when isRevoked is given the token's TokenRelations.
   */
  domainId?: string;
  issuedBefore: Date;
  revokedAt: Date;
}

/**
 * Facts about a token that its payload does not carry, for matching domain events. Without
 * them a domain event only catches tokens scoped to the domain itself.
 */
export interface TokenRelations {
  /** The domain of the token's user. */
  userDomainId?: string;
  /** The domain of the project the token is scoped to. */
  projectDomainId?: string;
}

/** Keystone's default [token] expiration. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 3600;

/** The event that revokes exactly this token (DELETE /v3/auth/tokens). */
export function revocationOfToken(payload: TokenPayload, now = new Date()): RevocationEvent {
  return { auditId: payload.auditIds[0], issuedBefore: now, revokedAt: now };
}

/** The event that revokes this token and every token in its rescoping chain. */
export function revocationOfAuditChain(payload: TokenPayload, now = new Date()): RevocationEvent {
  return { auditChainId: payload.auditIds.at(-1), issuedBefore: now, revokedAt: now };
}

interface TokenFacts {
  auditId: string | undefined;
  auditChainId: string | undefined;
  userId: string;
  projectId: string | undefined;
  domainIds: string[];
  issuedAtMs: number;
}

function tokenFacts(
  payload: TokenPayload,
  issuedAt: Date,
  relations: TokenRelations | undefined,
): TokenFacts {
  const domainIds: string[] = [];
  const addDomain = (id: string | undefined) => {
    if (id !== undefined && !domainIds.includes(id)) domainIds.push(id);
  };
  if (payload.scope.kind === 'domain') addDomain(payload.scope.id);
  addDomain(relations?.projectDomainId);
  addDomain(relations?.userDomainId);
  return {
    auditId: payload.auditIds[0],
    auditChainId: payload.auditIds.at(-1),
    userId: payload.userId,
    projectId: payload.scope.kind === 'project' ? payload.scope.id : undefined,
    domainIds,
    issuedAtMs: issuedAt.getTime(),
  };
}

/** Keystone's rule: every field the event sets matches, and the token is not newer than the event. */
function revokes(event: RevocationEvent, token: TokenFacts): boolean {
  if (event.auditId !== undefined && event.auditId !== token.auditId) return false;
  if (event.auditChainId !== undefined && event.auditChainId !== token.auditChainId) return false;
  if (event.userId !== undefined && event.userId !== token.userId) return false;
  if (event.projectId !== undefined && event.projectId !== token.projectId) return false;
  if (event.domainId !== undefined && !token.domainIds.includes(event.domainId)) return false;
  return token.issuedAtMs <= event.issuedBefore.getTime();
}

/** Which index an event lives in: its most selective field, so each lookup sees few events. */
type IndexName = 'auditId' | 'auditChainId' | 'userId' | 'projectId' | 'domainId';
const INDEX_PRIORITY: readonly IndexName[] = ['auditId', 'auditChainId', 'userId', 'projectId', 'domainId'];

/**
 * The revocation events in memory, indexed for validation. Every event sits in one bucket keyed
 * by its most selective field, and a check looks only at the buckets the token's own ids select
 * (its audit id, chain id, user, project, domains) plus the events that set none of those
 * fields, which are rare. Checking costs a few map lookups however many events there are.
 *
 * Note the precision: Fernet timestamps are whole seconds, so a token issued in the same second
 * as an event that matches it (say, right after a password change) counts as revoked, as in
 * Keystone. The conservative reading is the safe one.
 */
export class RevocationList {
  readonly #maxTokenLifetimeMs: number;
  readonly #indexes: Record<IndexName, Map<string, RevocationEvent[]>> = {
    auditId: new Map(),
    auditChainId: new Map(),
    userId: new Map(),
    projectId: new Map(),
    domainId: new Map(),
  };
  /** Events that name no token, user, project or domain: "everything issued before T". */
  #unindexed: RevocationEvent[] = [];
  #size = 0;

  /**
   * `maxTokenLifetimeSeconds` is the longest a token can live after it is issued (the token
   * provider's expiration); prune relies on it.
   */
  constructor(options: { maxTokenLifetimeSeconds?: number } = {}) {
    this.#maxTokenLifetimeMs = (options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS) * 1000;
  }

  get size(): number {
    return this.#size;
  }

  add(event: RevocationEvent): void {
    const indexName = INDEX_PRIORITY.find((name) => event[name] !== undefined);
    if (indexName === undefined) {
      this.#unindexed.push(event);
    } else {
      const index = this.#indexes[indexName];
      const key = event[indexName]!;
      const bucket = index.get(key);
      if (bucket) bucket.push(event);
      else index.set(key, [event]);
    }
    this.#size++;
  }

  /** Replaces every event held, e.g. with the events read from the database at startup. */
  load(events: Iterable<RevocationEvent>): void {
    for (const index of Object.values(this.#indexes)) index.clear();
    this.#unindexed = [];
    this.#size = 0;
    for (const event of events) this.add(event);
  }

  isRevoked(payload: TokenPayload, issuedAt: Date, relations?: TokenRelations): boolean {
    if (this.#size === 0) return false;
    const token = tokenFacts(payload, issuedAt, relations);
    const anyRevokes = (events: RevocationEvent[] | undefined) =>
      events?.some((event) => revokes(event, token)) === true;
    const { auditId, auditChainId, userId, projectId, domainId } = this.#indexes;
    return (
      (token.auditId !== undefined && anyRevokes(auditId.get(token.auditId))) ||
      (token.auditChainId !== undefined && anyRevokes(auditChainId.get(token.auditChainId))) ||
      anyRevokes(userId.get(token.userId)) ||
      (token.projectId !== undefined && anyRevokes(projectId.get(token.projectId))) ||
      token.domainIds.some((id) => anyRevokes(domainId.get(id))) ||
      anyRevokes(this.#unindexed)
    );
  }

  /**
   * Drops the events that can no longer match a live token: an event only matches tokens issued
   * at or before its issuedBefore, and those have all expired a token lifetime later. Returns
   * how many were dropped.
   */
  prune(now: Date = new Date()): number {
    const oldestUseful = now.getTime() - this.#maxTokenLifetimeMs;
    const useful = (event: RevocationEvent) => event.issuedBefore.getTime() >= oldestUseful;
    const before = this.#size;
    this.#size = 0;
    for (const index of Object.values(this.#indexes)) {
      for (const [key, events] of index) {
        const kept = events.filter(useful);
        if (kept.length === 0) index.delete(key);
        else index.set(key, kept);
        this.#size += kept.length;
      }
    }
    this.#unindexed = this.#unindexed.filter(useful);
    this.#size += this.#unindexed.length;
    return before - this.#size;
  }

  /** The events held, oldest revocation first; `since` keeps those revoked after it (OS-REVOKE). */
  list(since?: Date): RevocationEvent[] {
    const all = [...this.#unindexed];
    for (const index of Object.values(this.#indexes))
      for (const events of index.values()) all.push(...events);
    const after = since?.getTime();
    return all
      .filter((event) => after === undefined || event.revokedAt.getTime() > after)
      .sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime());
  }
}
