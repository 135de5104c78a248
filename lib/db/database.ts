// The one database handle of a process. The same service code runs on SQLite (the embedded
// default: one file, no server) and on MySQL/MariaDB (production: a pool over mysql2); both are
// reached through kysely, and every driver error that services act on is translated into the
// typed errors of errors.ts before it leaves the driver.
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  MysqlDialect,
  type QueryCompiler,
  type QueryResult,
  SqliteDialect,
  type SqliteDatabase as SqliteDialectDatabase,
  type TransactionSettings,
} from 'kysely';
import { BoundedMap } from '../bounded-map.js';
import { translateDriverError } from './errors.js';

export type DialectName = 'sqlite' | 'mysql';

/**
 * Table interfaces are declared by each service, and one pool serves them all; code that
 * spans services (migrations, health checks) sees the database untyped.
 */
// biome-ignore lint/suspicious/noExplicitAny: the shared handle has no single table interface; services view it through Database.tables<T>().
export type AnyTables = any;

export interface Database {
  readonly dialect: DialectName;
  /** The untyped handle, for migrations and code that is not one service's. */
  readonly db: Kysely<AnyTables>;
  /**
   * The same handle (same pool, no new connections) typed with one service's table
   * interfaces: `const db = database.tables<IdentityTables>()`.
   */
  tables<Tables>(): Kysely<Tables>;
  /** Closes the SQLite file or ends the MySQL pool; later calls do nothing. */
  destroy(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Relative `sqlite:` paths are taken from here (the config's dataDir). */
  dataDir: string;
  /** Most MySQL connections the pool keeps open (default 10). */
  poolSize?: number;
  /** How long SQLite waits for another connection's write lock before SQLITE_BUSY (default 5000). */
  busyTimeoutMs?: number;
}

/**
 * Opens `sqlite:<path>` (relative to dataDir; `sqlite::memory:` for a private in-memory
 * database) or `mysql://user:password@host:port/database` (with `?socket=/path` to reach a
 * server on this host through its unix socket instead), and checks that it answers: a
 * wrong password or an unreachable server fails here, at start-up, with the URL (password
 * hidden) in the message.
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions): Promise<Database> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), options);
  if (url.startsWith('mysql://')) return openMysql(url, options);
  throw new Error(`unsupported database URL ${redactUrl(url)}: expected sqlite:<path> or mysql://...`);
}

/** The URL with its password replaced, fit for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(mysql:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

function openSqlite(location: string, options: OpenDatabaseOptions): Promise<Database> {
  if (location === '') throw new Error('database URL sqlite: needs a path (or :memory:)');
  const inMemory = location === ':memory:';
  const file = inMemory ? location : isAbsolute(location) ? location : resolve(options.dataDir, location);
  if (!inMemory) mkdirSync(dirname(file), { recursive: true });
  let sqlite: SqliteDatabase.Database;
  try {
    sqlite = new SqliteDatabase(file);
  } catch (err) {
    throw new Error(`cannot open SQLite database ${file}: ${(err as Error).message}`, { cause: err });
  }
  // WAL lets readers (a `db-version` run, a second process) proceed while one writer commits;
  // synchronous=NORMAL is the durable-enough setting the SQLite docs recommend for WAL.
  if (!inMemory) {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
  }
  // SQLite enforces foreign keys only when asked, per connection.
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5_000)}`);
  // kysely's SQLite driver has one connection and queues every query and transaction behind
  // a mutex, so within one process transactions never overlap; conflicts come from other
  // processes (or other Database handles) on the same file.
  const dialect = new SqliteDialect({ database: withStatementCache(sqlite) });
  return Promise.resolve(createDatabase('sqlite', dialect));
}

/** How many prepared SQLite statements are kept; the oldest is dropped first. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * kysely prepares every statement it runs; compiling the SQL is most of the cost of a small
 * query on SQLite, and a service runs the same few hundred statements all day. This keeps them.
 * A statement still being iterated (a streamed query) is not shared: a fresh one is prepared.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectDatabase {
  const statements = new BoundedMap<string, SqliteDatabase.Statement>(STATEMENT_CACHE_SIZE);
  return {
    close: () => void sqlite.close(),
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sql);
      if (!cached) statements.set(sql, statement);
      return statement;
    },
  };
}

async function openMysql(url: string, options: OpenDatabaseOptions): Promise<Database> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid database URL ${redactUrl(url)}`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new Error(`database URL ${redactUrl(url)} names no database`);
  // mysql2 is loaded only for a MySQL URL: the embedded SQLite default never pays for it.
  const { createPool } = await import('mysql2');
  // `?socket=` reaches a server on this host through its unix socket, as local MariaDB
  // installations are usually reached (no TCP port needs to be open). The network benchmark
  // measured no CPU difference against loopback TCP.
  const socketPath = parsed.searchParams.get('socket');
  const unknown = [...parsed.searchParams.keys()].filter((key) => key !== 'socket');
  if (unknown.length > 0) {
    throw new Error(
      `database URL ${redactUrl(url)} has unknown parameters: ${unknown.join(', ')} (only socket)`,
    );
  }
  const pool = createPool({
    ...(socketPath
      ? { socketPath }
      : {
          host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: parsed.port ? Number(parsed.port) : 3306,
        }),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    // Full Unicode (names with emoji or CJK), compared byte for byte as SQLite does.
    charset: 'UTF8MB4_BIN',
    // Dates travel as UTC whatever the server's or this host's zone is.
    timezone: 'Z',
    // BIGINT and DECIMAL beyond 2^53 arrive as exact strings instead of rounded numbers.
    supportBigNumbers: true,
    connectionLimit: options.poolSize ?? 10,
    waitForConnections: true,
    enableKeepAlive: true,
  });
  const dialect = new MysqlDialect({
    pool,
    async onCreateConnection(connection) {
      // Whatever the server's configuration: TRADITIONAL makes a too-long string or a bad
      // value an error instead of a silent truncation and a warning (oslo.db does the same),
      // and the session zone is UTC so CURRENT_TIMESTAMP agrees with the application.
      await connection.executeQuery(
        CompiledQuery.raw("SET SESSION sql_mode = 'TRADITIONAL', time_zone = '+00:00'"),
      );
    },
  });
  const handle = createDatabase('mysql', dialect);
  try {
    await handle.db.selectNoFrom((eb) => eb.val(1).as('ok')).execute();
  } catch (err) {
    await handle.destroy().catch(() => undefined);
    throw new Error(`cannot connect to ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  return handle;
}

function createDatabase(dialectName: DialectName, dialect: Dialect): Database {
  const db = new Kysely<AnyTables>({ dialect: new TranslatingDialect(dialectName, dialect) });
  let destroyed: Promise<void> | undefined;
  return {
    dialect: dialectName,
    db,
    tables: <Tables>() => db as Kysely<Tables>,
    destroy() {
      destroyed ??= db.destroy();
      return destroyed;
    },
  };
}

/** A dialect whose driver translates driver errors (errors.ts) on every statement. */
class TranslatingDialect implements Dialect {
  constructor(
    private readonly name: DialectName,
    private readonly inner: Dialect,
  ) {}
  createDriver(): Driver {
    return new TranslatingDriver(this.name, this.inner.createDriver());
  }
  createQueryCompiler(): QueryCompiler {
    return this.inner.createQueryCompiler();
  }
  createAdapter() {
    return this.inner.createAdapter();
  }
  createIntrospector(db: Kysely<AnyTables>) {
    return this.inner.createIntrospector(db);
  }
}

class TranslatingConnection implements DatabaseConnection {
  constructor(
    private readonly dialect: DialectName,
    readonly inner: DatabaseConnection,
  ) {}
  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      // SQLite's driver throws synchronously from prepare(); awaiting inside try catches both.
      return await this.inner.executeQuery<R>(compiledQuery);
    } catch (err) {
      throw translateDriverError(this.dialect, err);
    }
  }
  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize?: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (err) {
      throw translateDriverError(this.dialect, err);
    }
  }
}

