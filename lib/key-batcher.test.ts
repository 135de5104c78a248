import { describe, expect, it } from 'vitest';
import { KeyBatcher } from './key-batcher.js';

interface Row {
  key: string;
  value: number;
}

/** A query over a fixed table that records the keys of each call and answers when released. */
function recordedQuery(table: Row[]) {
  const calls: string[][] = [];
  const pending: (() => void)[] = [];
  const query = (keys: readonly string[]) => {
    calls.push([...keys].sort());
    return new Promise<Row[]>((resolve) => {
      pending.push(() => resolve(table.filter((row) => keys.includes(row.key))));
    });
  };
  /** Answers the oldest unanswered call, then lets the batcher send what waited. */
  const release = async () => {
    pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { calls, query, release };
}

const TABLE: Row[] = [
  { key: 'a', value: 1 },
  { key: 'b', value: 2 },
  { key: 'b', value: 3 },
  { key: 'c', value: 4 },
  { key: 'd', value: 5 },
];

describe('KeyBatcher', () => {
  it('sends a lookup at once while fewer than maxInFlight queries run', async () => {
    const batcher = new KeyBatcher<Row>((row) => row.key, { maxInFlight: 2, maxKeys: 10 });
    const { calls, query, release } = recordedQuery(TABLE);
    const first = batcher.load('g', ['a'], query);
    const second = batcher.load('g', ['b'], query);
    expect(calls).toEqual([['a'], ['b']]);
    await release();
    await release();
    expect(await first).toEqual([{ key: 'a', value: 1 }]);
    expect(await second).toEqual([
      { key: 'b', value: 2 },
      { key: 'b', value: 3 },
    ]);
  });

  it('makes lookups that arrive while the group is busy wait and go as one query, each answered with its own rows', async () => {
    const batcher = new KeyBatcher<Row>((row) => row.key, { maxInFlight: 1, maxKeys: 10 });
    const { calls, query, release } = recordedQuery(TABLE);
    const first = batcher.load('g', ['a'], query);
    const waiting = [
      batcher.load('g', ['b'], query),
      batcher.load('g', ['c', 'd'], query),
      batcher.load('g', ['c'], query),
      batcher.load('g', ['x'], query),
    ];
    expect(calls).toEqual([['a']]);
    await release();
    expect(calls).toEqual([['a'], ['b', 'c', 'd', 'x']]);
    await release();
    expect(await first).toEqual([{ key: 'a', value: 1 }]);
    expect(await Promise.all(waiting)).toEqual([
      [
        { key: 'b', value: 2 },
        { key: 'b', value: 3 },
      ],
      [
        { key: 'c', value: 4 },
        { key: 'd', value: 5 },
      ],
      [{ key: 'c', value: 4 }],
      [],
    ]);
  });

  it('puts at most maxKeys keys in a query, but never holds back a lookup larger than that', async () => {
    const batcher = new KeyBatcher<Row>((row) => row.key, { maxInFlight: 1, maxKeys: 2 });
    const { calls, query, release } = recordedQuery(TABLE);
    const lookups = [
      batcher.load('g', ['a'], query),
      batcher.load('g', ['b'], query),
      batcher.load('g', ['c'], query),
      batcher.load('g', ['a', 'b', 'c'], query),
      batcher.load('g', ['d'], query),
    ];
    for (let i = 0; i < 4; i++) await release();
    expect(calls).toEqual([['a'], ['b', 'c'], ['a', 'b', 'c'], ['d']]);
    expect((await Promise.all(lookups)).map((rows) => rows.map((row) => row.value))).toEqual([
      [1],
      [2, 3],
      [4],
      [1, 2, 3, 4],
      [5],
    ]);
  });

  it('never mixes groups: each has its own queries in flight', async () => {
    const batcher = new KeyBatcher<Row>((row) => row.key, { maxInFlight: 1, maxKeys: 10 });
    const one = recordedQuery(TABLE);
    const other = recordedQuery(TABLE.map((row) => ({ ...row, value: row.value * 100 })));
    const first = batcher.load('one', ['a'], one.query);
    const second = batcher.load('other', ['a'], other.query);
    expect(one.calls).toEqual([['a']]);
    expect(other.calls).toEqual([['a']]);
    await one.release();
    await other.release();
    expect(await first).toEqual([{ key: 'a', value: 1 }]);
    expect(await second).toEqual([{ key: 'a', value: 100 }]);
  });

  it('rejects the lookups of a failed query with its error and goes on with the next', async () => {
    const batcher = new KeyBatcher<Row>((row) => row.key, { maxInFlight: 1, maxKeys: 10 });
    let fail = true;
    let release: () => void = () => {};
    const query = async (keys: readonly string[]) => {
      if (fail) {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        fail = false;
        throw new Error('connection lost');
      }
      return TABLE.filter((row) => keys.includes(row.key));
    };
    const failed = batcher.load('g', ['a'], query);
    const after = batcher.load('g', ['d'], query);
    release();
    await expect(failed).rejects.toThrow('connection lost');
    expect(await after).toEqual([{ key: 'd', value: 5 }]);
    expect(await batcher.load('g', ['a'], query)).toEqual([{ key: 'a', value: 1 }]);
  });

  it('refuses a batcher that could never send a query', () => {
    expect(() => new KeyBatcher<Row>((row) => row.key, { maxInFlight: 0, maxKeys: 10 })).toThrow(RangeError);
    expect(() => new KeyBatcher<Row>((row) => row.key, { maxInFlight: 1, maxKeys: 0 })).toThrow(RangeError);
  });
});
