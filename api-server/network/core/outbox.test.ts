// The outbox: a change is published exactly when its transaction commits, at least once, in
// order, with a message id consumers dedupe by.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageBus } from '../../../lib/bus/types.js';
import { type Database, openDatabase } from '../../../lib/db/database.js';
import { migrateToLatest } from '../../../lib/db/migrations.js';
import { withTransaction } from '../../../lib/db/transaction.js';
import { coreMigrations } from './migrations.js';
import { CHANGE_METHOD, CHANGES_TOPIC, type ChangeMessage, OutboxRelay, recordChange } from './outbox.js';
import type { CoreTables } from './tables.js';

const quiet = { info() {}, warn() {} };

/** A bus that records fanouts and fails while `down` is set. */
function recordingBus() {
  const published: ChangeMessage[] = [];
  const state = { down: false };
  const bus = {
    async fanout(topic: string, method: string, args: Record<string, unknown>) {
      if (state.down) throw new Error('broker unreachable');
      expect(topic).toBe(CHANGES_TOPIC);
      expect(method).toBe(CHANGE_METHOD);
      published.push(args as unknown as ChangeMessage);
    },
  } as unknown as MessageBus;
  return { bus, published, state };
}

let database: Database;

beforeEach(async () => {
  database = await openDatabase('sqlite::memory:', { dataDir: '.' });
  await migrateToLatest(database, [{ service: 'network', migrations: coreMigrations }], quiet);
});

afterEach(() => database.destroy());

describe('the network change outbox', () => {
  it('publishes a committed change as a versioned message and removes it', async () => {
    const db = database.tables<CoreTables>();
    const { bus, published } = recordingBus();
    await withTransaction(db, (trx) =>
      recordChange(trx, {
        kind: 'port',
        action: 'update',
        id: 'p1',
        projectId: 'proj',
        hosts: ['a', 'b', 'a', ''],
      }),
    );
    const relay = new OutboxRelay(db, bus, quiet);
    relay.start();
    await relay.flush();
    await relay.stop();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      version: 1,
      kind: 'port',
      action: 'update',
      id: 'p1',
      project_id: 'proj',
      hosts: ['a', 'b'],
    });
    expect(published[0]!.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await db.selectFrom('network_outbox').selectAll().execute()).toEqual([]);
  });

  it('publishes nothing for a write that rolls back', async () => {
    const db = database.tables<CoreTables>();
    const { bus, published } = recordingBus();
    await expect(
      withTransaction(db, async (trx) => {
        await recordChange(trx, { kind: 'network', action: 'create', id: 'n1', projectId: 'proj' });
        throw new Error('the rest of the write failed');
      }),
    ).rejects.toThrow('the rest of the write failed');
    const relay = new OutboxRelay(db, bus, quiet);
    relay.start();
    await relay.flush();
    await relay.stop();
    expect(published).toEqual([]);
  });

  it('keeps what the bus did not take and a restarted relay publishes it, in order', async () => {
    const db = database.tables<CoreTables>();
    const { bus, published, state } = recordingBus();
    for (const id of ['s1', 's2', 's3']) {
      await withTransaction(db, (trx) =>
        recordChange(trx, { kind: 'subnet', action: 'create', id, projectId: 'p' }),
      );
    }
    state.down = true;
    const first = new OutboxRelay(db, bus, quiet);
    first.start();
    await first.flush();
    await first.stop();
    expect(published).toEqual([]);
    expect(await db.selectFrom('network_outbox').select('seq').execute()).toHaveLength(3);

    state.down = false;
    const second = new OutboxRelay(db, bus, quiet);
    second.start();
    await second.flush();
    await second.stop();
    expect(published.map((message) => message.id)).toEqual(['s1', 's2', 's3']);
    expect(new Set(published.map((message) => message.message_id)).size).toBe(3);
    expect(await db.selectFrom('network_outbox').select('seq').execute()).toEqual([]);
  });
});
