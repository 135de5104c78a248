// Issues and validates Keystone tokens: a payload (payload.ts) sealed with Fernet (fernet.ts)
// under the key repository's keys (keys.ts), checked against the revocation events
// (revocation.ts). Validation is one HMAC (per key tried, the primary first), one AES decrypt,
// a few map lookups; it never touches the database. A token already opened under the current
// key set is not opened again: the same token is validated on every request a client makes
// with it (and twice by GET /v3/auth/tokens when a service checks its own token).
import { BoundedMap } from '../../../lib/bounded-map.js';
import { NotFound } from '../../common/errors.js';
import { type FernetKeySet, fernetDecrypt, fernetEncrypt, InvalidFernetToken } from './fernet.js';
import {
  decodePayload,
  encodePayload,
  InvalidTokenPayload,
  newAuditId,
  type TokenPayload,
} from './payload.js';
import type { RevocationList, TokenRelations } from './revocation.js';

/** Keystone's default [token] expiration: one hour. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
/**
 * Longer strings are refused before any cryptography. Our longest possible payloads stay well
 * under it; the bound only keeps a hostile header from costing base64 and HMAC work.
 */
export const MAX_TOKEN_LENGTH = 2048;
/** How many opened tokens are remembered; the oldest is forgotten first. */
export const OPENED_TOKEN_CACHE_SIZE = 10_000;

/** Why a token was refused: for logs, never for the client, who only learns "not found". */
export type TokenRejection =
  | 'malformed' // not a token of ours at all, or too long
  | 'bad-signature' // tampered, or made with a key no longer (or never) in the repository
  | 'unreadable-payload' // authentic but a payload format this version cannot read
  | 'expired'
  | 'revoked';

/**
 * The token is invalid, expired or revoked. Keystone words it "Could not find token" and the
 * status depends on where the token came from; the routes map it:
 *
 *   - the subject token of GET/HEAD /v3/auth/tokens (X-Subject-Token) → 404 Not Found
 *     (this class is a NotFound, so left alone it renders as exactly that);
 *   - the caller's own X-Auth-Token on any request → 401 Unauthorized, "The request you have
 *     made requires authentication." (rethrow as Unauthorized);
 *   - the token being rescoped in POST /v3/auth/tokens with the "token" method → 404 as well,
 *     as Keystone answers.
 */
export class TokenNotFound extends NotFound {
  constructor(readonly reason: TokenRejection) {
    super('Could not find token.');
  }
}

/** What the caller decides; the provider adds the expiry and audit ids. */
export type TokenClaims = Omit<TokenPayload, 'expiresAt' | 'auditIds'>;

export interface IssueOptions {
  /**
   * The audit ids of the token being rescoped (POST /v3/auth/tokens with the "token" method).
   * The new token gets [a new audit id, the parent's chain id], as Keystone does, so that
   * revoking the chain reaches every token descended from the first one.
   */
  parentAuditIds?: string[];
  /**
   * An expiry earlier than the default: the parent token's when rescoping (a rescoped token
   * never outlives its parent), or an application credential's. Never later than the default.
   */
  expiresAt?: Date;
  /** The issuing time; for tests. */
  now?: Date;
}

export interface IssuedToken {
  /** The token to hand out in X-Subject-Token: URL-safe base64 without padding, like Keystone's. */
  token: string;
  payload: TokenPayload;
  /** Whole seconds: what the token itself records, and what validate will report. */
  issuedAt: Date;
}

export interface ValidatedToken {
  payload: TokenPayload;
  issuedAt: Date;
}

interface OpenedToken extends ValidatedToken {
  /** The key set it was opened with: a cached opening holds only while that set is current. */
  keys: FernetKeySet;
}

export class TokenProvider {
  readonly #expirationSeconds: number;
  /**
   * Authentic tokens already decrypted and decoded, by token string. Only what cannot change
   * is kept; expiry and revocation are checked on every validation.
   */
  readonly #opened = new BoundedMap<string, OpenedToken>(OPENED_TOKEN_CACHE_SIZE);

