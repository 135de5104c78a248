import { describe, expect, it } from 'vitest';
import { newAuditId, type TokenPayload } from './payload.js';
import {
  type RevocationEvent,
  RevocationList,
  revocationOfAuditChain,
  revocationOfToken,
} from './revocation.js';

const T0 = new Date('2030-01-01T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function token(overrides: Partial<TokenPayload> = {}): TokenPayload {
  return {
    userId: 'alice',
    methods: ['password'],
    scope: { kind: 'project', id: 'project-a' },
    expiresAt: at(3600),
    auditIds: [newAuditId()],
    ...overrides,
  };
}

const event = (
  fields: Omit<RevocationEvent, 'issuedBefore' | 'revokedAt'>,
  issuedBefore = T0,
): RevocationEvent => ({
  ...fields,
  issuedBefore,
  revokedAt: issuedBefore,
});

describe('revoking one token', () => {
  it('revokes the token with that audit id and no other', () => {
    const list = new RevocationList();
    const revoked = token();
    const sibling = token();
    list.add(revocationOfToken(revoked, T0));
    expect(list.isRevoked(revoked, at(-10))).toBe(true);
    expect(list.isRevoked(sibling, at(-10))).toBe(false);
  });

  it('leaves tokens rescoped from it alone; revoking the chain reaches them all', () => {
    const original = token({ scope: { kind: 'unscoped' } });
    const rescoped = token({ auditIds: [newAuditId(), original.auditIds[0]!] });
    const rescopedAgain = token({ auditIds: [newAuditId(), original.auditIds[0]!] });

    const byToken = new RevocationList();
    byToken.add(revocationOfToken(original, T0));
    expect(byToken.isRevoked(original, at(-10))).toBe(true);
    expect(byToken.isRevoked(rescoped, at(-5))).toBe(false);

    const byChain = new RevocationList();
    byChain.add(revocationOfAuditChain(rescoped, T0));
    for (const member of [original, rescoped, rescopedAgain])
      expect(byChain.isRevoked(member, at(-5))).toBe(true);
    expect(byChain.isRevoked(token(), at(-5))).toBe(false);
  });
});

describe('revoking by user, project and domain', () => {
  it("revokes a user's tokens issued at or before the event, not those issued after", () => {
    const list = new RevocationList();
    list.add(event({ userId: 'alice' }));
    expect(list.isRevoked(token(), at(-1))).toBe(true);
    // Fernet timestamps are whole seconds: the same second counts as before.
    expect(list.isRevoked(token(), T0)).toBe(true);
    expect(list.isRevoked(token(), at(1))).toBe(false);
    expect(list.isRevoked(token({ userId: 'bob' }), at(-1))).toBe(false);
  });

  it('requires every field the event sets to match', () => {
    const list = new RevocationList();
    list.add(event({ userId: 'alice', projectId: 'project-a' }));
    expect(list.isRevoked(token(), at(-1))).toBe(true);
    expect(list.isRevoked(token({ scope: { kind: 'project', id: 'project-b' } }), at(-1))).toBe(false);
    expect(list.isRevoked(token({ scope: { kind: 'unscoped' } }), at(-1))).toBe(false);
    expect(list.isRevoked(token({ userId: 'bob' }), at(-1))).toBe(false);
  });

  it("revokes everyone's tokens on a project", () => {
    const list = new RevocationList();
    list.add(event({ projectId: 'project-a' }));
    expect(list.isRevoked(token({ userId: 'bob' }), at(-1))).toBe(true);
    expect(list.isRevoked(token({ scope: { kind: 'domain', id: 'project-a' } }), at(-1))).toBe(false);
  });

  it("reaches a domain's scoped tokens, and its users' and projects' tokens when told the relations", () => {
    const list = new RevocationList();
    list.add(event({ domainId: 'default' }));
    expect(list.isRevoked(token({ scope: { kind: 'domain', id: 'default' } }), at(-1))).toBe(true);
    expect(list.isRevoked(token(), at(-1))).toBe(false);
    expect(list.isRevoked(token(), at(-1), { projectDomainId: 'default' })).toBe(true);
    expect(list.isRevoked(token({ scope: { kind: 'system' } }), at(-1), { userDomainId: 'default' })).toBe(
      true,
    );
    expect(list.isRevoked(token(), at(-1), { userDomainId: 'other', projectDomainId: 'other' })).toBe(false);
  });

  it('with no field set, revokes every token issued before it', () => {
    const list = new RevocationList();
    list.add(event({}));
    expect(list.isRevoked(token({ userId: 'anyone', scope: { kind: 'system' } }), at(-1))).toBe(true);
    expect(list.isRevoked(token(), at(1))).toBe(false);
  });
});

describe('holding the events', () => {
  it('replaces everything on load', () => {
    const list = new RevocationList();
    list.add(event({ userId: 'alice' }));
    list.load([event({ userId: 'bob' }), event({ projectId: 'project-b' })]);
    expect(list.size).toBe(2);
    expect(list.isRevoked(token(), at(-1))).toBe(false);
    expect(list.isRevoked(token({ userId: 'bob' }), at(-1))).toBe(true);
  });

  it('prunes events once every token they could match has expired', () => {
    const list = new RevocationList({ maxTokenLifetimeSeconds: 3600 });
    const old = event({ userId: 'alice' }, at(-3601));
    const recent = event({ userId: 'alice' }, at(-3600));
    list.load([old, recent, event({}, at(-4000)), event({ auditId: newAuditId() }, at(-5000))]);
    expect(list.prune(T0)).toBe(3);
    expect(list.list()).toEqual([recent]);
    // The one kept still catches a token issued just before it, which lives until exactly now.
    expect(list.isRevoked(token({ expiresAt: T0 }), at(-3600))).toBe(true);
  });

  it('lists events oldest revocation first, or only those revoked after a time', () => {
    const list = new RevocationList();
    const first = event({ userId: 'alice' }, at(-30));
    const second = event({ projectId: 'project-a' }, at(-20));
    const third = event({}, at(-10));
    list.load([third, first, second]);
    expect(list.list()).toEqual([first, second, third]);
    expect(list.list(at(-25))).toEqual([second, third]);
  });

  it('looks only at the events that concern the token, however many others there are', () => {
    // Events that count each time validation reads them: the index must leave them unread.
    let reads = 0;
    const counted = (fields: Omit<RevocationEvent, 'issuedBefore' | 'revokedAt'>): RevocationEvent => {
      const base = event(fields);
      return {
        ...fields,
        revokedAt: base.revokedAt,
        get issuedBefore() {
          reads++;
          return base.issuedBefore;
        },
      };
    };
    const list = new RevocationList();
    for (let i = 0; i < 5000; i++) {
      list.add(counted({ auditId: newAuditId() }));
      list.add(counted({ userId: `user-${i}` }));
      list.add(counted({ projectId: `project-${i}`, userId: `user-${i}` }));
      list.add(counted({ domainId: `domain-${i}` }));
    }
    reads = 0;
    expect(
      list.isRevoked(token({ userId: 'user-7', scope: { kind: 'project', id: 'project-9' } }), at(-1)),
    ).toBe(true);
    expect(reads).toBeLessThanOrEqual(2);
    reads = 0;
    expect(list.isRevoked(token(), at(-1), { userDomainId: 'domain-x' })).toBe(false);
    expect(reads).toBe(0);
  });
});
