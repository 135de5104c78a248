import { describe, expect, it } from 'vitest';
import { run } from '../../../lib/exec.js';
import {
  FERNET_MAX_CLOCK_SKEW_SECONDS,
  FernetKey,
  fernetDecrypt,
  fernetEncrypt,
  generateFernetKey,
  InvalidFernetToken,
  parseFernetKey,
} from './fernet.js';

// The acceptance vectors of the Fernet spec repository (generate.json, verify.json,
// invalid.json): every conforming implementation, Python's cryptography included, agrees on them.
const SPEC_SECRET = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const SPEC_IV = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
const SPEC_TOKEN =
  'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
const SPEC_TTL = 60;
const SPEC_VERIFY_TIME = new Date('1985-10-26T01:20:01-07:00');

const SPEC_INVALID: { desc: string; token: string; now: string }[] = [
  {
    desc: 'incorrect mac',
    token:
      'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==',
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'too short',
    token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==',
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'invalid base64',
    token:
      '%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==',
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'payload size not multiple of block size',
    token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm',
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'payload padding error',
    token:
      'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==',
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'far-future TS (unacceptable clock skew)',
    token:
      'gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==',
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'expired TTL',
    token:
      'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==',
    now: '1985-10-26T01:21:31-07:00',
  },
  {
    desc: 'incorrect IV (causes padding error)',
    token:
      'gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==',
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'trailing characters after b64 padding',
    token: `${SPEC_TOKEN}trailingdata`,
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'invalid characters in b64',
    token:
      '*gAAAAAAdwJ6wAAECAwQFBgcI!CQoLDA0ODy021?cpGVWKZ_eEwC@GM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==',
    now: '1985-10-26T01:20:01-07:00',
  },
  {
    desc: 'invalid non-urlsafe characters in b64',
    token:
      'gAAAAAAdwJ6wAAEC/AwQFBgcICQoLDA0ODy+021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==',
    now: '1985-10-26T01:20:01-07:00',
  },
];

