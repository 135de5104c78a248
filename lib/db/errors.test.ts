import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from './database.js';
import {
  ForeignKeyViolationError,
  isForeignKeyViolation,
  isTransactionConflict,
  isUniqueViolation,
  TransactionConflictError,
  translateDriverError,
  UniqueViolationError,
} from './errors.js';

let database: Database;

beforeEach(async () => {
  database = await openDatabase('sqlite::memory:', { dataDir: '/nonexistent' });
  await database.db.schema
    .createTable('networks')
    .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
    .addColumn('project_id', 'varchar(36)', (column) => column.notNull())
    .addColumn('name', 'varchar(255)', (column) => column.notNull())
    .addUniqueConstraint('networks_project_name', ['project_id', 'name'])
    .execute();
  await database.db.schema
    .createTable('subnets')
    .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
    .addColumn('network_id', 'varchar(36)', (column) => column.notNull().references('networks.id'))
    .execute();
  await database.db.insertInto('networks').values({ id: 'n1', project_id: 'p1', name: 'web' }).execute();
});

afterEach(async () => {
  await database.destroy();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the statement succeeded'),
    (err: unknown) => err,
  );
}

describe('SQLite errors through openDatabase', () => {
  it('turns a duplicate primary key into UniqueViolationError', async () => {
    const err = await rejection(
      database.db.insertInto('networks').values({ id: 'n1', project_id: 'p2', name: 'db' }).execute(),
    );
    expect(isUniqueViolation(err)).toBe(true);
    expect((err as UniqueViolationError).detail).toContain('networks.id');
    expect((err as UniqueViolationError).cause).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
  });

  it('turns a duplicate composite unique key into UniqueViolationError', async () => {
    const err = await rejection(
      database.db.insertInto('networks').values({ id: 'n2', project_id: 'p1', name: 'web' }).execute(),
    );
    expect(err).toBeInstanceOf(UniqueViolationError);
    expect((err as UniqueViolationError).message).toMatch(/^unique constraint violated: .*networks\.name/);
  });

  it('lets the same name exist in another project', async () => {
    await database.db.insertInto('networks').values({ id: 'n2', project_id: 'p2', name: 'web' }).execute();
  });

  it('turns a dangling reference and a delete of a referenced row into ForeignKeyViolationError', async () => {
    const dangling = await rejection(
      database.db.insertInto('subnets').values({ id: 's1', network_id: 'missing' }).execute(),
    );
    expect(isForeignKeyViolation(dangling)).toBe(true);
    await database.db.insertInto('subnets').values({ id: 's1', network_id: 'n1' }).execute();
    const inUse = await rejection(database.db.deleteFrom('networks').where('id', '=', 'n1').execute());
    expect(inUse).toBeInstanceOf(ForeignKeyViolationError);
  });

  it('leaves other errors as the driver raised them', async () => {
    const notNull = await rejection(
      database.db.insertInto('networks').values({ id: 'n3', project_id: 'p1', name: null }).execute(),
    );
    expect(isUniqueViolation(notNull)).toBe(false);
    expect(notNull).toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
    const syntax = await rejection(database.db.selectFrom('no_such_table').selectAll().execute());
    expect(syntax).toMatchObject({ code: 'SQLITE_ERROR' });
  });
});

describe('translateDriverError for MySQL', () => {
  // Shaped as mysql2 reports server errors: errno, code, sqlState, sqlMessage.
  function mysqlError(errno: number, code: string, sqlMessage: string): Error {
    return Object.assign(new Error(sqlMessage), { errno, code, sqlState: '23000', sqlMessage });
  }

  it('maps duplicate entries to UniqueViolationError', () => {
    const raw = mysqlError(1062, 'ER_DUP_ENTRY', "Duplicate entry 'p1-web' for key 'networks_project_name'");
    const translated = translateDriverError('mysql', raw);
    expect(translated).toBeInstanceOf(UniqueViolationError);
    expect((translated as UniqueViolationError).detail).toBe(raw.message);
    expect((translated as UniqueViolationError).cause).toBe(raw);
  });

  it('maps foreign key failures both ways', () => {
    for (const errno of [1451, 1452]) {
      expect(translateDriverError('mysql', mysqlError(errno, 'ER_ROW_IS_REFERENCED_2', 'fk'))).toBeInstanceOf(
        ForeignKeyViolationError,
      );
    }
  });

  it('maps deadlocks and lock wait timeouts to TransactionConflictError', () => {
    const deadlock = translateDriverError('mysql', mysqlError(1213, 'ER_LOCK_DEADLOCK', 'Deadlock found'));
    const timeout = translateDriverError(
      'mysql',
      mysqlError(1205, 'ER_LOCK_WAIT_TIMEOUT', 'Lock wait timeout'),
    );
    expect(isTransactionConflict(deadlock)).toBe(true);
    expect(timeout).toBeInstanceOf(TransactionConflictError);
  });

  it('leaves other errors, and errors of the other dialect, alone', () => {
    const syntax = mysqlError(1064, 'ER_PARSE_ERROR', 'You have an error in your SQL syntax');
    expect(translateDriverError('mysql', syntax)).toBe(syntax);
    expect(translateDriverError('sqlite', mysqlError(1062, 'ER_DUP_ENTRY', 'dup'))).not.toBeInstanceOf(
      UniqueViolationError,
    );
    expect(translateDriverError('mysql', 'not an error')).toBe('not an error');
  });
});
