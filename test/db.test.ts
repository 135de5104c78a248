// The database layer against both real dialects: one set of scenarios, run on a SQLite file
// and on a fresh database of the kit's MariaDB. What differs between the dialects (how a
// conflict between concurrent transactions is provoked) is said where it differs.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, type DialectName, openDatabase } from '../lib/db/database.js';
import {
  ForeignKeyViolationError,
  isUniqueViolation,
  TransactionConflictError,
  UniqueViolationError,
} from '../lib/db/errors.js';
import {
  MigrationError,
  type MigrationLog,
  migrateToLatest,
  readMigrationStatus,
} from '../lib/db/migrations.js';
import { withTransaction } from '../lib/db/transaction.js';
import { createDatabaseOn } from '../lib/kit/mariadb.js';
import {
  brokenMigrations,
  type CatalogTables,
  catalogMigrations,
  catalogPriceMigration,
  type LedgerTables,
  ledgerMigrations,
} from './fixtures/db/services.js';
import { required } from './harness/inject.js';

interface FreshDatabase {
  url: string;
  dataDir: string;
  drop(): Promise<void>;
}

interface Target {
  dialect: DialectName;
  create(): Promise<FreshDatabase>;
}

const targets: Target[] = [
  {
    dialect: 'sqlite',
    async create() {
      const dataDir = await mkdtemp(join(tmpdir(), 'overcast-db-test-'));
      return {
        url: 'sqlite:overcast.sqlite',
        dataDir,
        drop: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  },
  {
    dialect: 'mysql',
    create: () => freshMysqlDatabase('utf8mb4'),
  },
];

/** A new, empty database on the kit's MariaDB that the kit's unprivileged user may use. */
async function freshMysqlDatabase(characterSet: 'utf8mb4' | 'latin1'): Promise<FreshDatabase> {
  const name = `overcast_test_${randomBytes(4).toString('hex')}`;
  const url = await createDatabaseOn(required('mariadbAdminUrl'), required('mariadbUrl'), name, characterSet);
  return {
    url,
    dataDir: tmpdir(),
    async drop() {
      const dropper = await createConnection({ uri: required('mariadbAdminUrl') });
      await dropper.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await dropper.end();
    },
  };
}

const quietLog: MigrationLog = { info: () => undefined };

/** Resolves for everyone once `parties` callers are waiting; fails instead of hanging. */
function barrier(parties: number, timeoutMs = 15_000): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  let fail!: (err: Error) => void;
  const opened = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  const timer = setTimeout(
    () => fail(new Error(`barrier: only ${arrived} of ${parties} arrived`)),
    timeoutMs,
  );
  return () => {
    arrived++;
    if (arrived === parties) {
      clearTimeout(timer);
      release();
    }
    return opened;
  };
}

describe('a mysql URL with ?socket=', () => {
  it('reaches the server through its unix socket, as the socket account', async () => {
    const fresh = await freshMysqlDatabase('utf8mb4');
    const url = new URL(fresh.url);
    url.searchParams.set('socket', required('mariadbSocketPath'));
    const database = await openDatabase(url.href, { dataDir: fresh.dataDir });
    try {
      const { rows } = await sql<{ account: string }>`SELECT CURRENT_USER() AS account`.execute(database.db);
      // Over TCP the kit's server knows this account as overcast@127.0.0.1.
      expect(rows[0]?.account).toBe('overcast@localhost');
    } finally {
      await database.destroy();
      await fresh.drop();
    }
  });

  it('refuses parameters it does not know, without showing the password', async () => {
    const attempt = openDatabase('mysql://u:secret@127.0.0.1:3306/db?sockt=/tmp/x.sock', {
      dataDir: tmpdir(),
    });
    await expect(attempt).rejects.toThrow(
      'database URL mysql://u:***@127.0.0.1:3306/db?sockt=/tmp/x.sock has unknown parameters: sockt (only socket)',
    );
  });
});

describe.each(targets)('database layer on $dialect', (target) => {
  let fresh: FreshDatabase;
  let database: Database;
  const otherHandles: Database[] = [];

  beforeEach(async () => {
    fresh = await target.create();
    database = await openDatabase(fresh.url, { dataDir: fresh.dataDir });
    expect(database.dialect).toBe(target.dialect);
  });

  afterEach(async () => {
    await Promise.all(otherHandles.splice(0).map((handle) => handle.destroy()));
    await database.destroy();
    await fresh.drop();
  });

  /** A second connection (SQLite) or pool (MySQL) on the same database. */
  async function anotherHandle(): Promise<Database> {
    const handle = await openDatabase(fresh.url, { dataDir: fresh.dataDir });
    otherHandles.push(handle);
    return handle;
  }

  async function tableNames(): Promise<string[]> {
    return (await database.db.introspection.getTables()).map((table) => table.name).sort();
  }

  async function migrateFixtures(): Promise<void> {
    await migrateToLatest(database, [catalogMigrations, ledgerMigrations], quietLog);
  }

  describe('migrations', () => {
    it('migrates two services independently, and a second run changes nothing', async () => {
      const first = await migrateToLatest(database, [catalogMigrations, ledgerMigrations], quietLog);
      expect(first.map(({ service, migration }) => `${service}/${migration}`)).toEqual([
        'catalog/0001_create_products',
        'catalog/0002_create_product_tags',
        'ledger/0001_create_accounts',
      ]);
      expect(await tableNames()).toEqual([
        'catalog_migration_lock',
        'catalog_migrations',
        'catalog_product_tags',
        'catalog_products',
        'ledger_accounts',
        'ledger_migration_lock',
        'ledger_migrations',
      ]);
      expect(await migrateToLatest(database, [catalogMigrations, ledgerMigrations], quietLog)).toEqual([]);
      const statuses = await readMigrationStatus(database, [catalogMigrations, ledgerMigrations]);
      expect(statuses.map((status) => [status.service, status.applied.length, status.pending])).toEqual([
        ['catalog', 2, []],
        ['ledger', 1, []],
      ]);
    });

    it('runs a service added later without touching the ones already migrated', async () => {
      await migrateToLatest(database, [catalogMigrations], quietLog);
      const applied = await migrateToLatest(database, [catalogMigrations, ledgerMigrations], quietLog);
      expect(applied.map((entry) => `${entry.service}/${entry.migration}`)).toEqual([
        'ledger/0001_create_accounts',
      ]);
    });

    it('runs a migration added later alone', async () => {
      await migrateFixtures();
      const catalogLater = {
        ...catalogMigrations,
        migrations: { ...catalogMigrations.migrations, ...catalogPriceMigration },
      };
      const applied = await migrateToLatest(database, [catalogLater, ledgerMigrations], quietLog);
      expect(applied.map((entry) => `${entry.service}/${entry.migration}`)).toEqual([
        'catalog/0003_add_product_price',
      ]);
      const catalog = database.tables<CatalogTables>();
      await catalog
        .insertInto('catalog_products')
        .values({ id: 'p1', name: 'kettle', created_at: '2025-01-01T00:00:00Z', price_cents: 2599 })
        .execute();
      const row = await catalog
        .selectFrom('catalog_products')
        .select('price_cents')
        .executeTakeFirstOrThrow();
      expect(row.price_cents).toBe(2599);
    });

    it('reports the service and migration that failed and keeps the ones before it', async () => {
      const err = await migrateToLatest(
        database,
        [catalogMigrations, brokenMigrations, ledgerMigrations],
        quietLog,
      ).catch((error: unknown) => error);
      expect(err).toBeInstanceOf(MigrationError);
      expect(err).toMatchObject({ service: 'broken', migration: '0002_index_missing_column' });
      expect((err as Error).message).toMatch(
        /^migration 0002_index_missing_column of service broken failed: .*colour/,
      );
      const [catalog, broken, ledger] = await readMigrationStatus(database, [
        catalogMigrations,
        brokenMigrations,
        ledgerMigrations,
      ]);
      expect(catalog?.pending).toEqual([]);
      expect(broken?.applied.map((entry) => entry.name)).toEqual(['0001_create_widgets']);
      expect(broken?.pending).toEqual(['0002_index_missing_column', '0003_never_reached']);
      expect(ledger?.pending).toEqual(['0001_create_accounts']);
      const tables = await tableNames();
      expect(tables).toContain('broken_widgets');
      expect(tables).not.toContain('broken_gadgets');
    });
  });

  describe('transactions', () => {
    beforeEach(migrateFixtures);

    it('commits the work of a transaction that succeeds', async () => {
      const catalog = database.tables<CatalogTables>();
      await withTransaction(catalog, async (trx) => {
        await trx
          .insertInto('catalog_products')
          .values({ id: 'p1', name: 'kettle', created_at: 'now' })
          .execute();
        await trx.insertInto('catalog_product_tags').values({ product_id: 'p1', tag: 'kitchen' }).execute();
      });
      expect(await catalog.selectFrom('catalog_product_tags').selectAll().execute()).toEqual([
        { product_id: 'p1', tag: 'kitchen' },
      ]);
    });

    it('leaves no row behind when the work throws', async () => {
      const catalog = database.tables<CatalogTables>();
      const attempt = withTransaction(catalog, async (trx) => {
        await trx
          .insertInto('catalog_products')
          .values({ id: 'p1', name: 'kettle', created_at: 'now' })
          .execute();
        throw new Error('the image store is full');
      });
      await expect(attempt).rejects.toThrow('the image store is full');
      expect(await catalog.selectFrom('catalog_products').selectAll().execute()).toEqual([]);
    });
  });

  describe('constraint errors', () => {
    beforeEach(migrateFixtures);

    it('reports a duplicate unique name as UniqueViolationError and rolls back the transaction', async () => {
      const catalog = database.tables<CatalogTables>();
      await catalog
        .insertInto('catalog_products')
        .values({ id: 'p1', name: 'kettle', created_at: 'now' })
        .execute();
      const err = await withTransaction(catalog, async (trx) => {
        await trx
          .insertInto('catalog_products')
          .values({ id: 'p2', name: 'toaster', created_at: 'now' })
          .execute();
        await trx
          .insertInto('catalog_products')
          .values({ id: 'p3', name: 'kettle', created_at: 'now' })
          .execute();
      }).catch((error: unknown) => error);
      expect(isUniqueViolation(err)).toBe(true);
      const names = await catalog.selectFrom('catalog_products').select('name').execute();
      expect(names).toEqual([{ name: 'kettle' }]);
    });

    it('reports a duplicate primary key as UniqueViolationError', async () => {
      const catalog = database.tables<CatalogTables>();
      await catalog
        .insertInto('catalog_products')
        .values({ id: 'p1', name: 'kettle', created_at: 'now' })
        .execute();
      await expect(
        catalog
          .insertInto('catalog_products')
          .values({ id: 'p1', name: 'toaster', created_at: 'now' })
          .execute(),
      ).rejects.toBeInstanceOf(UniqueViolationError);
    });

    it('treats names that differ only in case, and non-Latin names, as distinct values kept exactly', async () => {
      const catalog = database.tables<CatalogTables>();
      const names = ['Kettle', 'kettle', 'чайник', '🫖 teapot'];
      for (const [index, name] of names.entries()) {
        await catalog
          .insertInto('catalog_products')
          .values({ id: `p${index}`, name, created_at: 'now' })
          .execute();
      }
      const stored = await catalog.selectFrom('catalog_products').select('name').orderBy('id').execute();
      expect(stored.map((row) => row.name)).toEqual(names);
      const exact = await catalog
        .selectFrom('catalog_products')
        .select('id')
        .where('name', '=', 'kettle')
        .execute();
      expect(exact).toEqual([{ id: 'p1' }]);
    });

    it('reports a reference to a missing row, and deleting a referenced one, as ForeignKeyViolationError', async () => {
      const catalog = database.tables<CatalogTables>();
      await expect(
        catalog.insertInto('catalog_product_tags').values({ product_id: 'missing', tag: 'x' }).execute(),
      ).rejects.toBeInstanceOf(ForeignKeyViolationError);
      // The fixture's foreign key cascades, so deleting the parent takes the tags along.
      await catalog
        .insertInto('catalog_products')
        .values({ id: 'p1', name: 'kettle', created_at: 'now' })
        .execute();
      await catalog.insertInto('catalog_product_tags').values({ product_id: 'p1', tag: 'kitchen' }).execute();
      await catalog.deleteFrom('catalog_products').where('id', '=', 'p1').execute();
      expect(await catalog.selectFrom('catalog_product_tags').selectAll().execute()).toEqual([]);
    });
  });

  describe('conflicts between concurrent transactions', () => {
    beforeEach(async () => {
      await migrateFixtures();
      await database
        .tables<LedgerTables>()
        .insertInto('ledger_accounts')
        .values([
          { id: 'a', owner: 'alice', balance: 0 },
          { id: 'b', owner: 'bob', balance: 0 },
        ])
        .execute();
    });

    async function balances(): Promise<Record<string, number>> {
      const rows = await database.tables<LedgerTables>().selectFrom('ledger_accounts').selectAll().execute();
      return Object.fromEntries(rows.map((row) => [row.id, Number(row.balance)]));
    }

    interface ConflictOutcome {
      /** Attempts of each transaction involved. */
      attempts: number[];
      /** What the transactions that failed threw. */
      errors: unknown[];
    }

    interface Conflict {
      provoke(retryable: boolean): Promise<ConflictOutcome>;
      /** Balances once every transaction's work went through. */
      allWorkDone: Record<string, number>;
      /** Balances when the losing transaction gave up. */
      loserGaveUp: Record<string, number>;
    }

    /**
     * MySQL: two transactions each lock one account and then want the other's. InnoDB sees the
     * deadlock and aborts one of them (ER_LOCK_DEADLOCK); the other goes through.
     */
    const crossedTransfers: Conflict = {
      async provoke(retryable) {
        const bothHoldOneLock = barrier(2);
        const attempts = [0, 0];
        const transfer = (handle: Database, index: number, first: string, second: string) =>
          withTransaction(
            handle.tables<LedgerTables>(),
            async (trx) => {
              attempts[index] = (attempts[index] ?? 0) + 1;
              const credit = (id: string) =>
                trx
                  .updateTable('ledger_accounts')
                  .set((eb) => ({ balance: eb('balance', '+', 1) }))
                  .where('id', '=', id)
                  .execute();
              await credit(first);
              if (attempts[index] === 1) await bothHoldOneLock();
              await credit(second);
            },
            { retryable },
          );
        const other = await anotherHandle();
        const outcomes = await Promise.allSettled([
          transfer(database, 0, 'a', 'b'),
          transfer(other, 1, 'b', 'a'),
        ]);
        return {
          attempts,
          errors: outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : [])),
        };
      },
      allWorkDone: { a: 2, b: 2 },
      loserGaveUp: { a: 1, b: 1 },
    };

    /**
     * SQLite: one connection writes at a time and the other waits (busy_timeout), so there is
     * no deadlock. The conflict is a transaction that read and then wants to write after
     * another connection committed: its snapshot is stale, SQLite answers SQLITE_BUSY_SNAPSHOT.
     */
    const staleSnapshot: Conflict = {
      async provoke(retryable) {
        const other = await anotherHandle();
        let attempts = 0;
        const increment = withTransaction(
          database.tables<LedgerTables>(),
          async (trx) => {
            attempts++;
            const { balance } = await trx
              .selectFrom('ledger_accounts')
              .select('balance')
              .where('id', '=', 'a')
              .executeTakeFirstOrThrow();
            if (attempts === 1) {
              await other
                .tables<LedgerTables>()
                .updateTable('ledger_accounts')
                .set({ balance: 10 })
                .where('id', '=', 'a')
                .execute();
            }
            await trx
              .updateTable('ledger_accounts')
              .set({ balance: Number(balance) + 1 })
              .where('id', '=', 'a')
              .execute();
          },
          { retryable },
        );
        const errors = await increment.then(
          () => [],
          (err: unknown) => [err],
        );
        return { attempts: [1, attempts], errors };
      },
      // The retry read the other connection's 10: no update was lost.
      allWorkDone: { a: 11, b: 0 },
      loserGaveUp: { a: 10, b: 0 },
    };

    const conflict = target.dialect === 'mysql' ? crossedTransfers : staleSnapshot;

    it('runs the losing transaction again when it is retryable', async () => {
      const { attempts, errors } = await conflict.provoke(true);
      expect(errors).toEqual([]);
      expect([...attempts].sort()).toEqual([1, 2]);
      expect(await balances()).toEqual(conflict.allWorkDone);
    });

    it('hands the conflict to the caller when the transaction is not retryable', async () => {
      const { attempts, errors } = await conflict.provoke(false);
      expect(attempts).toEqual([1, 1]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TransactionConflictError);
      expect(await balances()).toEqual(conflict.loserGaveUp);
    });

    if (target.dialect === 'mysql') {
      it('retries a lock wait timeout when retryable', async () => {
        const holder = await anotherHandle();
        const lockTaken = barrier(2);
        let releaseLock!: () => void;
        const lockReleased = new Promise<void>((resolve) => {
          releaseLock = resolve;
        });
        const holding = withTransaction(holder.tables<LedgerTables>(), async (trx) => {
          await trx.updateTable('ledger_accounts').set({ owner: 'holder' }).where('id', '=', 'a').execute();
          await lockTaken();
          await lockReleased;
        });
        await lockTaken();
        let attempts = 0;
        const waiting = withTransaction(
          database.tables<LedgerTables>(),
          async (trx) => {
            attempts++;
            // A session variable of this pooled connection: give up on the lock after a second.
            await sql`SET SESSION innodb_lock_wait_timeout = 1`.execute(trx);
            if (attempts === 2) releaseLock();
            await trx.updateTable('ledger_accounts').set({ owner: 'waiter' }).where('id', '=', 'a').execute();
          },
          { retryable: true },
        );
        await Promise.all([holding, waiting]);
        expect(attempts).toBe(2);
        const row = await database
          .tables<LedgerTables>()
          .selectFrom('ledger_accounts')
          .select('owner')
          .where('id', '=', 'a')
          .executeTakeFirstOrThrow();
        expect(row.owner).toBe('waiter');
      });
    }
  });
});

describe('a MySQL database that is not utf8mb4', () => {
  it('is refused before any migration runs', async () => {
    const fresh = await freshMysqlDatabase('latin1');
    const database = await openDatabase(fresh.url, { dataDir: fresh.dataDir });
    try {
      await expect(migrateToLatest(database, [catalogMigrations], quietLog)).rejects.toThrow(
        /has character set latin1; Overcast needs utf8mb4/,
      );
      expect(await database.db.introspection.getTables()).toEqual([]);
    } finally {
      await database.destroy();
      await fresh.drop();
    }
  });
});
