// Password and secret hashing. bcrypt, as Keystone uses by default, at a configurable cost;
// the hash records its own algorithm and cost ($2b$12$...), so raising the cost later keeps
// old hashes verifiable. bcrypt runs on libuv's thread pool, so checks use every core
// without blocking the event loop.
import bcrypt from 'bcrypt';

/** bcrypt looks at the first 72 bytes only; Keystone refuses longer passwords the same way. */
export const MAX_PASSWORD_BYTES = 72;

export function hashPassword(password: string, rounds: number): Promise<string> {
  return bcrypt.hash(password, rounds);
}

export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  if (!hash) return false;
  return bcrypt.compare(password, hash);
}
