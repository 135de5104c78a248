// The database errors services act on, the same whichever dialect raised them. openDatabase
// installs translateDriverError under every query, so a service catches UniqueViolationError
// (→ 409 Conflict) without knowing whether SQLite or MySQL said "duplicate".
import type { DialectName } from './database.js';

/** A row would duplicate a primary key or a unique index. */
export class UniqueViolationError extends Error {
  override name = 'UniqueViolationError';
  /**
   * The driver's own words: SQLite names the columns ("UNIQUE constraint failed: t.a, t.b"),
   * MySQL the index ("Duplicate entry 'x' for key 't_a_unique'"). Which constraint was hit is
   * therefore not portable; a service that must tell two unique constraints apart checks first.
   */
  readonly detail: string;
  constructor(detail: string, options: { cause: unknown }) {
    super(`unique constraint violated: ${detail}`, options);
    this.detail = detail;
  }
}

/** A row refers to a missing parent, or a parent still has children. */
export class ForeignKeyViolationError extends Error {
  override name = 'ForeignKeyViolationError';
  readonly detail: string;
  constructor(detail: string, options: { cause: unknown }) {
    super(`foreign key constraint violated: ${detail}`, options);
    this.detail = detail;
  }
}

/**
 * Concurrent transactions got in each other's way: MySQL chose this one as a deadlock victim
 * or it waited too long for a lock; SQLite found the database busy or its snapshot stale.
 * Running the whole transaction again may succeed (see withTransaction's `retryable`).
 */
export class TransactionConflictError extends Error {
  override name = 'TransactionConflictError';
  readonly detail: string;
  constructor(detail: string, options: { cause: unknown }) {
    super(`transaction conflict: ${detail}`, options);
    this.detail = detail;
  }
}

export function isUniqueViolation(err: unknown): err is UniqueViolationError {
  return err instanceof UniqueViolationError;
}

export function isForeignKeyViolation(err: unknown): err is ForeignKeyViolationError {
  return err instanceof ForeignKeyViolationError;
}

export function isTransactionConflict(err: unknown): err is TransactionConflictError {
  return err instanceof TransactionConflictError;
}

// MySQL/MariaDB server error numbers (include/mysqld_error.h).
const MYSQL_DUPLICATE_KEY = new Set([
  1022, // ER_DUP_KEY
  1062, // ER_DUP_ENTRY
  1586, // ER_DUP_ENTRY_WITH_KEY_NAME
]);
const MYSQL_FOREIGN_KEY = new Set([
  1216, // ER_NO_REFERENCED_ROW
  1217, // ER_ROW_IS_REFERENCED
  1451, // ER_ROW_IS_REFERENCED_2
  1452, // ER_NO_REFERENCED_ROW_2
]);
const MYSQL_CONFLICT = new Set([
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
]);

/**
 * The typed error for a driver error of `dialect`, or the error itself when it is none of
 * the above. Idempotent: an already translated error is returned as it is.
 */
export function translateDriverError(dialect: DialectName, err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const fields = err as Error & { code?: unknown; errno?: unknown; sqlMessage?: unknown };
  if (dialect === 'sqlite') {
    const code = typeof fields.code === 'string' ? fields.code : '';
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new UniqueViolationError(err.message, { cause: err });
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY')
      return new ForeignKeyViolationError(err.message, { cause: err });
    // SQLITE_BUSY (busy_timeout ran out) and SQLITE_BUSY_SNAPSHOT (a read transaction tried
    // to write after another connection committed), SQLITE_BUSY_RECOVERY, SQLITE_BUSY_TIMEOUT.
    if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) {
      return new TransactionConflictError(err.message, { cause: err });
    }
    return err;
  }
  const errno = typeof fields.errno === 'number' ? fields.errno : undefined;
  if (errno === undefined) return err;
  const message = typeof fields.sqlMessage === 'string' ? fields.sqlMessage : err.message;
  if (MYSQL_DUPLICATE_KEY.has(errno)) return new UniqueViolationError(message, { cause: err });
  if (MYSQL_FOREIGN_KEY.has(errno)) return new ForeignKeyViolationError(message, { cause: err });
  if (MYSQL_CONFLICT.has(errno)) return new TransactionConflictError(message, { cause: err });
  return err;
}
