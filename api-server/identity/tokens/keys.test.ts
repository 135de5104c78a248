import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fernetDecrypt,
  fernetEncrypt,
  generateFernetKey,
  InvalidFernetToken,
  parseFernetKey,
} from './fernet.js';
import { cachedKeyLoader, KeyRepositoryError, loadKeys, rotateKeys, setupKeyRepository } from './keys.js';

let scratch: string;
let repo: string;

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'overcast-fernet-keys-'));
  repo = join(scratch, 'fernet-keys');
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

const keyFiles = (dir = repo) => readdirSync(dir).sort((a, b) => Number(a) - Number(b));
const keyText = (number: number, dir = repo) => readFileSync(join(dir, String(number)), 'utf8');
const mode = (path: string) => statSync(path).mode & 0o777;

describe('setting up a key repository', () => {
  it('creates a private directory with a staged key 0 and a primary key 1, like fernet_setup', () => {
    expect(setupKeyRepository(repo)).toEqual({ keyNumbers: [0, 1], primary: 1 });
    expect(keyFiles()).toEqual(['0', '1']);
    expect(mode(repo)).toBe(0o700);
    for (const file of keyFiles()) {
      expect(mode(join(repo, file))).toBe(0o600);
      expect(keyText(Number(file))).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    }
    expect(keyText(0)).not.toBe(keyText(1));
  });

  it('leaves a set-up repository exactly as it is when run again', () => {
    setupKeyRepository(repo);
    rotateKeys(repo);
    const before = keyFiles().map((f) => [f, keyText(Number(f))]);
    expect(setupKeyRepository(repo)).toEqual({ keyNumbers: [0, 1, 2], primary: 2 });
    expect(keyFiles().map((f) => [f, keyText(Number(f))])).toEqual(before);
  });

  it('completes a repository left with only a staged key or without one', () => {
    mkdirSync(repo);
    const staged = generateFernetKey().encode();
    writeFileSync(join(repo, '0'), staged);
    expect(setupKeyRepository(repo).keyNumbers).toEqual([0, 1]);
    expect(keyText(1)).toBe(staged);

    rmSync(join(repo, '0'));
    expect(setupKeyRepository(repo).keyNumbers).toEqual([0, 1]);
    expect(keyText(1)).toBe(staged);
  });

  it('removes key files left half-written by a crash', () => {
    mkdirSync(repo);
    writeFileSync(join(repo, '.key-0123456789ab.tmp'), 'half');
    setupKeyRepository(repo);
    expect(readdirSync(repo).sort()).toEqual(['0', '1']);
  });
});

describe('rotating keys', () => {
  it('promotes the staged key to primary under the next number and stages a new key', () => {
    setupKeyRepository(repo);
    const staged = keyText(0);
    const primary = keyText(1);
    expect(rotateKeys(repo)).toEqual({ keyNumbers: [0, 1, 2], primary: 2, purged: [] });
    expect(keyText(2)).toBe(staged);
    expect(keyText(1)).toBe(primary);
    expect(keyText(0)).not.toBe(staged);
    expect(mode(join(repo, '0'))).toBe(0o600);
  });

  it('keeps at most maxActiveKeys keys, the staged one included, deleting the oldest', () => {
    setupKeyRepository(repo);
    rotateKeys(repo, 3);
    expect(rotateKeys(repo, 3)).toEqual({ keyNumbers: [0, 2, 3], primary: 3, purged: [1] });
    expect(rotateKeys(repo, 3)).toEqual({ keyNumbers: [0, 3, 4], primary: 4, purged: [2] });
    expect(rotateKeys(repo, 5)).toEqual({ keyNumbers: [0, 3, 4, 5], primary: 5, purged: [] });
    // Lowering the maximum purges everything beyond it at once.
    expect(rotateKeys(repo, 2)).toEqual({ keyNumbers: [0, 6], primary: 6, purged: [3, 4, 5] });
  });

  it('keeps numbering from the highest key, even after gaps', () => {
    mkdirSync(repo);
    for (const number of [0, 7, 9]) writeFileSync(join(repo, String(number)), generateFernetKey().encode());
    expect(rotateKeys(repo, 3)).toEqual({ keyNumbers: [0, 9, 10], primary: 10, purged: [7] });
  });

  it('refuses to rotate without a staged key or with fewer than two active keys', () => {
    mkdirSync(repo);
    writeFileSync(join(repo, '1'), generateFernetKey().encode());
    expect(() => rotateKeys(repo)).toThrow(KeyRepositoryError);
    setupKeyRepository(repo);
    expect(() => rotateKeys(repo, 1)).toThrow(RangeError);
    expect(keyFiles()).toEqual(['0', '1']);
  });

  it('still accepts a token issued with the old primary after one rotation, not after enough of them', () => {
    setupKeyRepository(repo);
    const token = fernetEncrypt(loadKeys(repo).primary, Buffer.from('issued before rotating'));
    rotateKeys(repo, 3);
    expect(fernetDecrypt(token, loadKeys(repo).all).plaintext.toString()).toBe('issued before rotating');
    rotateKeys(repo, 3);
    expect(() => fernetDecrypt(token, loadKeys(repo).all)).toThrow(InvalidFernetToken);
  });

  it('lets a node that has not rotated yet accept tokens from one that has, through the staged key', () => {
    setupKeyRepository(repo);
    const laggingNode = join(scratch, 'lagging-node');
    cpSync(repo, laggingNode, { recursive: true });
    rotateKeys(repo);
    const token = fernetEncrypt(loadKeys(repo).primary, Buffer.from('from the rotated node'));
    expect(fernetDecrypt(token, loadKeys(laggingNode).all).plaintext.toString()).toBe(
      'from the rotated node',
    );
  });
});

