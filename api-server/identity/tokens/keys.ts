// The Fernet key repository, laid out and rotated as `keystone-manage fernet_setup` and
// `fernet_rotate` do, so a Keystone key directory works here and ours works there.
//
// A directory of files named by integers, each holding one key:
//   0        the staged key: not used to issue yet, but accepted, so that every node of a
//            cluster holds it before any node starts issuing with it
//   highest  the primary key: issues tokens
//   others   secondary keys: still accepted, for tokens issued before the last rotations
//
// Rotation promotes the staged key to primary (next number), writes a new staged key, and
// deletes the oldest secondaries so that at most `maxActiveKeys` keys remain, staged included.
// A token therefore stays valid for about (maxActiveKeys - 2) rotations after it was issued:
// rotate less often than expiration / (maxActiveKeys - 2), or tokens die before they expire.
//
// These run from a command line or at startup, never per request, so they are synchronous.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type FernetKey, type FernetKeySet, generateFernetKey, parseFernetKey } from './fernet.js';

export const STAGED_KEY_NUMBER = 0;
/** Keystone's default for [fernet_tokens] max_active_keys. */
export const DEFAULT_MAX_ACTIVE_KEYS = 3;

const KEY_FILE_NAME = /^(0|[1-9][0-9]{0,14})$/;

export class KeyRepositoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRepositoryError';
  }
}

export interface KeyRepositoryState {
  /** Key numbers present afterwards, ascending (0, the staged key, first). */
  keyNumbers: number[];
  /** Number of the primary key. */
  primary: number;
}

export interface Rotation extends KeyRepositoryState {
  /** Key numbers deleted because they fell beyond maxActiveKeys. */
  purged: number[];
}

/**
 * Creates the repository if needed (directory 0700) and makes sure it has a staged key and a
 * primary key: on an empty directory that means keys 0 and 1, as fernet_setup makes. A
 * repository that already has both is left untouched, so running setup again is harmless, and a
 * run cut short (only key 0, or a rotation that stopped before writing the new 0) is completed.
 */
export function setupKeyRepository(dir: string): KeyRepositoryState {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  removeTemporaryKeyFiles(dir);
  let numbers = listKeyNumbers(dir);
  if (!numbers.includes(STAGED_KEY_NUMBER)) {
    writeKeyFile(dir, STAGED_KEY_NUMBER, generateFernetKey());
    syncDirectory(dir);
    numbers = listKeyNumbers(dir);
  }
  if (!numbers.some((n) => n !== STAGED_KEY_NUMBER)) {
    const { keyNumbers, primary } = rotateKeys(dir, DEFAULT_MAX_ACTIVE_KEYS);
    return { keyNumbers, primary };
  }
  return { keyNumbers: numbers, primary: Math.max(...numbers) };
}

/**
 * fernet_rotate: the staged key 0 becomes the primary under the next number, a new staged key 0
 * is written, and the oldest non-staged keys are deleted until maxActiveKeys - 1 remain (so at
 * most maxActiveKeys keys exist, the staged one included) — Keystone's rule. Keystone accepts a
 * maximum of 1 and then deletes the primary it just made; here the minimum is 2.
 *
 * Run it in one place and copy the directory to the other nodes; two rotations running at once
 * on the same directory are not guarded against (nor are they in Keystone).
 */
export function rotateKeys(dir: string, maxActiveKeys = DEFAULT_MAX_ACTIVE_KEYS): Rotation {
  if (!Number.isInteger(maxActiveKeys) || maxActiveKeys < 2) {
    throw new RangeError(
      `maxActiveKeys must be an integer of at least 2 (staged + primary), got ${maxActiveKeys}`,
    );
  }
  const numbers = listKeyNumbers(dir);
  if (!numbers.includes(STAGED_KEY_NUMBER)) {
    throw new KeyRepositoryError(
      `${dir} has no staged key ${STAGED_KEY_NUMBER}; set the repository up first`,
    );
  }
  const newPrimary = Math.max(...numbers) + 1;

  // The next staged key is written aside first, so that between the two renames the only gap
  // is a missing 0 (which setup repairs), never a half-written key file.
  const nextStaged = writeTemporaryKeyFile(dir, generateFernetKey());
  renameSync(join(dir, String(STAGED_KEY_NUMBER)), join(dir, String(newPrimary)));
  renameSync(nextStaged, join(dir, String(STAGED_KEY_NUMBER)));

  const active = [...numbers.filter((n) => n !== STAGED_KEY_NUMBER), newPrimary].sort((a, b) => b - a);
  const purged = active.slice(maxActiveKeys - 1).sort((a, b) => a - b);
  for (const number of purged) unlinkSync(join(dir, String(number)));
  syncDirectory(dir);

  return { keyNumbers: listKeyNumbers(dir), primary: newPrimary, purged };
}

