import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodePayload,
  encodePayload,
  InvalidTokenPayload,
  newAuditId,
  PAYLOAD_FORMAT_VERSION,
  type TokenPayload,
} from './payload.js';

const uuidHex = () => randomUUID().replaceAll('-', '');
const expiresAt = new Date('2031-05-06T07:08:09Z');

function passwordProjectToken(): TokenPayload {
  return {
    userId: uuidHex(),
    methods: ['password'],
    scope: { kind: 'project', id: uuidHex() },
    expiresAt,
    auditIds: [newAuditId()],
  };
}

describe('token payloads', () => {
  it.each([
    { kind: 'unscoped' },
    { kind: 'project', id: uuidHex() },
    { kind: 'domain', id: 'default' },
    { kind: 'domain', id: uuidHex() },
    { kind: 'system' },
  ] as const)('round-trips a $kind-scoped token', (scope) => {
    const payload: TokenPayload = { ...passwordProjectToken(), scope };
    expect(decodePayload(encodePayload(payload))).toEqual(payload);
  });

  it('stores 32-hex UUIDs as 16 bytes and short names as text, so a project token stays small', () => {
    const encoded = encodePayload(passwordProjectToken());
    // version, flags, user (1+16), methods, project (1+16), expiry (5), audit id (16)
    expect(encoded.length).toBe(1 + 1 + 17 + 1 + 17 + 5 + 16);
    expect(encoded[0]).toBe(PAYLOAD_FORMAT_VERSION);

    const withTextIds = {
      ...passwordProjectToken(),
      userId: 'admin',
      scope: { kind: 'domain', id: 'default' },
    };
    expect(encodePayload(withTextIds as TokenPayload).length).toBe(1 + 1 + 6 + 1 + 8 + 5 + 16);
  });

  it('keeps ids that only look like UUIDs exactly as written', () => {
    for (const userId of [
      uuidHex().toUpperCase(),
      randomUUID(),
      'a'.repeat(64),
      'b'.repeat(63),
      'ünïcode-üser',
      '',
      'x'.repeat(253),
    ]) {
      const payload = { ...passwordProjectToken(), userId };
      expect(decodePayload(encodePayload(payload)).userId).toBe(userId);
    }
  });

  it('stores 64-hex ids (Keystone id mapping for LDAP and federated users) as 32 bytes', () => {
    const hex64 = 'c0ffee'.padEnd(64, '9');
    const payload = { ...passwordProjectToken(), userId: hex64 };
    expect(encodePayload(payload).length).toBe(encodePayload(passwordProjectToken()).length + 16);
    expect(decodePayload(encodePayload(payload)).userId).toBe(hex64);
  });

  it('refuses ids too long to encode rather than cutting them', () => {
    expect(() => encodePayload({ ...passwordProjectToken(), userId: 'x'.repeat(254) })).toThrow(RangeError);
  });

  it('packs known methods into a bitmask and keeps unknown ones by name', () => {
    const payload = {
      ...passwordProjectToken(),
      methods: ['kerberos', 'token', 'password', 'totp', 'token', 'x509'],
    };
    // Order is not kept (as in Keystone): known methods by bit, then the others as given.
    expect(decodePayload(encodePayload(payload)).methods).toEqual([
      'password',
      'token',
      'totp',
      'kerberos',
      'x509',
    ]);
    expect(decodePayload(encodePayload({ ...payload, methods: [] })).methods).toEqual([]);
    expect(decodePayload(encodePayload({ ...payload, methods: ['toString'] })).methods).toEqual(['toString']);
  });

  it('carries the audit chain of a rescoped token and an application credential', () => {
    const payload: TokenPayload = {
      ...passwordProjectToken(),
      methods: ['application_credential'],
      auditIds: [newAuditId(), newAuditId()],
      applicationCredentialId: uuidHex(),
    };
    expect(decodePayload(encodePayload(payload))).toEqual(payload);
  });

  it('keeps the expiry to the second, like Keystone', () => {
    const payload = { ...passwordProjectToken(), expiresAt: new Date('2031-05-06T07:08:09.999Z') };
    expect(decodePayload(encodePayload(payload)).expiresAt).toEqual(expiresAt);
  });

  it('makes audit ids of 16 random bytes, 22 URL-safe characters', () => {
    const ids = new Set(Array.from({ length: 100 }, newAuditId));
    expect(ids.size).toBe(100);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url').length).toBe(16);
    }
  });

  it('refuses audit ids that are not 16 bytes of canonical URL-safe base64', () => {
    const good = newAuditId();
    const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(good[21]!);
    const strayBits = `${good.slice(0, 21)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex | 1]}`;
    for (const auditId of [
      good.slice(1),
      `${good}A`,
      `${good.slice(0, 21)}=`,
      `${good.slice(0, 21)}+`,
      strayBits,
    ]) {
      expect(() => encodePayload({ ...passwordProjectToken(), auditIds: [auditId] }), auditId).toThrow(
        RangeError,
      );
    }
    expect(() => encodePayload({ ...passwordProjectToken(), auditIds: [] })).toThrow(RangeError);
    expect(() => encodePayload({ ...passwordProjectToken(), auditIds: [good, good, good] })).toThrow(
      RangeError,
    );
  });

  it('refuses other format versions, unknown flags and unknown method bits', () => {
    const encoded = encodePayload(passwordProjectToken());
    const otherVersion = Buffer.from(encoded);
    otherVersion[0] = PAYLOAD_FORMAT_VERSION + 1;
    expect(() => decodePayload(otherVersion)).toThrow(/format version/);

    const unknownFlag = Buffer.from(encoded);
    unknownFlag[1]! |= 0x80;
    expect(() => decodePayload(unknownFlag)).toThrow(/flags/);

    // By hand: version 1, unscoped, user "a", methods varint 128 (the bit after oauth1), expiry 0, audit id.
    const unknownMethod = Buffer.concat([Buffer.from([1, 0, 1, 0x61, 0x80, 0x01, 0]), Buffer.alloc(16)]);
    expect(() => decodePayload(unknownMethod)).toThrow(/method bits/);
    unknownMethod[4] = 0x01;
    unknownMethod[5] = 0x00;
    expect(decodePayload(unknownMethod.subarray(0, 6 + 16)).methods).toEqual(['password']);
  });

  it('refuses every truncation and any trailing byte', () => {
    const encoded = encodePayload({
      ...passwordProjectToken(),
      methods: ['password', 'kerberos'],
      auditIds: [newAuditId(), newAuditId()],
      applicationCredentialId: 'app-cred',
    });
    for (let length = 0; length < encoded.length; length++) {
      expect(() => decodePayload(encoded.subarray(0, length)), `length ${length}`).toThrow(
        InvalidTokenPayload,
      );
    }
    expect(() => decodePayload(Buffer.concat([encoded, Buffer.from([0])]))).toThrow(/trailing/);
  });

  it('refuses names that are not UTF-8', () => {
    const encoded = encodePayload({ ...passwordProjectToken(), userId: 'ab' });
    encoded[3] = 0xff; // second byte of the user id, after version, flags and the length tag
    expect(() => decodePayload(encoded)).toThrow(/UTF-8/);
  });
});
