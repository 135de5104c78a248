// How long a key waits before its next attempt, and how fast the operator may start reconciles
// at all. Both are pure arithmetic over the clock they are given, so they are tested with fake
// timers; the work queue applies them.

export interface BackoffOptions {
  /** Wait before the first retry. */
  baseMs: number;
  /** Longest wait, however many failures in a row. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 5 * 60_000 };

/**
 * Exponential backoff per key with "equal jitter": the n-th failure in a row waits between half
 * and all of min(max, base·2^(n-1)), so keys failing together do not retry in lockstep while
 * each still waits at least half its step.
 */
export class KeyBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Counts one more failure of `key` and returns how long it waits. */
  next(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const step = Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(failures - 1, 52));
    return step / 2 + (this.random() * step) / 2;
  }

  /** Failures of `key` in a row so far. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** `key` succeeded (or is gone): its next failure starts from the base again. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}

export interface RateLimitOptions {
  /** Reconciles started per second, on average. */
  perSecond: number;
  /** How many may start at once after a quiet time. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 20, burst: 50 };

/** A token bucket over the whole operator, so a thousand objects applied at once do not flood the cloud. */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly options: RateLimitOptions = DEFAULT_RATE_LIMIT,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = options.burst;
    this.refilledAt = now();
  }

  /** Takes a token and returns 0, or returns how many ms until one is there (taking nothing). */
  take(): number {
    const now = this.now();
    this.tokens = Math.min(
      this.options.burst,
      this.tokens + ((now - this.refilledAt) * this.options.perSecond) / 1000,
    );
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.options.perSecond);
  }
}
