// Application credentials: a secret (stored hashed) that authenticates as its user, scoped to
// one project with a subset of the user's roles there.
import { fromBit, fromJsonColumn, isoNow, toBit } from '../../lib/db/columns.js';
import type { IdentityDb } from './store.js';
import type { IdentityTables } from './tables.js';

export interface ApplicationCredentialRecord {
  id: string;
  name: string;
  userId: string;
  projectId: string;
  secretHash: string;
  description: string | null;
  expiresAt: Date | null;
  /** expires_at as Keystone shows it: naive UTC with microseconds, exactly as the caller gave it. */
  expiresAtText: string | null;
  /** Restricted credentials (the default) may not create other credentials or trusts. */
  unrestricted: boolean;
  roleIds: string[];
}

const toApplicationCredential = (
  row: IdentityTables['identity_application_credential'],
): ApplicationCredentialRecord => ({
  id: row.id,
  name: row.name,
  userId: row.user_id,
  projectId: row.project_id,
  secretHash: row.secret_hash,
  description: row.description,
  expiresAt: row.expires_at ? new Date(`${row.expires_at}Z`) : null,
  expiresAtText: row.expires_at,
  unrestricted: fromBit(row.unrestricted),
  roleIds: fromJsonColumn<string[]>(row.role_ids),
});

/**
 * Keystone's rendering of an expiry: UTC without a zone suffix and with six fractional
 * digits. Microseconds the caller sent are kept (a JavaScript Date would drop them), so the
 * value reads back exactly as it was given. Undefined for text that is no timestamp.
 */
export function keystoneExpiry(text: string): string | undefined {
  const utc = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:Z|[+-]00:?00)?$/.exec(text);
  if (utc) return `${utc[1]}.${(utc[2] ?? '').padEnd(6, '0')}`;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export async function insertApplicationCredential(
  db: IdentityDb,
  credential: ApplicationCredentialRecord,
): Promise<void> {
  await db
    .insertInto('identity_application_credential')
    .values({
      id: credential.id,
      name: credential.name,
      user_id: credential.userId,
      project_id: credential.projectId,
      secret_hash: credential.secretHash,
      description: credential.description,
      expires_at: credential.expiresAtText,
      unrestricted: toBit(credential.unrestricted),
      role_ids: JSON.stringify(credential.roleIds),
      created_at: isoNow(),
    })
    .execute();
}

export async function getApplicationCredential(
  db: IdentityDb,
  id: string,
): Promise<ApplicationCredentialRecord | undefined> {
  const row = await db
    .selectFrom('identity_application_credential')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toApplicationCredential(row);
}

export async function listApplicationCredentials(
  db: IdentityDb,
  filter: { userId: string; name?: string },
): Promise<ApplicationCredentialRecord[]> {
  let query = db
    .selectFrom('identity_application_credential')
    .selectAll()
    .where('user_id', '=', filter.userId)
    .orderBy('name');
  if (filter.name !== undefined) query = query.where('name', '=', filter.name);
  return (await query.execute()).map(toApplicationCredential);
}

export async function deleteApplicationCredential(db: IdentityDb, id: string): Promise<void> {
  await db.deleteFrom('identity_application_credential').where('id', '=', id).execute();
}
