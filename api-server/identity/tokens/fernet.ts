// Fernet, version 0x80 (https://github.com/fernet/spec): the authenticated encryption that
// wraps Keystone's token payloads. Written to the spec so that tokens and key files are
// interchangeable with Python's cryptography.fernet, which Keystone itself uses.
//
//   token = base64url( 0x80 | timestamp (u64 BE seconds) | IV (16) | AES-128-CBC ciphertext | HMAC-SHA256 (32) )
//   key   = base64url( signing key (16) | encryption key (16) )
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { inspect } from 'node:util';

const FERNET_VERSION = 0x80;
const TIMESTAMP_LENGTH = 8;
const IV_LENGTH = 16;
const AES_BLOCK_LENGTH = 16;
const HMAC_LENGTH = 32;
const HEADER_LENGTH = 1 + TIMESTAMP_LENGTH + IV_LENGTH;
/** PKCS7 always adds at least one byte, so even an empty message has one ciphertext block. */
const MIN_TOKEN_LENGTH = HEADER_LENGTH + AES_BLOCK_LENGTH + HMAC_LENGTH;
const KEY_LENGTH = 32;
/**
 * With a TTL, Python's cryptography also refuses tokens stamped more than this far in the
 * future (the spec's "unacceptable clock skew" case); the same bound keeps us interchangeable.
 */
export const FERNET_MAX_CLOCK_SKEW_SECONDS = 60;

/**
 * One Fernet key. The raw bytes stay private and the object prints as `[FernetKey]`, so a key
 * that ends up in a log line or a JSON dump does not leak; `encode()` is the one way out.
 */
export class FernetKey {
  readonly #raw: Buffer;
  readonly #signingKey: KeyObject;
  readonly #encryptionKey: KeyObject;

  /** `raw` is the 32 decoded bytes: signing key, then encryption key. */
  constructor(raw: Buffer) {
    if (raw.length !== KEY_LENGTH) {
      throw new RangeError(`a Fernet key is ${KEY_LENGTH} bytes, got ${raw.length}`);
    }
    this.#raw = Buffer.from(raw);
    this.#signingKey = createSecretKey(this.#raw.subarray(0, 16));
    this.#encryptionKey = createSecretKey(this.#raw.subarray(16, 32));
  }

  /** The key as key files hold it: base64url with padding, 44 characters (as keystone-manage writes). */
  encode(): string {
    return `${this.#raw.toString('base64url')}=`;
  }

