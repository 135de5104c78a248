import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ChangeType, Informer, type KubeObject, type ListWatchSource } from './informer.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const object = (name: string, resourceVersion: string): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion },
});

/** A fake apiserver: a list answer, and the watches opened with their resourceVersion. */
function fakeSource(initial: KubeObject[], resourceVersion: string) {
  const state = { items: initial, resourceVersion };
  const watches: {
    from: string;
    send: (type: string, object: KubeObject | Record<string, unknown>) => void;
    end: (error?: unknown) => void;
    aborted: boolean;
  }[] = [];
  let lists = 0;
  const source: ListWatchSource = {
    async list() {
      lists++;
      return { items: state.items, resourceVersion: state.resourceVersion };
    },
    async watch(from, onEvent, onEnd) {
      const handle = {
        from,
        send: (type: string, sent: KubeObject | Record<string, unknown>) => onEvent(type, sent as KubeObject),
        end: onEnd,
        aborted: false,
      };
      watches.push(handle);
      return {
        abort() {
          handle.aborted = true;
        },
      };
    },
  };
  return { source, state, watches, lists: () => lists };
}

function recording() {
  const changes: [ChangeType, string][] = [];
  return {
    changes,
    onChange: (type: ChangeType, changed: KubeObject) => changes.push([type, changed.metadata.name]),
  };
}

describe('the informer', () => {
  it('lists, then watches from the list resourceVersion, following events and bookmarks', async () => {
    const fake = fakeSource([object('a', '10')], '12');
    const record = recording();
    const informer = new Informer(fake.source, { watchdogMs: 60_000, onChange: record.onChange });
    await informer.start();
    expect(fake.watches[0]?.from).toBe('12');
    fake.watches[0]?.send('ADDED', object('b', '13'));
    fake.watches[0]?.send('BOOKMARK', { metadata: { resourceVersion: '20' } });
    expect(informer.lastResourceVersion).toBe('20');
    expect(informer.get('ns/b')?.metadata.resourceVersion).toBe('13');
    // The server closes the stream at its timeout: watch again from the bookmark, no list.
    fake.watches[0]?.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.watches[1]?.from).toBe('20');
    expect(fake.lists()).toBe(1);
    expect(record.changes).toEqual([
      ['ADDED', 'a'],
      ['ADDED', 'b'],
    ]);
    informer.stop();
  });

  it('lists again on 410 Gone and reports what changed while it was not watching', async () => {
    const fake = fakeSource([object('a', '10'), object('b', '11')], '12');
    const record = recording();
    const informer = new Informer(fake.source, { watchdogMs: 60_000, onChange: record.onChange });
    await informer.start();
    fake.state.items = [object('a', '30'), object('c', '31')];
    fake.state.resourceVersion = '32';
    fake.watches[0]?.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.watches[0]?.aborted).toBe(true);
    expect(fake.lists()).toBe(2);
    expect(informer.relists).toBe(1);
    expect(fake.watches[1]?.from).toBe('32');
    expect(record.changes.slice(2)).toEqual([
      ['MODIFIED', 'a'],
      ['ADDED', 'c'],
      ['DELETED', 'b'],
    ]);
    expect(
      informer
        .list()
        .map((held) => held.metadata.name)
        .sort(),
    ).toEqual(['a', 'c']);
    informer.stop();
  });

  it('restarts a stream that went silent without closing, from where it was', async () => {
    const fake = fakeSource([], '5');
    const informer = new Informer(fake.source, { watchdogMs: 10_000, onChange: () => {} });
    await informer.start();
    await vi.advanceTimersByTimeAsync(9_000);
    fake.watches[0]?.send('BOOKMARK', { metadata: { resourceVersion: '7' } });
    await vi.advanceTimersByTimeAsync(9_000);
    expect(fake.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(fake.watches[0]?.aborted).toBe(true);
    expect(fake.watches[1]?.from).toBe('7');
    // Late events of the abandoned stream are ignored.
    fake.watches[0]?.send('ADDED', object('ghost', '8'));
    expect(informer.get('ns/ghost')).toBeUndefined();
    informer.stop();
  });

  it('waits before watching again after a failed watch', async () => {
    const fake = fakeSource([], '5');
    const informer = new Informer(fake.source, { watchdogMs: 60_000, retryMs: 2_000, onChange: () => {} });
    await informer.start();
    fake.watches[0]?.end(Object.assign(new Error('Too Many Requests'), { statusCode: 429 }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fake.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fake.watches[1]?.from).toBe('5');
    informer.stop();
  });
});
