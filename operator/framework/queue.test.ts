import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyBackoff, TokenBucket } from './backoff.js';
import { DONE, WorkQueue, type WorkResult } from './queue.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A reconcile that records its starts and ends when the test releases it. */
function gatedWork() {
  const starts: { key: string; at: number }[] = [];
  const pending = new Map<string, (result: WorkResult) => void>();
  let running = 0;
  let maxRunning = 0;
  const work = (key: string) => {
    starts.push({ key, at: Date.now() });
    running++;
    maxRunning = Math.max(maxRunning, running);
    return new Promise<WorkResult>((resolve) => {
      pending.set(key, (result) => {
        running--;
        pending.delete(key);
        resolve(result);
      });
    });
  };
  return { work, starts, pending, maxRunning: () => maxRunning };
}

const generous = { perSecond: 1000, burst: 1000 };

describe('backoff per key', () => {
  it('doubles from the base up to the maximum, jittered between half and all of the step', () => {
    const low = new KeyBackoff({ baseMs: 100, maxMs: 1000 }, () => 0);
    const high = new KeyBackoff({ baseMs: 100, maxMs: 1000 }, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => low.next('a'))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(Math.round(high.next('a'))).toBe(100);
    expect(low.next('b')).toBe(50);
    low.forget('a');
    expect(low.next('a')).toBe(50);
  });

  it('a token bucket allows the burst, then one start per period', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 2 }, Date.now);
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(100);
    vi.advanceTimersByTime(100);
    expect(bucket.take()).toBe(0);
  });
});

describe('the work queue', () => {
  it('runs a key added many times while it waits once', async () => {
    const gate = gatedWork();
    const queue = new WorkQueue(gate.work, { concurrency: 1, rateLimit: generous });
    queue.add('ns/busy');
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.depth).toBe(1);
    gate.pending.get('ns/busy')?.(DONE);
    await vi.advanceTimersByTimeAsync(0);
    gate.pending.get('ns/a')?.(DONE);
    await vi.advanceTimersByTimeAsync(0);
    expect(gate.starts.map((start) => start.key)).toEqual(['ns/busy', 'ns/a']);
  });

  it('never runs one key twice at once: an add during its reconcile runs it once more after', async () => {
    const gate = gatedWork();
    const queue = new WorkQueue(gate.work, { concurrency: 4, rateLimit: generous });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(0);
    expect(gate.starts).toHaveLength(1);
    queue.add('ns/a');
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(0);
    expect(gate.starts).toHaveLength(1);
    gate.pending.get('ns/a')?.(DONE);
    await vi.advanceTimersByTimeAsync(0);
    expect(gate.starts).toHaveLength(2);
    gate.pending.get('ns/a')?.(DONE);
    await vi.advanceTimersByTimeAsync(0);
    expect(gate.starts).toHaveLength(2);
    expect(gate.maxRunning()).toBe(1);
  });

  it('bounds the reconciles running at once over all keys', async () => {
    const gate = gatedWork();
    const queue = new WorkQueue(gate.work, { concurrency: 3, rateLimit: generous });
    for (let index = 0; index < 10; index++) queue.add(`ns/o${index}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(queue.active).toBe(3);
    expect(queue.depth).toBe(7);
    for (let round = 0; round < 4; round++) {
      for (const release of [...gate.pending.values()]) release(DONE);
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(gate.starts).toHaveLength(10);
    expect(gate.maxRunning()).toBe(3);
  });

  it('retries a failing key with growing backoff, and a success resets it', async () => {
    let failing = true;
    const starts: number[] = [];
    const queue = new WorkQueue(
      async () => {
        starts.push(Date.now());
        if (failing) throw new Error('cloud unreachable');
        return DONE;
      },
      { concurrency: 1, rateLimit: generous, backoff: { baseMs: 100, maxMs: 10_000 }, random: () => 1 },
    );
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(1000);
    // Waits of 100, 200, 400 (random 1 = the whole step) after the start at 0.
    expect(starts).toEqual([0, 100, 300, 700]);
    failing = false;
    await vi.advanceTimersByTimeAsync(800);
    expect(starts).toEqual([0, 100, 300, 700, 1500]);
    failing = true;
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(150);
    // The first failure after the success waits the base step again.
    expect(starts).toHaveLength(7);
    expect(starts[6]! - starts[5]!).toBe(100);
  });

  it('comes back after the delay a reconcile asks for, unless an event brings the key sooner', async () => {
    const starts: number[] = [];
    const queue = new WorkQueue(
      async () => {
        starts.push(Date.now());
        return { kind: 'after', ms: 1000 };
      },
      { concurrency: 1, rateLimit: generous },
    );
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(300);
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual([0, 300]);
    expect(queue.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toEqual([0, 300, 1300]);
  });

  it('paces starts over all keys with the global rate limit', async () => {
    const starts: number[] = [];
    const queue = new WorkQueue(
      async () => {
        starts.push(Date.now());
        return DONE;
      },
      { concurrency: 10, rateLimit: { perSecond: 10, burst: 2 } },
    );
    for (let index = 0; index < 5; index++) queue.add(`ns/o${index}`);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toEqual([0, 0, 100, 200, 300]);
  });

  it('shuts down after the running reconciles end, dropping what waits', async () => {
    const gate = gatedWork();
    const queue = new WorkQueue(gate.work, { concurrency: 1, rateLimit: generous });
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/c', 5000);
    let finished = false;
    const stopping = queue.shutDown().then(() => {
      finished = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(finished).toBe(false);
    gate.pending.get('ns/a')?.(DONE);
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(gate.starts.map((start) => start.key)).toEqual(['ns/a']);
  });
});