function rejection(open: () => unknown): string {
  try {
    open();
  } catch (error) {
    if (error instanceof InvalidFernetToken) return error.reason;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('Fernet spec vectors', () => {
  const specKey = parseFernetKey(SPEC_SECRET);

  it('generates the spec token from its key, IV, time and message', () => {
    const token = fernetEncrypt(specKey, Buffer.from('hello'), new Date('1985-10-26T01:20:00-07:00'), {
      iv: SPEC_IV,
    });
    expect(token).toBe(SPEC_TOKEN);
  });

  it('verifies the spec token within its TTL and reports its timestamp', () => {
    const opened = fernetDecrypt(SPEC_TOKEN, [specKey], { ttlSeconds: SPEC_TTL, now: SPEC_VERIFY_TIME });
    expect(opened.plaintext.toString()).toBe('hello');
    expect(opened.issuedAt.toISOString()).toBe('1985-10-26T08:20:00.000Z');
  });

  it.each(SPEC_INVALID)('refuses the spec token with $desc', ({ token, now }) => {
    expect(() => fernetDecrypt(token, [specKey], { ttlSeconds: SPEC_TTL, now: new Date(now) })).toThrow(
      InvalidFernetToken,
    );
  });

  it('names the reason of each refusal', () => {
    const at = (desc: string) => {
      const vector = SPEC_INVALID.find((v) => v.desc === desc)!;
      return rejection(() =>
        fernetDecrypt(vector.token, [specKey], { ttlSeconds: SPEC_TTL, now: new Date(vector.now) }),
      );
    };
    expect(at('incorrect mac')).toBe('bad-signature');
    expect(at('too short')).toBe('malformed');
    expect(at('invalid base64')).toBe('malformed');
    expect(at('payload size not multiple of block size')).toBe('malformed');
    expect(at('payload padding error')).toBe('undecryptable');
    expect(at('far-future TS (unacceptable clock skew)')).toBe('from-the-future');
    expect(at('expired TTL')).toBe('expired');
    expect(at('incorrect IV (causes padding error)')).toBe('undecryptable');
    expect(at('trailing characters after b64 padding')).toBe('malformed');
    expect(at('invalid non-urlsafe characters in b64')).toBe('malformed');
  });
});

describe('Fernet tokens', () => {
  const key = generateFernetKey();
  const message = Buffer.from('a Keystone payload, more than one AES block long');

  it('round-trips any message, empty and block-sized ones included', () => {
    for (const length of [0, 1, 15, 16, 17, 32, 200]) {
      const plaintext = Buffer.alloc(length, 0xa5);
      expect(fernetDecrypt(fernetEncrypt(key, plaintext), [key]).plaintext).toEqual(plaintext);
    }
  });

  it('issues without padding on request, as Keystone does, and accepts both spellings', () => {
    const now = new Date();
    const unpadded = fernetEncrypt(key, message, now, { padding: false, iv: SPEC_IV });
    const padded = fernetEncrypt(key, message, now, { iv: SPEC_IV });
    expect(unpadded).not.toContain('=');
    expect(padded.length % 4).toBe(0);
    expect(padded.startsWith(unpadded)).toBe(true);
    expect(fernetDecrypt(unpadded, [key]).plaintext).toEqual(message);
    expect(fernetDecrypt(padded, [key]).plaintext).toEqual(message);
  });

  it('refuses wrong padding, which would otherwise give one token two spellings', () => {
    const unpadded = fernetEncrypt(key, message, new Date(), { padding: false });
    const needed = (4 - (unpadded.length % 4)) % 4;
    expect(needed).toBeGreaterThan(0);
    expect(rejection(() => fernetDecrypt(`${unpadded}${'='.repeat(needed === 1 ? 2 : 1)}`, [key]))).toBe(
      'malformed',
    );
  });

  it('draws a fresh IV for every token', () => {
    const now = new Date();
    expect(fernetEncrypt(key, message, now)).not.toBe(fernetEncrypt(key, message, now));
  });

  it('refuses a token from a key it does not hold', () => {
    const token = fernetEncrypt(generateFernetKey(), message);
    expect(rejection(() => fernetDecrypt(token, [key]))).toBe('bad-signature');
    expect(rejection(() => fernetDecrypt(token, []))).toBe('bad-signature');
  });

  it('finds the right key among several', () => {
    const others = [generateFernetKey(), generateFernetKey()];
    const token = fernetEncrypt(key, message);
    expect(fernetDecrypt(token, [...others, key]).plaintext).toEqual(message);
  });

  it('refuses any single flipped bit, anywhere in the token', () => {
    const raw = Buffer.from(fernetEncrypt(key, message), 'base64url');
    for (let byte = 0; byte < raw.length; byte++) {
      const tampered = Buffer.from(raw);
      tampered[byte]! ^= 0x01;
      expect(() => fernetDecrypt(tampered.toString('base64url'), [key]), `byte ${byte}`).toThrow(
        InvalidFernetToken,
      );
    }
  });

  it('refuses every truncation and an appended byte', () => {
    const raw = Buffer.from(fernetEncrypt(key, message), 'base64url');
    for (let length = 0; length < raw.length; length++) {
      const truncated = raw.subarray(0, length).toString('base64url');
      expect(() => fernetDecrypt(truncated, [key]), `length ${length}`).toThrow(InvalidFernetToken);
    }
    const extended = Buffer.concat([raw, Buffer.from([0])]).toString('base64url');
    expect(() => fernetDecrypt(extended, [key])).toThrow(InvalidFernetToken);
  });

  it('refuses another version byte even with a valid HMAC over it', () => {
    const token = fernetEncrypt(key, message);
    const raw = Buffer.from(token, 'base64url');
    raw[0] = 0x81;
    expect(rejection(() => fernetDecrypt(raw.toString('base64url'), [key]))).toBe('malformed');
  });

  it('applies the TTL and the clock-skew bound only when a TTL is asked for', () => {
    const issuedAt = new Date('2030-01-01T00:00:00Z');
    const token = fernetEncrypt(key, message, issuedAt);
    const later = (seconds: number) => new Date(issuedAt.getTime() + seconds * 1000);
    expect(fernetDecrypt(token, [key], { ttlSeconds: 60, now: later(60) }).issuedAt).toEqual(issuedAt);
    expect(rejection(() => fernetDecrypt(token, [key], { ttlSeconds: 60, now: later(61) }))).toBe('expired');
    expect(
      rejection(() =>
        fernetDecrypt(token, [key], { ttlSeconds: 60, now: later(-FERNET_MAX_CLOCK_SKEW_SECONDS - 1) }),
      ),
    ).toBe('from-the-future');
    expect(fernetDecrypt(token, [key], { now: later(10 ** 6) }).plaintext).toEqual(message);
  });
});

describe('Fernet keys', () => {
  it('encodes as 44 characters of padded URL-safe base64, as keystone-manage writes them', () => {
    const encoded = generateFernetKey().encode();
    expect(encoded).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(parseFernetKey(encoded).equals(parseFernetKey(encoded))).toBe(true);
  });

  it('parses a key file with a trailing newline or without padding', () => {
    const key = generateFernetKey();
    expect(parseFernetKey(`${key.encode()}\n`).equals(key)).toBe(true);
    expect(parseFernetKey(key.encode().replace(/=$/, '')).equals(key)).toBe(true);
  });

  it('refuses keys of the wrong length or alphabet', () => {
    expect(() => parseFernetKey('')).toThrow(RangeError);
    expect(() => parseFernetKey(Buffer.alloc(16).toString('base64url'))).toThrow(RangeError);
    expect(() => parseFernetKey(Buffer.alloc(32, 0xff).toString('base64'))).toThrow(RangeError);
    expect(() => new FernetKey(Buffer.alloc(31))).toThrow(RangeError);
  });

  it('never shows its bytes when printed or serialised', () => {
    const key = generateFernetKey();
    const secret = key.encode().slice(0, 20);
    expect(JSON.stringify({ key })).not.toContain(secret);
    expect(`${key}`).not.toContain(secret);
    expect(String([key])).not.toContain(secret);
  });
});

// Python's cryptography is what Keystone uses; when it is installed, prove the two agree in
// both directions on random keys and messages, not only on the fixed spec vectors.
const PYTHON_FERNET = `
import json, sys
from cryptography.fernet import Fernet
request = json.load(sys.stdin)
f = Fernet(request["key"].encode())
out = {"token": f.encrypt(bytes.fromhex(request["message"])).decode(),
       "opened": f.decrypt(request["token"].encode()).hex()}
print(json.dumps(out))
`;
const pythonHasCryptography =
  (
    await run(['python3', '-c', 'import cryptography.fernet'], { allowFailure: true }).catch(() => ({
      code: 1,
    }))
  ).code === 0;

describe.skipIf(!pythonHasCryptography)("interoperability with Python's cryptography.fernet", () => {
  it('opens what Python makes, and Python opens what we make', async () => {
    const key = generateFernetKey();
    const ours = Buffer.from('made by Overcast \u2601');
    const theirs = Buffer.from('made by Python');
    const result = await run(['python3', '-c', PYTHON_FERNET], {
      input: JSON.stringify({
        key: key.encode(),
        message: theirs.toString('hex'),
        token: fernetEncrypt(key, ours),
      }),
    });
    const answer = JSON.parse(result.stdout) as { token: string; opened: string };
    expect(Buffer.from(answer.opened, 'hex')).toEqual(ours);
    expect(fernetDecrypt(answer.token, [key]).plaintext).toEqual(theirs);
    expect(fernetDecrypt(answer.token.replace(/=+$/, ''), [key]).plaintext).toEqual(theirs);
  });
});
