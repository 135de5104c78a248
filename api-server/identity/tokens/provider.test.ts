import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFound } from '../../common/errors.js';
import { type FernetKeySet, fernetEncrypt, generateFernetKey } from './fernet.js';
import { cachedKeyLoader, rotateKeys, setupKeyRepository } from './keys.js';
import { encodePayload, newAuditId } from './payload.js';
import { type TokenClaims, TokenNotFound, TokenProvider } from './provider.js';
import { RevocationList, revocationOfAuditChain, revocationOfToken } from './revocation.js';

const uuidHex = () => randomUUID().replaceAll('-', '');
const NOW = new Date('2030-03-04T05:06:07.890Z');
const NOW_SECONDS = new Date('2030-03-04T05:06:07Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

function singleKey(): () => FernetKeySet {
  const key = generateFernetKey();
  return () => ({ primary: key, all: [key] });
}

function passwordLogin(): TokenClaims {
  return { userId: uuidHex(), methods: ['password'], scope: { kind: 'project', id: uuidHex() } };
}

function rejection(validate: () => unknown): string {
  try {
    validate();
  } catch (error) {
    if (error instanceof TokenNotFound) return error.reason;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('issuing tokens', () => {
  it('issues a token that validates to the same payload, expiring after the default hour', () => {
    const provider = new TokenProvider(singleKey(), new RevocationList());
    const issued = provider.issue(passwordLogin(), { now: NOW });
    expect(issued.issuedAt).toEqual(NOW_SECONDS);
    expect(issued.payload.expiresAt).toEqual(new Date(NOW_SECONDS.getTime() + 3600 * 1000));
    expect(issued.payload.auditIds).toHaveLength(1);
    expect(provider.validate(issued.token, later(1))).toEqual({
      payload: issued.payload,
      issuedAt: issued.issuedAt,
    });
  });

  it('keeps a project-scoped password token under 250 characters of URL-safe text, without padding', () => {
    const provider = new TokenProvider(singleKey(), new RevocationList());
    const { token } = provider.issue(passwordLogin());
    expect(token.length).toBeLessThan(250);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const rescoped = provider.issue(passwordLogin(), { parentAuditIds: [newAuditId()] }).token;
    expect(rescoped.length).toBeLessThan(250);
  });

  it('uses the configured expiration and refuses one that is not a positive whole number', () => {
    const provider = new TokenProvider(singleKey(), new RevocationList(), { expirationSeconds: 600 });
    expect(provider.issue(passwordLogin(), { now: NOW }).payload.expiresAt).toEqual(
      new Date(NOW_SECONDS.getTime() + 600 * 1000),
    );
    expect(() => new TokenProvider(singleKey(), new RevocationList(), { expirationSeconds: 0 })).toThrow(
      RangeError,
    );
    expect(() => new TokenProvider(singleKey(), new RevocationList(), { expirationSeconds: 1.5 })).toThrow(
      RangeError,
    );
  });

  it("rescopes with the parent's expiry and audit chain, as Keystone does", () => {
    const provider = new TokenProvider(singleKey(), new RevocationList());
    const unscoped = provider.issue({ ...passwordLogin(), scope: { kind: 'unscoped' } }, { now: NOW });
    const parent = provider.validate(unscoped.token, later(600)).payload;

    const projectScoped = provider.issue(
      {
        userId: parent.userId,
        methods: ['token', ...parent.methods],
        scope: { kind: 'project', id: uuidHex() },
      },
      { parentAuditIds: parent.auditIds, expiresAt: parent.expiresAt, now: later(600) },
    );
    expect(projectScoped.payload.expiresAt).toEqual(unscoped.payload.expiresAt);
    expect(projectScoped.payload.auditIds).toEqual([expect.any(String), unscoped.payload.auditIds[0]]);
    expect(projectScoped.payload.auditIds[0]).not.toBe(unscoped.payload.auditIds[0]);
    expect(projectScoped.payload.methods).toEqual(['password', 'token']);

    // Rescoping the rescoped token keeps the chain rooted at the first token.
    const domainScoped = provider.issue(
      { userId: parent.userId, methods: ['token'], scope: { kind: 'domain', id: 'default' } },
      {
        parentAuditIds: projectScoped.payload.auditIds,
        expiresAt: projectScoped.payload.expiresAt,
        now: later(900),
      },
    );
    expect(domainScoped.payload.auditIds[1]).toBe(unscoped.payload.auditIds[0]);
  });

  it('refuses an expiry past the default lifetime or already past', () => {
    const provider = new TokenProvider(singleKey(), new RevocationList());
    expect(() => provider.issue(passwordLogin(), { now: NOW, expiresAt: later(3601) })).toThrow(RangeError);
    expect(() => provider.issue(passwordLogin(), { now: NOW, expiresAt: NOW })).toThrow(RangeError);
    expect(provider.issue(passwordLogin(), { now: NOW, expiresAt: later(60) }).payload.expiresAt).toEqual(
      new Date(NOW_SECONDS.getTime() + 60 * 1000),
    );
  });

  it('carries an application credential id', () => {
    const provider = new TokenProvider(singleKey(), new RevocationList());
    const claims: TokenClaims = {
      ...passwordLogin(),
      methods: ['application_credential'],
      applicationCredentialId: uuidHex(),
    };
    const { token } = provider.issue(claims);
    expect(provider.validate(token).payload.applicationCredentialId).toBe(claims.applicationCredentialId);
  });
});

describe('validating tokens', () => {
  it('answers "not found" (404) for expired tokens, from the instant of expiry', () => {
    const provider = new TokenProvider(singleKey(), new RevocationList());
    const issued = provider.issue(passwordLogin(), { now: NOW });
    expect(() =>
      provider.validate(issued.token, new Date(issued.payload.expiresAt.getTime() - 1)),
    ).not.toThrow();
    const error = (() => {
      try {
        provider.validate(issued.token, issued.payload.expiresAt);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TokenNotFound);
    expect(error).toBeInstanceOf(NotFound);
    expect(error).toMatchObject({ status: 404, reason: 'expired', message: 'Could not find token.' });
  });

  it('refuses tampered, foreign, garbage and oversized tokens', () => {
    const provider = new TokenProvider(singleKey(), new RevocationList());
    const { token } = provider.issue(passwordLogin());
    const flipped = `${token.slice(0, 40)}${token[40] === 'A' ? 'B' : 'A'}${token.slice(41)}`;
    expect(rejection(() => provider.validate(flipped))).toBe('bad-signature');
    const foreign = new TokenProvider(singleKey(), new RevocationList()).issue(passwordLogin()).token;
    expect(rejection(() => provider.validate(foreign))).toBe('bad-signature');
    expect(rejection(() => provider.validate(''))).toBe('malformed');
    expect(rejection(() => provider.validate('not a token'))).toBe('malformed');
    expect(rejection(() => provider.validate(`${token}${'A'.repeat(2048)}`))).toBe('malformed');
  });

  it('refuses an authentic token whose payload it cannot read', () => {
    const keys = singleKey();
    const provider = new TokenProvider(keys, new RevocationList());
    const payload = encodePayload({ ...passwordLogin(), expiresAt: later(60), auditIds: [newAuditId()] });
    payload[0] = 99; // a format version from the future
    expect(rejection(() => provider.validate(fernetEncrypt(keys().primary, payload)))).toBe(
      'unreadable-payload',
    );
  });

  it('refuses a revoked token and, through its chain, the tokens rescoped from it', () => {
    const revocations = new RevocationList();
    const provider = new TokenProvider(singleKey(), revocations);
    const first = provider.issue({ ...passwordLogin(), scope: { kind: 'unscoped' } }, { now: NOW });
    const rescoped = provider.issue(passwordLogin(), {
      parentAuditIds: first.payload.auditIds,
      expiresAt: first.payload.expiresAt,
      now: later(1),
    });
    const bystander = provider.issue(passwordLogin(), { now: NOW });

    revocations.add(revocationOfToken(first.payload, later(2)));
    expect(rejection(() => provider.validate(first.token, later(3)))).toBe('revoked');
    expect(provider.validate(rescoped.token, later(3)).payload).toEqual(rescoped.payload);

    revocations.add(revocationOfAuditChain(rescoped.payload, later(4)));
    expect(rejection(() => provider.validate(rescoped.token, later(5)))).toBe('revoked');
    expect(provider.validate(bystander.token, later(5)).payload).toEqual(bystander.payload);
  });

  it("applies domain revocations to a domain's projects when given the relations", () => {
    const revocations = new RevocationList();
    const provider = new TokenProvider(singleKey(), revocations);
    const issued = provider.issue(passwordLogin(), { now: NOW });
    revocations.add({ domainId: 'default', issuedBefore: later(1), revokedAt: later(1) });
    expect(provider.validate(issued.token, later(2)).payload).toEqual(issued.payload);
    expect(rejection(() => provider.validate(issued.token, later(2), { projectDomainId: 'default' }))).toBe(
      'revoked',
    );
  });
});

describe('the cache of opened tokens', () => {
  it('never spares a token it has opened before from the expiry and revocation checks', () => {
    const revocations = new RevocationList();
    const provider = new TokenProvider(singleKey(), revocations);
    const issued = provider.issue(passwordLogin(), { now: NOW });
    expect(provider.validate(issued.token, later(1)).payload).toEqual(issued.payload);
    expect(provider.validate(issued.token, later(2)).payload).toEqual(issued.payload);

    expect(rejection(() => provider.validate(issued.token, later(3600)))).toBe('expired');
    revocations.add(revocationOfToken(issued.payload, later(3)));
    expect(rejection(() => provider.validate(issued.token, later(4)))).toBe('revoked');
  });

  it('opens a token again once the key set changes', () => {
    let keys: FernetKeySet = singleKey()();
    const provider = new TokenProvider(() => keys, new RevocationList());
    const issued = provider.issue(passwordLogin(), { now: NOW });
    expect(provider.validate(issued.token, later(1)).payload).toEqual(issued.payload);
    const stranger = generateFernetKey();
    keys = { primary: stranger, all: [stranger] };
    expect(rejection(() => provider.validate(issued.token, later(2)))).toBe('bad-signature');
  });
});

describe('tokens across key rotations', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'overcast-token-provider-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('validates tokens of the previous primary after a rotation, and refuses them once their key is purged', () => {
    setupKeyRepository(scratch);
    const provider = new TokenProvider(cachedKeyLoader(scratch, 0), new RevocationList());
    const beforeRotation = provider.issue(passwordLogin());

    rotateKeys(scratch, 3);
    const afterRotation = provider.issue(passwordLogin());
    expect(provider.validate(beforeRotation.token).payload).toEqual(beforeRotation.payload);
    expect(provider.validate(afterRotation.token).payload).toEqual(afterRotation.payload);

    rotateKeys(scratch, 3);
    expect(rejection(() => provider.validate(beforeRotation.token))).toBe('bad-signature');
    expect(provider.validate(afterRotation.token).payload).toEqual(afterRotation.payload);
  });
});
