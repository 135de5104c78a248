// What a token carries, in as few bytes as we can: it travels in every request's
// X-Auth-Token header. Like Keystone's payloads (a msgpacked tuple of version and fields, UUIDs
// as 16 raw bytes, methods as a bitmask, audit ids as their 16 random bytes) but in a fixed
// binary layout of our own; a Keystone token is not readable here, nor ours there.
//
// Format version 1, all integers unsigned:
//
//   u8      format version (1)
//   u8      flags: bits 0-1 scope kind (0 unscoped, 1 project, 2 domain, 3 system)
//                  bit 2     an application credential id follows the audit ids
//                  bit 3     method names outside the bitmask follow it
//                  bit 4     two audit ids (a rescoped token: its own, then its chain's)
//   id      user id
//   varint  methods bitmask (METHOD_BITS)
//   [u8 count, count × (u8 length, UTF-8)]     methods outside the bitmask, when bit 3
//   id      scope id, for project and domain scopes
//   varint  expiresAt, seconds since 1970
//   16 × n  audit ids (n = 1, or 2 when bit 4)
//   id      application credential id, when bit 2
//
// where an id is a tag byte then its value: 0xFF = a 32-hex-digit UUID as 16 bytes, 0xFE = a
// 64-hex-digit id (what Keystone's id mapping gives LDAP and federated users) as 32 bytes,
// 0..253 = that many bytes of UTF-8 (the "default" domain, anything else).
import { randomBytes } from 'node:crypto';

export type TokenScope =
  | { kind: 'unscoped' }
  | { kind: 'project'; id: string }
  | { kind: 'domain'; id: string }
  | { kind: 'system' };

export interface TokenPayload {
  userId: string;
  /** Authentication methods used, as Keystone names them ("password", "token", ...). */
  methods: string[];
  scope: TokenScope;
  /** Whole seconds, like Keystone's expires_at; finer precision is dropped when encoded. */
  expiresAt: Date;
  /** [own audit id] or, for a rescoped token, [own audit id, audit chain id]. */
  auditIds: string[];
  applicationCredentialId?: string;
}

/** The payload could not be read: a newer format, or bytes that were never a payload. */
export class InvalidTokenPayload extends Error {
  constructor(message: string) {
    super(`invalid token payload: ${message}`);
    this.name = 'InvalidTokenPayload';
  }
}

export const PAYLOAD_FORMAT_VERSION = 1;

/**
 * Bit per authentication method. Stable forever once a token has carried it: a new method gets
 * the next free bit, never a reused one. Names not listed here still round-trip, as strings.
 */
export const METHOD_BITS: Readonly<Record<string, number>> = Object.freeze({
  password: 1,
  token: 2,
  application_credential: 4,
  totp: 8,
  external: 16,
  mapped: 32,
  oauth1: 64,
});
const METHOD_BIT_BY_NAME = new Map(Object.entries(METHOD_BITS));
const METHOD_NAMES_BY_BIT = [...METHOD_BIT_BY_NAME].sort(([, a], [, b]) => a - b);
const KNOWN_METHOD_MASK = METHOD_NAMES_BY_BIT.reduce((mask, [, bit]) => mask | bit, 0);

const SCOPE_KIND_CODES = { unscoped: 0, project: 1, domain: 2, system: 3 } as const;
const SCOPE_MASK = 0b0_0011;
const FLAG_APPLICATION_CREDENTIAL = 0b0_0100;
const FLAG_EXTRA_METHODS = 0b0_1000;
const FLAG_AUDIT_CHAIN = 0b1_0000;
const KNOWN_FLAGS = SCOPE_MASK | FLAG_APPLICATION_CREDENTIAL | FLAG_EXTRA_METHODS | FLAG_AUDIT_CHAIN;

const ID_TAG_UUID = 0xff;
const ID_TAG_HEX64 = 0xfe;
const MAX_TEXT_ID_BYTES = 0xfd;
const AUDIT_ID_BYTES = 16;
const UUID_HEX = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const AUDIT_ID_TEXT = /^[A-Za-z0-9_-]{22}$/;

/** A new audit id as Keystone makes them: 16 random bytes, URL-safe base64 without padding (22 characters). */
export function newAuditId(): string {
  return randomBytes(AUDIT_ID_BYTES).toString('base64url');
}

export function encodePayload(payload: TokenPayload): Buffer {
  const { auditIds } = payload;
  if (auditIds.length < 1 || auditIds.length > 2) {
    throw new RangeError(`a token has one or two audit ids, got ${auditIds.length}`);
  }
  let methodBits = 0;
  const extraMethods: string[] = [];
  for (const method of new Set(payload.methods)) {
    const bit = METHOD_BIT_BY_NAME.get(method);
    if (bit !== undefined) methodBits |= bit;
    else extraMethods.push(method);
  }
  if (extraMethods.length > 0xff) throw new RangeError('too many authentication methods');

  let flags: number = SCOPE_KIND_CODES[payload.scope.kind];
  if (payload.applicationCredentialId !== undefined) flags |= FLAG_APPLICATION_CREDENTIAL;
  if (extraMethods.length > 0) flags |= FLAG_EXTRA_METHODS;
  if (auditIds.length === 2) flags |= FLAG_AUDIT_CHAIN;

  const out = new ByteWriter();
  out.byte(PAYLOAD_FORMAT_VERSION);
  out.byte(flags);
  out.id(payload.userId);
  out.varint(methodBits);
  if (extraMethods.length > 0) {
    out.byte(extraMethods.length);
    for (const method of extraMethods) out.shortText(method);
  }
  if (payload.scope.kind === 'project' || payload.scope.kind === 'domain') out.id(payload.scope.id);
  const expiresAtSeconds = Math.floor(payload.expiresAt.getTime() / 1000);
  if (!Number.isSafeInteger(expiresAtSeconds) || expiresAtSeconds < 0) {
    throw new RangeError('expiresAt is not a valid time after 1970');
  }
  out.varint(expiresAtSeconds);
  for (const auditId of auditIds) out.bytes(auditIdBytes(auditId));
  if (payload.applicationCredentialId !== undefined) out.id(payload.applicationCredentialId);
  return out.finish();
}