describe('loading keys', () => {
  it('puts the primary first, then the staged key, then the secondaries newest first', () => {
    setupKeyRepository(repo);
    rotateKeys(repo, 4);
    rotateKeys(repo, 4);
    expect(keyFiles()).toEqual(['0', '1', '2', '3']);
    const keys = loadKeys(repo);
    const expected = [3, 0, 2, 1].map((n) => parseFernetKey(keyText(n)));
    expect(keys.all.length).toBe(4);
    for (const [i, key] of keys.all.entries()) {
      expect(key.equals(expected[i]!), `position ${i}`).toBe(true);
    }
    expect(keys.primary.equals(expected[0]!)).toBe(true);
  });

  it('ignores files and folders that are not key numbers', () => {
    setupKeyRepository(repo);
    writeFileSync(join(repo, '01'), 'not a key');
    writeFileSync(join(repo, 'README'), 'not a key');
    writeFileSync(join(repo, '5.bak'), 'not a key');
    mkdirSync(join(repo, '7'));
    expect(loadKeys(repo).all.length).toBe(2);
    expect(rotateKeys(repo).primary).toBe(2);
  });

  it('reads keys written by Keystone, a trailing newline included', () => {
    mkdirSync(repo);
    const keystoneKey = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
    writeFileSync(join(repo, '0'), `${generateFernetKey().encode()}\n`);
    writeFileSync(join(repo, '1'), `${keystoneKey}\n`);
    expect(loadKeys(repo).primary.equals(parseFernetKey(keystoneKey))).toBe(true);
  });

  it('names the problem when the repository is missing, empty or holds a bad key', () => {
    expect(() => loadKeys(repo)).toThrow(/cannot read the Fernet key repository/);
    mkdirSync(repo);
    expect(() => loadKeys(repo)).toThrow(/no Fernet keys/);
    writeFileSync(join(repo, '0'), generateFernetKey().encode());
    writeFileSync(join(repo, '1'), 'garbage');
    expect(() => loadKeys(repo)).toThrow(new RegExp(`${join(repo, '1')}`));
  });

  it('re-reads a repository through the cached loader only once its refresh time has passed', () => {
    setupKeyRepository(repo);
    let now = 1_000;
    const keys = cachedKeyLoader(repo, 30_000, () => now);
    const first = keys();
    rotateKeys(repo);
    now += 29_999;
    expect(keys()).toBe(first);
    now += 1;
    expect(keys().primary.equals(first.primary)).toBe(false);
    expect(keys().primary.equals(parseFernetKey(keyText(2)))).toBe(true);
  });

  it('hands out the same key set object while the repository holds the same keys', () => {
    setupKeyRepository(repo);
    const keys = cachedKeyLoader(repo, 0);
    const first = keys();
    expect(keys()).toBe(first);
    rotateKeys(repo);
    const rotated = keys();
    expect(rotated).not.toBe(first);
    expect(keys()).toBe(rotated);
  });
});
