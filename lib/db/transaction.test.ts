import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from './database.js';
import { TransactionConflictError } from './errors.js';
import { withTransaction } from './transaction.js';

interface Tables {
  ports: { id: string; mac: string };
}

let database: Database;

async function createPorts(target: Database): Promise<void> {
  await target.db.schema
    .createTable('ports')
    .ifNotExists()
    .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
    .addColumn('mac', 'varchar(17)', (column) => column.notNull().unique())
    .execute();
}

async function portIds(target: Database): Promise<string[]> {
  const rows = await target.tables<Tables>().selectFrom('ports').select('id').orderBy('id').execute();
  return rows.map((row) => row.id);
}

beforeEach(async () => {
  database = await openDatabase('sqlite::memory:', { dataDir: '/nonexistent' });
  await createPorts(database);
});

afterEach(async () => {
  await database.destroy();
});

describe('withTransaction', () => {
  it('commits every write when the work succeeds and returns its result', async () => {
    const result = await withTransaction(database.tables<Tables>(), async (trx) => {
      await trx.insertInto('ports').values({ id: 'a', mac: 'fa:16:3e:00:00:01' }).execute();
      await trx.insertInto('ports').values({ id: 'b', mac: 'fa:16:3e:00:00:02' }).execute();
      return 'created';
    });
    expect(result).toBe('created');
    expect(await portIds(database)).toEqual(['a', 'b']);
  });

  it('rolls back every write and rethrows when the work throws', async () => {
    const failure = new Error('quota exceeded after the first port');
    const attempt = withTransaction(database.tables<Tables>(), async (trx) => {
      await trx.insertInto('ports').values({ id: 'a', mac: 'fa:16:3e:00:00:01' }).execute();
      throw failure;
    });
    await expect(attempt).rejects.toBe(failure);
    expect(await portIds(database)).toEqual([]);
  });

  it('joins the transaction it is given, so a later failure undoes the inner work too', async () => {
    const attempt = withTransaction(database.tables<Tables>(), async (outer) => {
      await withTransaction(outer, async (inner) => {
        expect(inner).toBe(outer);
        await inner.insertInto('ports').values({ id: 'inner', mac: 'fa:16:3e:00:00:03' }).execute();
      });
      throw new Error('outer work fails afterwards');
    });
    await expect(attempt).rejects.toThrow('outer work fails afterwards');
    expect(await portIds(database)).toEqual([]);
  });

  it('does not retry a conflict unless the work is declared retryable', async () => {
    let attempts = 0;
    const attempt = withTransaction(database.db, async () => {
      attempts++;
      throw new TransactionConflictError('busy', { cause: undefined });
    });
    await expect(attempt).rejects.toBeInstanceOf(TransactionConflictError);
    expect(attempts).toBe(1);
  });

  it('retries a retryable conflict a bounded number of times, reporting each retry', async () => {
    let attempts = 0;
    const retries: number[] = [];
    const attempt = withTransaction(
      database.tables<Tables>(),
      async (trx) => {
        attempts++;
        await trx
          .insertInto('ports')
          .values({ id: `try-${attempts}`, mac: `fa:16:3e:00:01:0${attempts}` })
          .execute();
        throw new TransactionConflictError('deadlock', { cause: undefined });
      },
      { retryable: true, maxAttempts: 3, onRetry: (_err, attemptNumber) => retries.push(attemptNumber) },
    );
    await expect(attempt).rejects.toBeInstanceOf(TransactionConflictError);
    expect(attempts).toBe(3);
    expect(retries).toEqual([1, 2]);
    expect(await portIds(database)).toEqual([]);
  });

  it('does not retry other errors even when retryable', async () => {
    await database.db.insertInto('ports').values({ id: 'a', mac: 'fa:16:3e:00:00:01' }).execute();
    let attempts = 0;
    const attempt = withTransaction(
      database.tables<Tables>(),
      async (trx) => {
        attempts++;
        await trx.insertInto('ports').values({ id: 'b', mac: 'fa:16:3e:00:00:01' }).execute();
      },
      { retryable: true },
    );
    await expect(attempt).rejects.toThrow(/unique constraint violated/);
    expect(attempts).toBe(1);
  });
});

describe('withTransaction against a real SQLite conflict', () => {
  let dataDir: string;
  let first: Database;
  let second: Database;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'overcast-trx-'));
    first = await openDatabase('sqlite:conflict.sqlite', { dataDir });
    second = await openDatabase('sqlite:conflict.sqlite', { dataDir });
    await createPorts(first);
  });

  afterEach(async () => {
    await first.destroy();
    await second.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  // A transaction reads, another connection commits a write, then the first one writes: its
  // snapshot is stale and SQLite answers SQLITE_BUSY_SNAPSHOT at once (no busy wait helps).
  async function readThenWriteAfterAnotherCommit(retryable: boolean): Promise<number> {
    let attempts = 0;
    await withTransaction(
      second.tables<Tables>(),
      async (trx) => {
        attempts++;
        await trx.selectFrom('ports').select('id').execute();
        if (attempts === 1) {
          await first
            .tables<Tables>()
            .insertInto('ports')
            .values({ id: 'other', mac: 'fa:16:3e:00:00:09' })
            .execute();
        }
        await trx.insertInto('ports').values({ id: 'mine', mac: 'fa:16:3e:00:00:0a' }).execute();
      },
      { retryable },
    );
    return attempts;
  }

  it('fails with TransactionConflictError when not retryable', async () => {
    await expect(readThenWriteAfterAnotherCommit(false)).rejects.toBeInstanceOf(TransactionConflictError);
    expect(await portIds(first)).toEqual(['other']);
  });

  it('succeeds on the second attempt when retryable', async () => {
    expect(await readThenWriteAfterAnotherCommit(true)).toBe(2);
    expect(await portIds(first)).toEqual(['mine', 'other']);
  });
});
