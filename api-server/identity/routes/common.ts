// Small pieces the identity routes share: query parsing, 404s worded like Keystone's, and
// turning a duplicate-name insert into Keystone's 409.
import { isUniqueViolation } from '../../../lib/db/errors.js';
import { BadRequest, Conflict, NotFound } from '../../common/errors.js';

/** Keystone's boolean query values: true/True/1/yes and false/False/0/no. */
export function queryBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  const text = String(value).toLowerCase();
  if (['true', '1', 'yes', 'on', ''].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  throw new BadRequest(`Invalid value for ${name}: ${String(value)}.`);
}

export function queryString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function queryList(value: unknown): string[] | undefined {
  return typeof value === 'string' ? value.split(',').filter((part) => part !== '') : undefined;
}

export function found<T>(value: T | undefined, kind: string, id: string): T {
  if (value === undefined) throw new NotFound(`Could not find ${kind}: ${id}.`);
  return value;
}

/** Runs an insert/update; a unique-constraint violation becomes Keystone's 409. */
export async function storeUnique<T>(kind: string, describe: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new Conflict(
        `Conflict occurred attempting to store ${kind} - Duplicate entry found with ${describe}.`,
      );
    }
    throw err;
  }
}

/** Attributes Keystone stores as "extra": whatever the request sent beyond the known ones. */
export function extraOf(body: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !known.includes(key)));
}
