// Schema migrations, per service. Each service (identity, image, compute, network,
// placement, ...) owns its tables and its list of migrations, recorded in its own
// `<service>_migrations` table behind its own `<service>_migration_lock`, so services evolve
// independently: adding a migration to one never reorders or blocks another's.
//
// Writing a migration that runs the same on SQLite and on MySQL/MariaDB:
//
//  - Name migrations so they sort in the order they must run: `0001_create_projects`,
//    `0002_add_project_tags`. A migration that has run is never edited or renamed; change the
//    schema with a new one.
//  - Use kysely's schema builder (db.schema.createTable/alterTable/createIndex), not raw SQL,
//    and only types both dialects know: varchar(n), text, integer, bigint, real/double
//    precision, blob. No SQLite-only spellings (`TEXT` affinity tricks, `WITHOUT ROWID`) and no
//    MySQL-only ones (enum, set, unsigned, `ON UPDATE CURRENT_TIMESTAMP`).
//  - A column that is part of a primary key, unique constraint or index is varchar(n), never
//    text: MySQL cannot index text without a prefix length, and an index key must stay under
//    3072 bytes at 4 bytes per utf8mb4 character — varchar(255) alone is 1020, so a composite
//    key fits about three of them. Ids are varchar(36) (UUIDs) or varchar(64).
//  - SQLite does not enforce varchar lengths and MySQL (strict sql_mode) rejects longer
//    values: validate lengths in the API schema, so both dialects see only values that fit.
//  - Booleans are integer 0/1 (better-sqlite3 cannot bind JavaScript booleans; MySQL's boolean
//    is tinyint(1) anyway), converted in the service's store.
//  - Timestamps are ISO-8601 UTC strings in varchar(32), written by the application: they
//    sort correctly as text and come back identical from both drivers (dates would come back
//    as strings from SQLite and Date objects from mysql2).
//  - Declare foreign keys in createTable: SQLite cannot add a constraint to an existing
//    table. Referencing and referenced columns have the same type and length (MySQL insists).
//  - SQLite's ALTER TABLE only adds, renames and drops columns. To change a column's type or
//    constraints, create the new table, copy the rows, drop the old table and rename.
//  - Comparisons are case-sensitive on both: SQLite compares bytes, and the MySQL databases
//    are created utf8mb4 with utf8mb4_bin collation (a database with another character set is
//    refused before migrating).
//  - On SQLite each migration runs in its own transaction, so a failing one leaves nothing
//    behind. MySQL commits every DDL statement on its own: a migration that fails halfway
//    keeps its earlier statements. Prefer one DDL statement per migration where a partial run
//    would hurt, and make re-runs harmless (ifNotExists) where it cannot be avoided.
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { AnyTables, Database } from './database.js';

export type { Migration };

export interface ServiceMigrations {
  /** Lower-case identifier; prefixes the service's migration tables. */
  service: string;
  /** By name; they run in the sort order of their names. */
  migrations: Record<string, Migration>;
}

/** What migrateToLatest ran, in order. */
export interface AppliedMigration {
  service: string;
  migration: string;
  durationMs: number;
}

/** Where migrateToLatest reports progress: a pino logger fits. */
export interface MigrationLog {
  info(fields: Record<string, unknown>, message: string): void;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
  constructor(
    readonly service: string,
    /** The migration that failed; undefined when the service's migrations could not start. */
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      migration
        ? `migration ${migration} of service ${service} failed: ${reason}`
        : `migrations of service ${service} cannot run: ${reason}`,
      { cause },
    );
  }
}

export interface ServiceMigrationStatus {
  service: string;
  /** Migrations recorded as run, in order, with when they ran. */
  applied: { name: string; appliedAt: string }[];
  /** Known migrations that have not run yet. */
  pending: string[];
  /** Recorded as run but unknown to this code: the database is newer than the program. */
  unknown: string[];
}

/** mysql: a table name is at most 64 characters, and `_migration_lock` takes 15 of them. */
const SERVICE_NAME = /^[a-z][a-z0-9_]{0,47}$/;

export function migrationTableNames(service: string): { table: string; lockTable: string } {
  return { table: `${service}_migrations`, lockTable: `${service}_migration_lock` };
}

/**
 * Brings every service's schema up to date, one service after another in the given order,
 * one migration at a time. Running it again when nothing is pending changes nothing. On the
 * first failure it throws a MigrationError naming the service and the migration; what ran
 * before it stays applied and recorded.
 */
