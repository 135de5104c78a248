import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../kit/common.js';
import { type Database, openDatabase, redactUrl } from './database.js';

let dataDir: string;
const opened: Database[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'overcast-db-'));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((database) => database.destroy()));
  await rm(dataDir, { recursive: true, force: true });
});

async function open(url: string): Promise<Database> {
  const database = await openDatabase(url, { dataDir });
  opened.push(database);
  return database;
}

async function pragma(database: Database, name: string): Promise<unknown> {
  const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(database.db);
  return Object.values(rows[0] ?? {})[0];
}

describe('openDatabase on SQLite', () => {
  it('opens a private in-memory database for sqlite::memory:', async () => {
    const first = await open('sqlite::memory:');
    const second = await open('sqlite::memory:');
    expect(first.dialect).toBe('sqlite');
    await first.db.schema.createTable('only_in_first').addColumn('id', 'integer').execute();
    const tablesOfSecond = await second.db.introspection.getTables();
    expect(tablesOfSecond.map((table) => table.name)).not.toContain('only_in_first');
  });

  it('puts a relative path under the data directory, creating folders, in WAL mode', async () => {
    const database = await open('sqlite:state/overcast.sqlite');
    await database.db.schema.createTable('probe').addColumn('id', 'integer').execute();
    expect(existsSync(join(dataDir, 'state', 'overcast.sqlite'))).toBe(true);
    expect(await pragma(database, 'journal_mode')).toBe('wal');
  });

  it('takes an absolute path as it is', async () => {
    const file = join(dataDir, 'elsewhere', 'absolute.sqlite');
    await open(`sqlite:${file}`);
    expect(existsSync(file)).toBe(true);
  });

  it('enforces foreign keys and waits for busy locks', async () => {
    const database = await open('sqlite::memory:');
    expect(await pragma(database, 'foreign_keys')).toBe(1);
    expect(await pragma(database, 'busy_timeout')).toBe(5000);
  });

  it('shares one handle between the untyped and the typed view', async () => {
    const database = await open('sqlite::memory:');
    await database.db.schema
      .createTable('projects')
      .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
      .addColumn('name', 'varchar(255)')
      .execute();
    const typed = database.tables<{ projects: { id: string; name: string } }>();
    await typed.insertInto('projects').values({ id: 'p1', name: 'demo' }).execute();
    const rows = await database.db.selectFrom('projects').selectAll().execute();
    expect(rows).toEqual([{ id: 'p1', name: 'demo' }]);
  });

  it('can be destroyed twice', async () => {
    const database = await openDatabase('sqlite::memory:', { dataDir });
    await database.destroy();
    await expect(database.destroy()).resolves.toBeUndefined();
  });
});

describe('openDatabase refuses what it cannot open', () => {
  it('rejects other URL schemes', async () => {
    await expect(openDatabase('postgres://u:p@host/db', { dataDir })).rejects.toThrow(
      /unsupported database URL/,
    );
  });

  it('rejects sqlite: without a path', async () => {
    await expect(openDatabase('sqlite:', { dataDir })).rejects.toThrow(/needs a path/);
  });

  it('rejects a mysql URL without a database', async () => {
    await expect(openDatabase('mysql://u:secret@127.0.0.1:3306/', { dataDir })).rejects.toThrow(
      'database URL mysql://u:***@127.0.0.1:3306/ names no database',
    );
  });

  it('fails at open, not at the first query, when the MySQL server is unreachable', async () => {
    const port = await freePort(); // nobody listens there
    const attempt = openDatabase(`mysql://overcast:hunter2@127.0.0.1:${port}/overcast`, { dataDir });
    await expect(attempt).rejects.toThrow(
      `cannot connect to mysql://overcast:***@127.0.0.1:${port}/overcast`,
    );
    await expect(attempt).rejects.not.toThrow(/hunter2/);
  });
});

describe('redactUrl', () => {
  it('hides the password of a mysql URL and leaves others alone', () => {
    expect(redactUrl('mysql://root:p%40ss@db:3306/x')).toBe('mysql://root:***@db:3306/x');
    expect(redactUrl('mysql://db:3306/x')).toBe('mysql://db:3306/x');
    expect(redactUrl('sqlite:overcast.sqlite')).toBe('sqlite:overcast.sqlite');
  });
});
