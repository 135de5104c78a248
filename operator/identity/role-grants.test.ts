import { describe, expect, it } from 'vitest';
import { type Grant, grantsOf, grantsRecord, planGrants, recordedGrants } from './role-grants.js';

const user = (subjectId: string, roleId: string): Grant => ({ subject: 'user', subjectId, roleId });
const group = (subjectId: string, roleId: string): Grant => ({ subject: 'group', subjectId, roleId });

describe('the record of the grants the operator made', () => {
  it('reads back what it wrote, in a fixed order without duplicates', () => {
    const record = grantsRecord([group('g1', 'member'), user('u1', 'reader'), user('u1', 'reader')]);
    expect(record).toBe('["group/g1/member","user/u1/reader"]');
    expect(recordedGrants(record)).toEqual([group('g1', 'member'), user('u1', 'reader')]);
    expect(grantsRecord([user('u1', 'reader'), group('g1', 'member')])).toBe(record);
  });

  it('reads nothing from a missing, unreadable or foreign value', () => {
    for (const value of [undefined, 'not json', '{"a":1}', 42, '["bogus", "user/x"]'])
      expect(recordedGrants(value)).toEqual([]);
  });
});

describe('the direct grants among role assignments', () => {
  it('keeps users and groups, leaves inherited assignments out', () => {
    expect(
      grantsOf([
        { role: { id: 'r1' }, user: { id: 'u1' }, scope: { project: { id: 'p' } } },
        { role: { id: 'r2' }, group: { id: 'g1' }, scope: { project: { id: 'p' } } },
        {
          role: { id: 'r3' },
          user: { id: 'u2' },
          scope: { project: { id: 'p' }, 'OS-INHERIT:inherited_to': 'projects' },
        },
      ]),
    ).toEqual([group('g1', 'r2'), user('u1', 'r1')]);
  });
});

describe('planGrants', () => {
  it('grants what is missing and records it before granting', () => {
    const plan = planGrants([user('u1', 'member')], [], []);
    expect(plan).toEqual({
      grant: [user('u1', 'member')],
      revoke: [],
      recordBefore: [user('u1', 'member')],
      recordAfter: [user('u1', 'member')],
    });
  });

  it('revokes only its own grants no binding asks for, and forgets them after', () => {
    const plan = planGrants([], [user('u1', 'member'), user('u2', 'reader')], [user('u1', 'member')]);
    expect(plan.revoke).toEqual([user('u1', 'member')]);
    expect(plan.recordBefore).toEqual([user('u1', 'member')]);
    expect(plan.recordAfter).toEqual([]);
  });

  it('never takes a grant that was there before for its own: it is not recorded, so never revoked', () => {
    const before = planGrants([user('u2', 'reader')], [user('u2', 'reader')], []);
    expect(before).toEqual({ grant: [], revoke: [], recordBefore: [], recordAfter: [] });
    expect(planGrants([], [user('u2', 'reader')], before.recordAfter).revoke).toEqual([]);
  });

  it('grants again one of its own revoked behind its back, and keeps it recorded', () => {
    const plan = planGrants([group('g1', 'member')], [], [group('g1', 'member')]);
    expect(plan.grant).toEqual([group('g1', 'member')]);
    expect(plan.recordAfter).toEqual([group('g1', 'member')]);
  });

  it('forgets a recorded grant that is gone already without revoking it (a crash after the revoke)', () => {
    const plan = planGrants([], [], [user('u1', 'member')]);
    expect(plan.revoke).toEqual([]);
    expect(plan.recordAfter).toEqual([]);
  });
});
