import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AnyTables, type Database, openDatabase } from './database.js';
import {
  type Migration,
  MigrationError,
  type MigrationLog,
  migrateToLatest,
  migrationStatus,
  pendingMigrations,
  readMigrationStatus,
  type ServiceMigrations,
} from './migrations.js';

function createTable(name: string): Migration {
  return {
    async up(db: Kysely<AnyTables>) {
      await db.schema
        .createTable(name)
        .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
        .execute();
    },
  };
}

const alpha: ServiceMigrations = {
  service: 'alpha',
  // Listed out of order on purpose: names decide the order.
  migrations: {
    '0002_create_alpha_two': createTable('alpha_two'),
    '0001_create_alpha_one': createTable('alpha_one'),
  },
};
const beta: ServiceMigrations = {
  service: 'beta',
  migrations: { '0001_create_beta_one': createTable('beta_one') },
};

let database: Database;
let logged: { fields: Record<string, unknown>; message: string }[];
const log: MigrationLog = { info: (fields, message) => logged.push({ fields, message }) };

async function tableNames(): Promise<string[]> {
  return (await database.db.introspection.getTables()).map((table) => table.name).sort();
}

beforeEach(async () => {
  database = await openDatabase('sqlite::memory:', { dataDir: '/nonexistent' });
  logged = [];
});

afterEach(async () => {
  await database.destroy();
});

describe('migrateToLatest', () => {
  it('runs each service in name order and records it in its own tables', async () => {
    const applied = await migrateToLatest(database, [alpha, beta], log);
    expect(applied.map(({ service, migration }) => `${service}/${migration}`)).toEqual([
      'alpha/0001_create_alpha_one',
      'alpha/0002_create_alpha_two',
      'beta/0001_create_beta_one',
    ]);
    expect(await tableNames()).toEqual([
      'alpha_migration_lock',
      'alpha_migrations',
      'alpha_one',
      'alpha_two',
      'beta_migration_lock',
      'beta_migrations',
      'beta_one',
    ]);
    expect(logged.filter((entry) => entry.message === 'applied migration')).toHaveLength(3);
  });

  it('does nothing the second time', async () => {
    await migrateToLatest(database, [alpha, beta], log);
    logged = [];
    expect(await migrateToLatest(database, [alpha, beta], log)).toEqual([]);
    expect(logged.map((entry) => entry.message)).toEqual(['schema up to date', 'schema up to date']);
  });

  it('runs only the migration a service added since', async () => {
    await migrateToLatest(database, [alpha, beta], log);
    const alphaLater = {
      ...alpha,
      migrations: { ...alpha.migrations, '0003_create_alpha_three': createTable('alpha_three') },
    };
    const applied = await migrateToLatest(database, [alphaLater, beta], log);
    expect(applied.map((entry) => entry.migration)).toEqual(['0003_create_alpha_three']);
  });

  it('names the service and migration that failed and keeps what ran before', async () => {
    const failing: ServiceMigrations = {
      service: 'gamma',
      migrations: {
        '0001_create_gamma_one': createTable('gamma_one'),
        '0002_half_done': {
          async up(db: Kysely<AnyTables>) {
            await db.schema.createTable('gamma_partial').addColumn('id', 'integer').execute();
            throw new Error('disk on fire');
          },
        },
        '0003_create_gamma_three': createTable('gamma_three'),
      },
    };
    const err = await migrateToLatest(database, [alpha, failing, beta], log).catch((error: unknown) => error);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err).toMatchObject({ service: 'gamma', migration: '0002_half_done' });
    expect((err as Error).message).toBe('migration 0002_half_done of service gamma failed: disk on fire');
    const tables = await tableNames();
    expect(tables).toContain('alpha_two');
    expect(tables).toContain('gamma_one');
    // SQLite runs each migration in a transaction: the failing one left nothing behind.
    expect(tables).not.toContain('gamma_partial');
    // Services after the failing one did not run.
    expect(tables).not.toContain('beta_one');
    expect(await pendingMigrations(database, [alpha, failing, beta])).toEqual([
      'gamma/0002_half_done',
      'gamma/0003_create_gamma_three',
      'beta/0001_create_beta_one',
    ]);
  });

  it('refuses a migration named before one that already ran', async () => {
    await migrateToLatest(database, [alpha], log);
    const reordered = {
      ...alpha,
      migrations: { ...alpha.migrations, '0000_too_late': createTable('alpha_zero') },
    };
    const err = await migrateToLatest(database, [reordered], log).catch((error: unknown) => error);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).message).toMatch(
      /^migrations of service alpha cannot run: corrupted migrations/,
    );
  });

  it('rejects service names that cannot prefix a table, and duplicates', async () => {
    await expect(migrateToLatest(database, [{ service: 'Bad-Name', migrations: {} }], log)).rejects.toThrow(
      /invalid service name "Bad-Name"/,
    );
    await expect(migrateToLatest(database, [alpha, alpha], log)).rejects.toThrow(/registered twice/);
  });
});

describe('migration status', () => {
  it('lists applied, pending and unknown migrations per service', async () => {
    await migrateToLatest(
      database,
      [{ ...alpha, migrations: { '0001_create_alpha_one': createTable('alpha_one') } }],
      log,
    );
    const older = { service: 'alpha', migrations: {} };
    const [alphaStatus, betaStatus] = await readMigrationStatus(database, [alpha, beta]);
    expect(alphaStatus?.applied.map((entry) => entry.name)).toEqual(['0001_create_alpha_one']);
    expect(alphaStatus?.applied[0]?.appliedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(alphaStatus?.pending).toEqual(['0002_create_alpha_two']);
    expect(alphaStatus?.unknown).toEqual([]);
    expect(betaStatus).toEqual({
      service: 'beta',
      applied: [],
      pending: ['0001_create_beta_one'],
      unknown: [],
    });
    const [olderStatus] = await readMigrationStatus(database, [older]);
    expect(olderStatus?.unknown).toEqual(['0001_create_alpha_one']);
  });

  it('prints one line per migration for db-version', async () => {
    await migrateToLatest(database, [beta], log);
    const lines = await migrationStatus(database, [alpha, beta, { service: 'empty', migrations: {} }]);
    expect(lines).toEqual([
      'alpha 0001_create_alpha_one pending',
      'alpha 0002_create_alpha_two pending',
      expect.stringMatching(/^beta 0001_create_beta_one applied \d{4}-/),
      'empty (no migrations)',
    ]);
  });
});
