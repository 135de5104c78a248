import { describe, expect, it } from 'vitest';
import { SharedReads } from './shared-reads.js';

/**
 * A read of a counter that anyone may bump, answering when released: its value tells which
 * writes it saw, the number of reads how many went to the "database".
 */
function releasedReads() {
  const data = { writes: 0 };
  const pending: (() => void)[] = [];
  let reads = 0;
  const read = () => {
    reads++;
    const seen = data.writes;
    return new Promise<number>((resolve) => pending.push(() => resolve(seen)));
  };
  /** Answers the oldest unanswered read, then lets the waiting callers start theirs. */
  const release = async () => {
    pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { data, read, release, reads: () => reads };
}

describe('SharedReads', () => {
  it('reads at once while fewer than maxInFlight reads of the key run', async () => {
    const shared = new SharedReads<number>(2);
    const { read, release, reads } = releasedReads();
    const first = shared.read('k', read);
    const second = shared.read('k', read);
    expect(reads()).toBe(2);
    await release();
    await release();
    expect([await first, await second]).toEqual([0, 0]);
  });

  it('makes callers that arrive while reads run share the next read, which starts after they asked', async () => {
    const shared = new SharedReads<number>(1);
    const { data, read, release, reads } = releasedReads();
    const early = shared.read('k', read);
    // Written after the first read started and before these callers asked: they must see it.
    data.writes = 1;
    const late = Array.from({ length: 5 }, () => shared.read('k', read));
    expect(reads()).toBe(1);
    await release();
    expect(await early).toBe(0);
    expect(reads()).toBe(2);
    await release();
    expect(await Promise.all(late)).toEqual([1, 1, 1, 1, 1]);
  });

  it('never shares between keys', async () => {
    const shared = new SharedReads<string>(1);
    const answers = await Promise.all([
      shared.read('a', async () => 'A'),
      shared.read('b', async () => 'B'),
      shared.read('a', async () => 'A again'),
    ]);
    expect(answers).toEqual(['A', 'B', 'A']);
  });

  it('rejects the callers of a failed read only, and reads again for the next', async () => {
    const shared = new SharedReads<number>(1);
    let calls = 0;
    const read = async () => {
      calls++;
      if (calls === 1) throw new Error('connection lost');
      return calls;
    };
    const failed = shared.read('k', read);
    const waiting = shared.read('k', read);
    await expect(failed).rejects.toThrow('connection lost');
    expect(await waiting).toBe(2);
    expect(await shared.read('k', read)).toBe(3);
  });

  it('refuses fewer than one read in flight', () => {
    expect(() => new SharedReads<number>(0)).toThrow(RangeError);
  });
});
