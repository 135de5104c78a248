// When a failed call is worth sending again, and how long to wait first: exponential backoff
// with full jitter (a uniformly random wait below the exponential cap, so many clients that
// failed together do not come back together), bounded attempts, and Retry-After honoured.
import { setTimeout as sleep } from 'node:timers/promises';
import { Conflict, ConnectionFailed, HttpError, TooManyRequests } from './errors.js';

export interface RetryPolicy {
  /** Sends in all, the first included; 1 never retries. */
  maxAttempts: number;
  /** The cap of the first retry's wait; it doubles each retry. */
  baseDelayMs: number;
  /** No wait is longer than this, Retry-After included. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 10_000 };

/** What the caller says about one call, which decides what is safe to send again. */
export interface RetryOptions {
  /**
   * Whether sending the request twice does no harm. Defaults from the method (GET, HEAD, PUT,
   * DELETE are; POST and PATCH are not). A call that is not idempotent is resent only when the
   * server cannot have acted on it: the connection was refused, or the answer was 503 or 429.
   */
  idempotent?: boolean;
  /**
   * Resend on 409. Off by default: most 409s are final (a name taken, a resource in use); a
   * caller turns this on for a call whose conflict is transient (a dependency still settling).
   */
  retryConflict?: boolean;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Whether `error` from a `method` call may be sent again under `options`. */
export function isRetryable(error: unknown, method: string, options: RetryOptions = {}): boolean {
  const idempotent = options.idempotent ?? IDEMPOTENT_METHODS.has(method.toUpperCase());
  if (error instanceof ConnectionFailed) return idempotent || error.beforeSending;
  if (error instanceof TooManyRequests) return true;
  if (error instanceof Conflict) return options.retryConflict === true;
  if (error instanceof HttpError) {
    if (error.status === 503) return true;
    // 501 says the server will never do it; other 5xx may pass.
    return idempotent && error.status >= 500 && error.status !== 501;
  }
  return false;
}

/**
 * The wait before retry number `retry` (1 for the first): uniformly random in
 * [0, min(maxDelayMs, baseDelayMs * 2^(retry-1))). `random` is injectable for tests.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * cap);
}

/**
 * Retry-After in milliseconds (delta-seconds or an HTTP date, relative to `now`), or undefined
 * when absent or unreadable. A date in the past is 0.
 */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The wait before `retry` after `error`: the server's Retry-After when it sent one, else backoff. */
export function delayBeforeRetry(
  error: unknown,
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const asked = error instanceof HttpError ? retryAfterMs(error.retryAfter) : undefined;
  if (asked !== undefined) return Math.min(asked, policy.maxDelayMs);
  return backoffDelay(retry, policy, random);
}

export interface RetryHooks {
  /** Told before each wait, e.g. to log it. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
  signal?: AbortSignal;
}

/** Runs `send` until it succeeds, fails in a way not worth retrying, or the attempts run out. */
export async function withRetries<T>(
  send: () => Promise<T>,
  method: string,
  policy: RetryPolicy,
  options: RetryOptions = {},
  hooks: RetryHooks = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isRetryable(error, method, options)) throw error;
      const delayMs = delayBeforeRetry(error, attempt, policy);
      hooks.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, undefined, { signal: hooks.signal });
    }
  }
}