export async function migrateToLatest(
  database: Database,
  services: readonly ServiceMigrations[],
  log: MigrationLog,
): Promise<AppliedMigration[]> {
  checkServiceNames(services);
  await checkCharacterSet(database);
  const applied: AppliedMigration[] = [];
  for (const service of services) {
    const migrator = serviceMigrator(database, service);
    let ranForService = 0;
    // One step at a time rather than migrator.migrateToLatest(): each step is its own unit,
    // so a failure keeps everything before it on both dialects alike.
    for (;;) {
      const started = performance.now();
      const { error, results } = await migrator.migrateUp();
      const failed = results?.find((result) => result.status === 'Error');
      if (error !== undefined || failed) {
        throw new MigrationError(service.service, failed?.migrationName, error);
      }
      const ran = results?.find((result) => result.status === 'Success');
      if (!ran) break;
      const durationMs = Math.round(performance.now() - started);
      applied.push({ service: service.service, migration: ran.migrationName, durationMs });
      ranForService++;
      log.info({ service: service.service, migration: ran.migrationName, durationMs }, 'applied migration');
    }
    log.info(
      { service: service.service, applied: ranForService, total: Object.keys(service.migrations).length },
      ranForService > 0 ? 'schema migrated' : 'schema up to date',
    );
  }
  return applied;
}

/** Per service: what has run, what is pending, and what this code does not know. */
export async function readMigrationStatus(
  database: Database,
  services: readonly ServiceMigrations[],
): Promise<ServiceMigrationStatus[]> {
  checkServiceNames(services);
  const tables = new Set((await database.db.introspection.getTables()).map((table) => table.name));
  const statuses: ServiceMigrationStatus[] = [];
  for (const service of services) {
    const { table } = migrationTableNames(service.service);
    const recorded = tables.has(table)
      ? await database.db
          .selectFrom(table)
          .select(['name', 'timestamp'])
          .orderBy('timestamp')
          .orderBy('name')
          .execute()
      : [];
    const recordedNames = new Set(recorded.map((row) => String(row.name)));
    const known = Object.keys(service.migrations).sort();
    const knownNames = new Set(known);
    statuses.push({
      service: service.service,
      applied: recorded.map((row) => ({ name: String(row.name), appliedAt: String(row.timestamp) })),
      pending: known.filter((name) => !recordedNames.has(name)),
      unknown: [...recordedNames].filter((name) => !knownNames.has(name)),
    });
  }
  return statuses;
}

/**
 * The `db-version` report, one line per migration: `<service> <migration> applied <when>`,
 * `... pending`, or `... unknown-to-this-version`; a service with no migrations gets one line.
 */
export async function migrationStatus(
  database: Database,
  services: readonly ServiceMigrations[],
): Promise<string[]> {
  const lines: string[] = [];
  for (const status of await readMigrationStatus(database, services)) {
    for (const { name, appliedAt } of status.applied) {
      lines.push(
        `${status.service} ${name} ${status.unknown.includes(name) ? 'unknown-to-this-version' : 'applied'} ${appliedAt}`,
      );
    }
    for (const name of status.pending) lines.push(`${status.service} ${name} pending`);
    if (status.applied.length === 0 && status.pending.length === 0)
      lines.push(`${status.service} (no migrations)`);
  }
  return lines;
}

/** `<service>/<migration>` of every migration that has not run yet, in the order they would. */
export async function pendingMigrations(
  database: Database,
  services: readonly ServiceMigrations[],
): Promise<string[]> {
  const statuses = await readMigrationStatus(database, services);
  return statuses.flatMap((status) => status.pending.map((name) => `${status.service}/${name}`));
}

function serviceMigrator(database: Database, service: ServiceMigrations): Migrator {
  const { table, lockTable } = migrationTableNames(service.service);
  const migrations =
    database.dialect === 'sqlite' ? inTransactions(service.migrations) : { ...service.migrations };
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  return new Migrator({
    db: database.db,
    provider,
    migrationTableName: table,
    migrationLockTableName: lockTable,
  });
}

/**
 * kysely runs SQLite migrations without a transaction; SQLite's DDL is transactional, so each
 * migration gets one and a failing migration leaves no half-made schema.
 */
function inTransactions(migrations: Record<string, Migration>): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(migrations).map(([name, migration]) => [
      name,
      {
        up: (db: Kysely<AnyTables>) => db.transaction().execute((trx) => migration.up(trx)),
        ...(migration.down
          ? { down: (db: Kysely<AnyTables>) => db.transaction().execute((trx) => migration.down!(trx)) }
          : {}),
      },
    ]),
  );
}

function checkServiceNames(services: readonly ServiceMigrations[]): void {
  const seen = new Set<string>();
  for (const { service } of services) {
    if (!SERVICE_NAME.test(service)) {
      throw new Error(
        `invalid service name ${JSON.stringify(service)} for migrations: use [a-z][a-z0-9_]{0,47}`,
      );
    }
    if (seen.has(service)) throw new Error(`migrations of service ${service} are registered twice`);
    seen.add(service);
  }
}

/**
 * Tables take the database's default character set; in anything but utf8mb4 a project name
 * with an emoji would be rejected (or mangled), so such a database is refused up front.
 */
async function checkCharacterSet(database: Database): Promise<void> {
  if (database.dialect !== 'mysql') return;
  const { rows } = await sql<{ name: string; charset: string }>`
    select database() as name, @@character_set_database as charset`.execute(database.db);
  const row = rows[0];
  if (row && row.charset !== 'utf8mb4') {
    throw new Error(
      `database ${row.name} has character set ${row.charset}; Overcast needs utf8mb4 ` +
        `(ALTER DATABASE \`${row.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)`,
    );
  }
}