  /**
   * `keys` is called on every issue and validation; give it something cheap that stays current
   * with the repository, such as cachedKeyLoader(dir). `revocations` should hold every event the
   * store has recorded (RevocationList.load at startup, add on each revocation).
   */
  constructor(
    private readonly keys: () => FernetKeySet,
    private readonly revocations: RevocationList,
    options: { expirationSeconds?: number } = {},
  ) {
    const expirationSeconds = options.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
    if (!Number.isInteger(expirationSeconds) || expirationSeconds <= 0) {
      throw new RangeError(
        `token expiration must be a positive whole number of seconds, got ${expirationSeconds}`,
      );
    }
    this.#expirationSeconds = expirationSeconds;
  }

  get expirationSeconds(): number {
    return this.#expirationSeconds;
  }

  issue(claims: TokenClaims, options: IssueOptions = {}): IssuedToken {
    const now = options.now ?? new Date();
    const issuedAtSeconds = Math.floor(now.getTime() / 1000);
    const latestExpirySeconds = issuedAtSeconds + this.#expirationSeconds;
    const expiresAtSeconds =
      options.expiresAt === undefined ? latestExpirySeconds : Math.floor(options.expiresAt.getTime() / 1000);
    // Revocation events are pruned one token lifetime after they are made: a token allowed to
    // live longer could come back to life.
    if (expiresAtSeconds > latestExpirySeconds) {
      throw new RangeError(`a token cannot outlive the ${this.#expirationSeconds}s expiration`);
    }
    if (expiresAtSeconds * 1000 <= now.getTime()) throw new RangeError('the token would already be expired');

    const parentChainId = options.parentAuditIds?.at(-1);
    const payload: TokenPayload = {
      userId: claims.userId,
      methods: [...claims.methods],
      scope: { ...claims.scope },
      expiresAt: new Date(expiresAtSeconds * 1000),
      auditIds: parentChainId === undefined ? [newAuditId()] : [newAuditId(), parentChainId],
    };
    if (claims.applicationCredentialId !== undefined) {
      payload.applicationCredentialId = claims.applicationCredentialId;
    }

    const plaintext = encodePayload(payload);
    const token = fernetEncrypt(this.keys().primary, plaintext, now, { padding: false });
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new RangeError(`the token would be ${token.length} characters, over ${MAX_TOKEN_LENGTH}`);
    }
    // Reported as validate will report it (methods in bitmask order, duplicates gone), so the
    // response to issuing and to validating the same token never differ.
    return { token, payload: decodePayload(plaintext), issuedAt: new Date(issuedAtSeconds * 1000) };
  }

  /**
   * Opens and checks a token; throws TokenNotFound (with its reason) when it is malformed,
   * forged, made with a retired key, expired at `now`, or revoked. `relations` lets domain-wide
   * revocations reach tokens of a domain's users and projects (see TokenRelations).
   */
  validate(token: string, now: Date = new Date(), relations?: TokenRelations): ValidatedToken {
    const { payload, issuedAt } = this.#open(token);
    if (now.getTime() >= payload.expiresAt.getTime()) throw new TokenNotFound('expired');
    if (this.revocations.isRevoked(payload, issuedAt, relations)) throw new TokenNotFound('revoked');
    return { payload, issuedAt };
  }

  /** Decrypts and decodes a token, or takes it from the cache when the keys have not changed. */
  #open(token: string): ValidatedToken {
    const keys = this.keys();
    const cached = this.#opened.get(token);
    if (cached?.keys === keys) return { payload: cached.payload, issuedAt: cached.issuedAt };
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenNotFound('malformed');
    let opened: ReturnType<typeof fernetDecrypt>;
    try {
      // No Fernet TTL: the expiry inside the payload is the one that counts.
      opened = fernetDecrypt(token, keys.all);
    } catch (error) {
      if (error instanceof InvalidFernetToken) {
        throw new TokenNotFound(error.reason === 'bad-signature' ? 'bad-signature' : 'malformed');
      }
      throw error;
    }
    let payload: TokenPayload;
    try {
      payload = decodePayload(opened.plaintext);
    } catch (error) {
      if (error instanceof InvalidTokenPayload) throw new TokenNotFound('unreadable-payload');
      throw error;
    }
    this.#opened.set(token, { keys, payload, issuedAt: opened.issuedAt });
    return { payload, issuedAt: opened.issuedAt };
  }
}
