import { describe, expect, it } from 'vitest';
import {
  Conflict,
  ConnectionFailed,
  type HttpError,
  NotFound,
  ServerError,
  TooManyRequests,
} from './errors.js';
import {
  backoffDelay,
  delayBeforeRetry,
  isRetryable,
  type RetryPolicy,
  retryAfterMs,
  withRetries,
} from './retry.js';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };
const request = { method: 'GET', url: 'http://cloud/x' };
const http = (Class: typeof HttpError, status: number, retryAfter?: string) =>
  new Class(`answered ${status}`, status, request, undefined, undefined, retryAfter);
const connection = (code: string, beforeSending: boolean) =>
  new ConnectionFailed(`failed: ${code}`, request, code, beforeSending);

describe('backoff with full jitter', () => {
  it('waits uniformly below a cap that doubles each retry and stops at the maximum', () => {
    const highest = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, policy, highest))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
  });

  it('spreads the waits of many clients over the whole range', () => {
    const waits = Array.from({ length: 2_000 }, () => backoffDelay(3, policy));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...waits)).toBeLessThan(400);
    const mean = waits.reduce((sum, wait) => sum + wait, 0) / waits.length;
    expect(mean).toBeGreaterThan(170);
    expect(mean).toBeLessThan(230);
  });

  it('honours Retry-After in seconds or as a date, within the maximum', () => {
    const now = Date.parse('2026-11-23T08:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('Mon, 23 Nov 2026 08:00:02 GMT', now)).toBe(2_000);
    expect(retryAfterMs('Mon, 23 Nov 2026 07:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(delayBeforeRetry(http(ServerError, 503, '0'), 4, policy)).toBe(0);
    expect(delayBeforeRetry(http(ServerError, 503, '120'), 1, policy)).toBe(1_000);
    expect(delayBeforeRetry(http(ServerError, 503), 1, policy, () => 0.5)).toBe(50);
  });
});

describe('what is worth sending again', () => {
  it('idempotent calls: connection failures and 5xx other than 501', () => {
    expect(isRetryable(connection('ECONNRESET', false), 'GET')).toBe(true);
    expect(isRetryable(connection('ETIMEDOUT', false), 'DELETE')).toBe(true);
    expect(isRetryable(http(ServerError, 500), 'PUT')).toBe(true);
    expect(isRetryable(http(ServerError, 502), 'GET')).toBe(true);
    expect(isRetryable(http(ServerError, 501), 'GET')).toBe(false);
    expect(isRetryable(http(NotFound, 404), 'GET')).toBe(false);
  });

  it('creations: only what the server cannot have acted on, unless the caller says the call is idempotent', () => {
    expect(isRetryable(connection('ECONNREFUSED', true), 'POST')).toBe(true);
    expect(isRetryable(connection('ECONNRESET', false), 'POST')).toBe(false);
    expect(isRetryable(http(ServerError, 500), 'POST')).toBe(false);
    expect(isRetryable(http(ServerError, 503), 'POST')).toBe(true);
    expect(isRetryable(http(TooManyRequests, 429), 'POST')).toBe(true);
    expect(isRetryable(http(ServerError, 500), 'POST', { idempotent: true })).toBe(true);
  });

  it('409 only when the caller says this call conflicts transiently', () => {
    expect(isRetryable(http(Conflict, 409), 'PUT')).toBe(false);
    expect(isRetryable(http(Conflict, 409), 'POST', { retryConflict: true })).toBe(true);
  });

  it('stops after the last attempt with the last error, and at once on an error not worth retrying', async () => {
    const fast: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
    let sends = 0;
    await expect(
      withRetries(
        async () => {
          sends++;
          throw http(ServerError, 502);
        },
        'GET',
        fast,
      ),
    ).rejects.toBeInstanceOf(ServerError);
    expect(sends).toBe(3);
    sends = 0;
    await expect(
      withRetries(
        async () => {
          sends++;
          throw http(NotFound, 404);
        },
        'GET',
        fast,
      ),
    ).rejects.toBeInstanceOf(NotFound);
    expect(sends).toBe(1);
    const retries: number[] = [];
    sends = 0;
    const result = await withRetries(
      async () => {
        if (++sends < 3) throw connection('ECONNRESET', false);
        return 'done';
      },
      'GET',
      fast,
      {},
      { onRetry: (_error, retry) => retries.push(retry) },
    );
    expect(result).toBe('done');
    expect(retries).toEqual([1, 2]);
  });
});
