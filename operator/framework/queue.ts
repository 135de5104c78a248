// The work queue between the watches and the reconciler, keyed by namespace/name as
// controller-runtime's: a key is queued at most once however many events name it, is never
// worked on by two workers at once (an event arriving during its reconcile runs it once more
// after), failures wait with backoff per key, and a global token bucket paces all starts.
import {
  type BackoffOptions,
  DEFAULT_BACKOFF,
  DEFAULT_RATE_LIMIT,
  KeyBackoff,
  type RateLimitOptions,
  TokenBucket,
} from './backoff.js';

/** What a reconcile asks of the queue for its key. */
export type WorkResult =
  | { kind: 'done' }
  /** Failed in a way worth retrying: wait with the key's backoff. */
  | { kind: 'retry' }
  /** Succeeded, come back after this long (a resync, a poll for an import). */
  | { kind: 'after'; ms: number };

export const DONE: WorkResult = { kind: 'done' };

export interface WorkQueueOptions {
  /** Reconciles running at once over all keys. */
  concurrency: number;
  backoff?: BackoffOptions;
  rateLimit?: RateLimitOptions;
  random?: () => number;
  /** Called with each finished reconcile, for metrics. */
  onFinished?: (key: string, result: WorkResult | Error, durationMs: number) => void;
}

export class WorkQueue {
  /** Keys ready to run, oldest first (a Set keeps insertion order). */
  private readonly ready = new Set<string>();
  private readonly delayed = new Map<string, { dueAt: number; timer: NodeJS.Timeout }>();
  private readonly running = new Set<string>();
  /** Keys added while running: run once more when the current reconcile ends. */
  private readonly dirty = new Set<string>();
  private readonly backoff: KeyBackoff;
  private readonly bucket: TokenBucket;
  private pumpTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly work: (key: string) => Promise<WorkResult>,
    private readonly options: WorkQueueOptions,
  ) {
    this.backoff = new KeyBackoff(options.backoff ?? DEFAULT_BACKOFF, options.random);
    this.bucket = new TokenBucket(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  }

  /**
   * Queues `key` now, or after `delayMs`. A key already waiting keeps the earlier of its two
   * times; a key being reconciled runs again once that reconcile ends.
   */
  add(key: string, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      const dueAt = Date.now() + delayMs;
      const waiting = this.delayed.get(key);
      if (this.ready.has(key) || (waiting && waiting.dueAt <= dueAt)) return;
      if (waiting) clearTimeout(waiting.timer);
      const timer = setTimeout(() => {
        this.delayed.delete(key);
        this.add(key);
      }, delayMs);
      this.delayed.set(key, { dueAt, timer });
      return;
    }
    const waiting = this.delayed.get(key);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.delayed.delete(key);
    }
    if (this.running.has(key)) this.dirty.add(key);
    else this.ready.add(key);
    this.pump();
  }

  /** Keys ready to run but not started (the queue depth metric). */
  get depth(): number {
    return this.ready.size;
  }

  /** Keys waiting for a backoff or a resync. */
  get waiting(): number {
    return this.delayed.size;
  }

  get active(): number {
    return this.running.size;
  }

  /** Drops the key's backoff history (its object is gone). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  private pump(): void {
    if (this.pumpTimer || this.stopped) return;
    while (this.running.size < this.options.concurrency && this.ready.size > 0) {
      const waitMs = this.bucket.take();
      if (waitMs > 0) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, waitMs);
        return;
      }
      const key = this.ready.values().next().value as string;
      this.ready.delete(key);
      this.running.add(key);
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    const started = Date.now();
    let result: WorkResult | Error;
    try {
      result = await this.work(key);
    } catch (error) {
      result = error instanceof Error ? error : new Error(String(error));
    }
    this.options.onFinished?.(key, result, Date.now() - started);
    this.running.delete(key);
    if (result instanceof Error || result.kind === 'retry') {
      this.add(key, this.backoff.next(key));
    } else {
      this.backoff.forget(key);
      if (result.kind === 'after') this.add(key, result.ms);
    }
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
    if (this.running.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Stops starting work, drops what waits, and resolves once running reconciles have ended. */
  async shutDown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pumpTimer);
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.ready.clear();
    this.dirty.clear();
    if (this.running.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
