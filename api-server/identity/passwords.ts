// Password and secret hashing. bcrypt, as Keystone uses by default, at a configurable cost;
// the hash records its own algorithm and cost ($2b$12$...), so raising the cost later keeps
// old hashes verifiable. Hashing runs on libuv's thread pool, so checks use every core
// without blocking the event loop. @node-rs/bcrypt is used because it is the fastest
// implementation at hand (a little faster per check than the C one Keystone's python3-bcrypt
// uses): password logins are bound by nothing else.
import { hash, verify } from '@node-rs/bcrypt';

/** bcrypt looks at the first 72 bytes only; Keystone refuses longer passwords the same way. */
export const MAX_PASSWORD_BYTES = 72;

export function hashPassword(password: string, rounds: number): Promise<string> {
  return hash(password, { cost: rounds });
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  return verify(password, stored);
}