/**
 * Reads every key. The highest number is the primary; `all` lists the primary, then the staged
 * key, then the secondaries newest first — the order worth trying when validating. A repository
 * holding only key 0 uses it as primary, as Keystone does.
 */
export function loadKeys(dir: string): FernetKeySet {
  let numbers: number[];
  try {
    numbers = listKeyNumbers(dir);
  } catch (error) {
    throw new KeyRepositoryError(`cannot read the Fernet key repository ${dir}: ${(error as Error).message}`);
  }
  if (numbers.length === 0)
    throw new KeyRepositoryError(`no Fernet keys in ${dir}; set the repository up first`);

  const read = (number: number): FernetKey => {
    const path = join(dir, String(number));
    try {
      return parseFernetKey(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new KeyRepositoryError(`cannot read the Fernet key ${path}: ${(error as Error).message}`);
    }
  };
  const descending = [...numbers].sort((a, b) => b - a);
  const [primaryNumber, ...rest] = descending as [number, ...number[]];
  const order = [primaryNumber];
  if (rest.includes(STAGED_KEY_NUMBER)) order.push(STAGED_KEY_NUMBER);
  order.push(...rest.filter((n) => n !== STAGED_KEY_NUMBER));
  const all = order.map(read);
  return { primary: all[0]!, all };
}

/**
 * A `() => FernetKeySet` for TokenProvider that reads the repository at most once per
 * `refreshMs`, so keys rotated or copied in by another node are picked up without a restart and
 * without a disk read per request. A failed re-read throws (and is retried on the next call):
 * a repository that vanished should be loud, not silently served from memory.
 */
export function cachedKeyLoader(
  dir: string,
  refreshMs = 30_000,
  clock: () => number = Date.now,
): () => FernetKeySet {
  let keys: FernetKeySet | undefined;
  let loadedAt = 0;
  return () => {
    const now = clock();
    if (!keys || now - loadedAt >= refreshMs) {
      keys = keepIfUnchanged(keys, loadKeys(dir));
      loadedAt = now;
    }
    return keys;
  };
}

/**
 * `previous` when `next` holds the same keys in the same order, else `next`. Keeping the same
 * object tells the token provider its cache of opened tokens is still good.
 */
export function keepIfUnchanged(previous: FernetKeySet | undefined, next: FernetKeySet): FernetKeySet {
  if (!previous || previous.all.length !== next.all.length) return next;
  return previous.all.every((key, index) => key.equals(next.all[index]!)) ? previous : next;
}

function listKeyNumbers(dir: string): number[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && KEY_FILE_NAME.test(entry.name))
    .map((entry) => Number(entry.name))
    .sort((a, b) => a - b);
}

const TEMPORARY_KEY_FILE = /^\.key-[0-9a-f]{12}\.tmp$/;

/** Leftovers of a write that crashed before its rename; never read as keys, but still secrets. */
function removeTemporaryKeyFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (TEMPORARY_KEY_FILE.test(name)) rmSync(join(dir, name), { force: true });
  }
}

/** Writes a key to a hidden temporary file (mode 0600, flushed) and returns its path. */
function writeTemporaryKeyFile(dir: string, key: FernetKey): string {
  const path = join(dir, `.key-${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(path, 'wx', 0o600);
  try {
    // The mode given to open is reduced by the umask; set it outright so it is exactly 0600.
    fchmodSync(fd, 0o600);
    writeSync(fd, key.encode());
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
  return path;
}

function writeKeyFile(dir: string, number: number, key: FernetKey): void {
  renameSync(writeTemporaryKeyFile(dir, key), join(dir, String(number)));
}

/** Makes renames and deletions durable: without it a crash can bring back the old names. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