  /** Same key material, compared in constant time. */
  equals(other: FernetKey): boolean {
    return timingSafeEqual(this.#raw, other.#raw);
  }

  /** @internal */
  get signingKey(): KeyObject {
    return this.#signingKey;
  }

  /** @internal */
  get encryptionKey(): KeyObject {
    return this.#encryptionKey;
  }

  toJSON(): string {
    return '[FernetKey]';
  }

  toString(): string {
    return '[FernetKey]';
  }

  [inspect.custom](): string {
    return '[FernetKey]';
  }
}

/**
 * The keys a token provider works with: `primary` signs and encrypts new tokens; `all` is every
 * key a token may have been made with (primary first), tried in order when validating.
 */
export interface FernetKeySet {
  primary: FernetKey;
  all: FernetKey[];
}

/** Why a Fernet token was refused; for logs and metrics, never shown to the client. */
export type FernetRejection =
  | 'malformed' // not base64url, wrong version byte, impossible length
  | 'bad-signature' // no key's HMAC matches: tampered, truncated, or made with a key we do not hold
  | 'expired' // older than the TTL the caller asked for
  | 'from-the-future' // stamped beyond the allowed clock skew
  | 'undecryptable'; // authentic but the plaintext padding is wrong (only a broken issuer does this)

export class InvalidFernetToken extends Error {
  constructor(readonly reason: FernetRejection) {
    super(`invalid Fernet token (${reason})`);
    this.name = 'InvalidFernetToken';
  }
}

export function generateFernetKey(): FernetKey {
  return new FernetKey(randomBytes(KEY_LENGTH));
}

/** Parses a key file's content: base64url, with or without '=' padding, surrounding whitespace ignored. */
export function parseFernetKey(text: string): FernetKey {
  const raw = decodeBase64Url(text.trim());
  if (!raw || raw.length !== KEY_LENGTH) {
    throw new RangeError(`a Fernet key is ${KEY_LENGTH} bytes of URL-safe base64`);
  }
  return new FernetKey(raw);
}

export interface FernetEncryptOptions {
  /** Only for reproducing test vectors: a fixed IV. Never pass one in production; IVs must be unique. */
  iv?: Buffer;
  /**
   * Keep the base64 '=' padding (default true, as the spec and Python produce). Keystone strips
   * it from the tokens it hands out; fernetDecrypt accepts both forms.
   */
  padding?: boolean;
}

export function fernetEncrypt(
  key: FernetKey,
  plaintext: Buffer,
  now: Date = new Date(),
  options: FernetEncryptOptions = {},
): string {
  const iv = options.iv ?? randomBytes(IV_LENGTH);
  if (iv.length !== IV_LENGTH) throw new RangeError(`a Fernet IV is ${IV_LENGTH} bytes`);
  const seconds = Math.floor(now.getTime() / 1000);
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError('timestamp before 1970');

  const cipher = createCipheriv('aes-128-cbc', key.encryptionKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const token = Buffer.allocUnsafe(HEADER_LENGTH + ciphertext.length + HMAC_LENGTH);
  token[0] = FERNET_VERSION;
  token.writeBigUInt64BE(BigInt(seconds), 1);
  iv.copy(token, 1 + TIMESTAMP_LENGTH);
  ciphertext.copy(token, HEADER_LENGTH);
  const signedLength = HEADER_LENGTH + ciphertext.length;
  createHmac('sha256', key.signingKey)
    .update(token.subarray(0, signedLength))
    .digest()
    .copy(token, signedLength);

  const text = token.toString('base64url');
  return options.padding === false ? text : text + '='.repeat((4 - (text.length % 4)) % 4);
}

export interface FernetDecryptOptions {
  /** Refuse tokens whose timestamp is more than this many seconds before `now`. */
  ttlSeconds?: number;
  now?: Date;
}

export interface FernetMessage {
  plaintext: Buffer;
  /** The token's timestamp: whole seconds. */
  issuedAt: Date;
}

/**
 * Verifies and opens a token made with any of `keys` (tried in order; put the likeliest first).
 * The HMAC is checked in constant time before anything is decrypted, so a forged token costs one
 * HMAC per key and never reaches the cipher. Throws InvalidFernetToken for every refusal.
 */
export function fernetDecrypt(
  token: string,
  keys: readonly FernetKey[],
  options: FernetDecryptOptions = {},
): FernetMessage {
  const data = decodeBase64Url(token);
  if (!data || data.length < MIN_TOKEN_LENGTH || data[0] !== FERNET_VERSION) {
    throw new InvalidFernetToken('malformed');
  }
  const signedLength = data.length - HMAC_LENGTH;
  if ((signedLength - HEADER_LENGTH) % AES_BLOCK_LENGTH !== 0) throw new InvalidFernetToken('malformed');

  const signed = data.subarray(0, signedLength);
  const presentedHmac = data.subarray(signedLength);
  let key: FernetKey | undefined;
  for (const candidate of keys) {
    const expectedHmac = createHmac('sha256', candidate.signingKey).update(signed).digest();
    if (timingSafeEqual(expectedHmac, presentedHmac)) {
      key = candidate;
      break;
    }
  }
  if (!key) throw new InvalidFernetToken('bad-signature');

  const seconds = Number(data.readBigUInt64BE(1));
  if (options.ttlSeconds !== undefined) {
    const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
    if (seconds + options.ttlSeconds < nowSeconds) throw new InvalidFernetToken('expired');
    if (nowSeconds + FERNET_MAX_CLOCK_SKEW_SECONDS < seconds) throw new InvalidFernetToken('from-the-future');
  }

  const iv = data.subarray(1 + TIMESTAMP_LENGTH, HEADER_LENGTH);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key.encryptionKey, iv);
    plaintext = Buffer.concat([
      decipher.update(data.subarray(HEADER_LENGTH, signedLength)),
      decipher.final(),
    ]);
  } catch {
    throw new InvalidFernetToken('undecryptable');
  }
  return { plaintext, issuedAt: new Date(seconds * 1000) };
}

const BASE64URL_BODY = /^[A-Za-z0-9_-]*$/;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Strict URL-safe base64: only the URL-safe alphabet, '=' padding either absent or exactly
 * right, nothing after it, and no stray bits in the last character. Node's own decoder skips
 * characters it does not know, which would let "gAAA!AAA" pass for "gAAAAAA"; one canonical
 * spelling per token also keeps a token string from having look-alikes.
 */
function decodeBase64Url(text: string): Buffer | undefined {
  let body = text;
  let padding = 0;
  while (padding < 2 && body.endsWith('=')) {
    body = body.slice(0, -1);
    padding++;
  }
  if (!BASE64URL_BODY.test(body)) return undefined;
  const remainder = body.length % 4;
  if (remainder === 1) return undefined;
  if (padding > 0 && padding !== (4 - remainder) % 4) return undefined;
  if (remainder > 0) {
    // The last character carries 4 (remainder 2) or 2 (remainder 3) bits beyond the data.
    const lastValue = BASE64URL_ALPHABET.indexOf(body[body.length - 1]!);
    const strayBits = remainder === 2 ? 0b1111 : 0b11;
    if ((lastValue & strayBits) !== 0) return undefined;
  }
  return Buffer.from(body, 'base64url');
}