class TranslatingDriver implements Driver {
  /** The wrapper handed to kysely for each driver connection, reused so identities hold. */
  private readonly wrappers = new WeakMap<DatabaseConnection, TranslatingConnection>();

  constructor(
    private readonly dialect: DialectName,
    private readonly inner: Driver,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let wrapper = this.wrappers.get(connection);
    if (!wrapper) {
      wrapper = new TranslatingConnection(this.dialect, connection);
      this.wrappers.set(connection, wrapper);
    }
    return wrapper;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.translated(() => this.inner.beginTransaction(unwrap(connection), settings));
  }

  // COMMIT itself can fail with a conflict (SQLite busy, deferred constraint checks).
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.translated(() => this.inner.commitTransaction(unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.translated(() => this.inner.rollbackTransaction(unwrap(connection)));
  }

  savepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    const savepoint = this.inner.savepoint?.bind(this.inner);
    if (!savepoint) throw new Error(`the ${this.dialect} driver does not support savepoints`);
    return this.translated(() => savepoint(unwrap(connection), name, compileQuery));
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    const rollback = this.inner.rollbackToSavepoint?.bind(this.inner);
    if (!rollback) throw new Error(`the ${this.dialect} driver does not support savepoints`);
    return this.translated(() => rollback(unwrap(connection), name, compileQuery));
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    const release = this.inner.releaseSavepoint?.bind(this.inner);
    if (!release) throw new Error(`the ${this.dialect} driver does not support savepoints`);
    return this.translated(() => release(unwrap(connection), name, compileQuery));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  private async translated(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      throw translateDriverError(this.dialect, err);
    }
  }
}

function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof TranslatingConnection ? connection.inner : connection;
}
