import { describe, expect, it } from 'vitest';
import { describeDiff, diff } from './diff.js';

describe('the field diff of an update', () => {
  it('names added, changed and removed fields by path, lists as whole values', () => {
    const old = { resource: { mtu: 1450, description: 'old', tags: ['a'] }, resyncPeriod: '1m' };
    const current = { resource: { mtu: 1500, tags: ['a', 'b'], shared: true }, resyncPeriod: '1m' };
    const operations = diff(old, current);
    expect(operations).toEqual([
      { op: 'remove', path: ['resource', 'description'], old: 'old' },
      { op: 'change', path: ['resource', 'mtu'], old: 1450, new: 1500 },
      { op: 'add', path: ['resource', 'shared'], new: true },
      { op: 'change', path: ['resource', 'tags'], old: ['a'], new: ['a', 'b'] },
    ]);
    expect(describeDiff(operations)).toBe(
      'resource.description, resource.mtu, resource.shared, resource.tags',
    );
  });

  it('is empty for equal specs, whatever the key order', () => {
    expect(diff({ a: 1, b: { c: [1, { d: 2 }] } }, { b: { c: [1, { d: 2 }] }, a: 1 })).toEqual([]);
  });
});