export function decodePayload(buffer: Buffer): TokenPayload {
  const input = new ByteReader(buffer);
  const version = input.byte();
  if (version !== PAYLOAD_FORMAT_VERSION) throw new InvalidTokenPayload(`unknown format version ${version}`);
  const flags = input.byte();
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new InvalidTokenPayload(`unknown flags ${flags}`);

  const userId = input.id();
  const methodBits = input.varint();
  if (methodBits & ~KNOWN_METHOD_MASK) throw new InvalidTokenPayload(`unknown method bits ${methodBits}`);
  const methods = METHOD_NAMES_BY_BIT.filter(([, bit]) => methodBits & bit).map(([name]) => name);
  if (flags & FLAG_EXTRA_METHODS) {
    const count = input.byte();
    for (let i = 0; i < count; i++) methods.push(input.shortText());
  }

  let scope: TokenScope;
  switch (flags & SCOPE_MASK) {
    case SCOPE_KIND_CODES.project:
      scope = { kind: 'project', id: input.id() };
      break;
    case SCOPE_KIND_CODES.domain:
      scope = { kind: 'domain', id: input.id() };
      break;
    case SCOPE_KIND_CODES.system:
      scope = { kind: 'system' };
      break;
    default:
      scope = { kind: 'unscoped' };
  }

  const expiresAt = new Date(input.varint() * 1000);
  const auditIds = [input.bytes(AUDIT_ID_BYTES).toString('base64url')];
  if (flags & FLAG_AUDIT_CHAIN) auditIds.push(input.bytes(AUDIT_ID_BYTES).toString('base64url'));

  const payload: TokenPayload = { userId, methods, scope, expiresAt, auditIds };
  if (flags & FLAG_APPLICATION_CREDENTIAL) payload.applicationCredentialId = input.id();
  input.expectEnd();
  return payload;
}

function auditIdBytes(auditId: string): Buffer {
  const bytes = AUDIT_ID_TEXT.test(auditId) ? Buffer.from(auditId, 'base64url') : undefined;
  // Only the canonical spelling round-trips; the 22nd character has 4 bits that must be zero.
  if (!bytes || bytes.length !== AUDIT_ID_BYTES || bytes.toString('base64url') !== auditId) {
    throw new RangeError(`not an audit id (16 bytes, URL-safe base64 without padding): ${auditId}`);
  }
  return bytes;
}

/** Appends to a buffer that grows as needed; payloads are small, so it rarely does. */
class ByteWriter {
  #buffer = Buffer.allocUnsafe(128);
  #length = 0;

  #reserve(count: number): void {
    if (this.#length + count <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + count));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
  }

  bytes(value: Buffer): void {
    this.#reserve(value.length);
    value.copy(this.#buffer, this.#length);
    this.#length += value.length;
  }

  /** Unsigned LEB128: 7 bits a byte, high bit set on all but the last. */
  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.byte((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.byte(rest);
  }

  shortText(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > 0xff) throw new RangeError(`longer than 255 bytes: ${value.slice(0, 40)}...`);
    this.byte(bytes.length);
    this.bytes(bytes);
  }

  id(value: string): void {
    if (UUID_HEX.test(value)) {
      this.byte(ID_TAG_UUID);
      this.bytes(Buffer.from(value, 'hex'));
    } else if (HEX64.test(value)) {
      this.byte(ID_TAG_HEX64);
      this.bytes(Buffer.from(value, 'hex'));
    } else {
      const bytes = Buffer.from(value, 'utf8');
      if (bytes.length > MAX_TEXT_ID_BYTES) {
        throw new RangeError(`an id is at most ${MAX_TEXT_ID_BYTES} bytes: ${value.slice(0, 40)}...`);
      }
      this.byte(bytes.length);
      this.bytes(bytes);
    }
  }

  finish(): Buffer {
    return Buffer.from(this.#buffer.subarray(0, this.#length));
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Expiry seconds fit in far fewer; the bound keeps a hostile varint from running on. */
const MAX_VARINT_BYTES = 7;

class ByteReader {
  #offset = 0;
  constructor(readonly buffer: Buffer) {}

  byte(): number {
    const value = this.buffer[this.#offset];
    if (value === undefined) throw new InvalidTokenPayload('truncated');
    this.#offset++;
    return value;
  }

  bytes(count: number): Buffer {
    if (this.#offset + count > this.buffer.length) throw new InvalidTokenPayload('truncated');
    const value = this.buffer.subarray(this.#offset, this.#offset + count);
    this.#offset += count;
    return value;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 0x80;
    }
    throw new InvalidTokenPayload('integer too long');
  }

  shortText(): string {
    return this.#utf8(this.bytes(this.byte()));
  }

  id(): string {
    const tag = this.byte();
    if (tag === ID_TAG_UUID) return this.bytes(16).toString('hex');
    if (tag === ID_TAG_HEX64) return this.bytes(32).toString('hex');
    return this.#utf8(this.bytes(tag));
  }

  expectEnd(): void {
    if (this.#offset !== this.buffer.length) throw new InvalidTokenPayload('trailing bytes');
  }

  #utf8(bytes: Buffer): string {
    try {
      return STRICT_UTF8.decode(bytes);
    } catch {
      throw new InvalidTokenPayload('an id or name is not UTF-8');
    }
  }
}
