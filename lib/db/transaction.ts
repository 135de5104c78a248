// All-or-nothing writes: a request that changes several rows either changes all of them or
// none, so nothing half-written is left behind when it fails.
import { setTimeout as sleep } from 'node:timers/promises';
import type { IsolationLevel, Kysely, Transaction } from 'kysely';
import { isTransactionConflict } from './errors.js';

export interface TransactionOptions {
  /**
   * Run `work` again, from the start and in a fresh transaction, when it loses a conflict
   * with a concurrent transaction (MySQL deadlock or lock wait timeout, SQLite busy or stale
   * snapshot). Only for work whose every effect is inside the transaction: an RPC sent or a
   * file written by the first attempt would happen twice. Off by default for that reason.
   */
  retryable?: boolean;
  /** Attempts in all, first one included, when retryable (default 5). */
  maxAttempts?: number;
  /** MySQL only (SQLite transactions are always serializable); the server default otherwise. */
  isolationLevel?: IsolationLevel;
  /** Told about each conflict that is about to be retried, e.g. to log it. */
  onRetry?: (error: Error, attempt: number) => void;
}

const DEFAULT_MAX_ATTEMPTS = 5;
const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 500;

/**
 * Runs `work` in a transaction that commits when it resolves and rolls back when it throws
 * (the error is rethrown unchanged).
 *
 * Called with a Transaction — from code that already runs inside one — `work` simply joins
 * it: the outer caller commits, rolls back and decides about retries, because a conflict
 * aborts the whole outer transaction, not just this part.
 *
 * (Two signatures because TypeScript cannot infer the tables of a Transaction passed where a
 * Kysely is expected: it infers them structurally and gets them wrong.)
 */
export function withTransaction<Tables, Result>(
  db: Transaction<Tables>,
  work: (trx: Transaction<Tables>) => Promise<Result>,
  options?: TransactionOptions,
): Promise<Result>;
export function withTransaction<Tables, Result>(
  db: Kysely<Tables>,
  work: (trx: Transaction<Tables>) => Promise<Result>,
  options?: TransactionOptions,
): Promise<Result>;
export async function withTransaction<Tables, Result>(
  db: Kysely<Tables>,
  work: (trx: Transaction<Tables>) => Promise<Result>,
  options: TransactionOptions = {},
): Promise<Result> {
  if (db.isTransaction) return work(db as Transaction<Tables>);
  const maxAttempts = options.retryable ? Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS) : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      let builder = db.transaction();
      if (options.isolationLevel) builder = builder.setIsolationLevel(options.isolationLevel);
      return await builder.execute(work);
    } catch (err) {
      if (attempt >= maxAttempts || !isTransactionConflict(err)) throw err;
      options.onRetry?.(err, attempt);
      // Exponential backoff with full jitter, so two transactions that just collided do not
      // collide again in lockstep.
      const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling);
    }
  }
}
