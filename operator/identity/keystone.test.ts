import { describe, expect, it } from 'vitest';
import { utcTimestamp } from './keystone.js';

describe("Keystone's timestamps in the status", () => {
  it('reads a zoneless time as UTC and writes RFC 3339', () => {
    expect(utcTimestamp('2027-01-01T10:20:30.000000')).toBe('2027-01-01T10:20:30.000Z');
    expect(utcTimestamp('2027-01-01T10:20:30Z')).toBe('2027-01-01T10:20:30.000Z');
    expect(utcTimestamp('2027-01-01T12:20:30+02:00')).toBe('2027-01-01T10:20:30.000Z');
  });

  it('has none for no time or one it cannot read', () => {
    expect(utcTimestamp(null)).toBeUndefined();
    expect(utcTimestamp(undefined)).toBeUndefined();
    expect(utcTimestamp('never')).toBeUndefined();
  });
});
