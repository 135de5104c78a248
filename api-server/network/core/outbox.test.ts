// The outbox: a change is published exactly when its transaction commits, at least once, in
// order, with a message id consumers dedupe by.

import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBus } from '../../../lib/bus/index.js';
import { type Database, openDatabase } from '../../../lib/db/database.js';
import { migrateToLatest } from '../../../lib/db/migrations.js';
import { withTransaction } from '../../../lib/db/transaction.js';
import { createLogger } from '../../../lib/log.js';
import { CHANGE_METHOD, CHANGES_TOPIC, type ChangeMessage } from '../../../lib/messages/network-changes.js';
import { coreMigrations } from './migrations.js';
import { OutboxRelay, recordChange } from './outbox.js';
import type { CoreTables } from './tables.js';

const quiet = { info() {}, warn() {} };

/**
 * A real in-process bus with a node that records every change it is sent. `down()` closes the
 * bus the relay publishes on, as a lost broker connection would; `up()` gives it a new one.
 */
async function recordingBus() {
  const log = createLogger('outbox-test', 'silent');
  const broker = `memory://${randomUUID()}`;
  const published: ChangeMessage[] = [];
  const listener = await createBus(broker, { log });
  await listener.serve(
    { topic: CHANGES_TOPIC, server: 'node-1' },
    {
      [CHANGE_METHOD]: (args) => {
        published.push(args as unknown as ChangeMessage);
      },
    },
  );
  const state = { bus: await createBus(broker, { log }) };
  return {
    published,
    bus: () => state.bus,
    down: () => state.bus.close(),
    up: async () => {
      state.bus = await createBus(broker, { log });
    },
    /** Waits until `count` changes arrived (the in-process bus delivers asynchronously). */
    received: async (count: number) => {
      for (let i = 0; i < 100 && published.length < count; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: async () => {
      await state.bus.close();
      await listener.close();
    },
  };
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
    const recording = await recordingBus();
    const { published } = recording;
    await withTransaction(db, (trx) =>
      recordChange(trx, {
        kind: 'port',
        action: 'update',
        id: 'p1',
        projectId: 'proj',
        hosts: ['a', 'b', 'a', ''],
      }),
    );
    const relay = new OutboxRelay(db, recording.bus(), quiet);
    relay.start();
    await relay.flush();
    await relay.stop();
    await recording.received(1);
    await recording.close();
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
    const recording = await recordingBus();
    await expect(
      withTransaction(db, async (trx) => {
        await recordChange(trx, { kind: 'network', action: 'create', id: 'n1', projectId: 'proj' });
        throw new Error('the rest of the write failed');
      }),
    ).rejects.toThrow('the rest of the write failed');
    const relay = new OutboxRelay(db, recording.bus(), quiet);
    relay.start();
    await relay.flush();
    await relay.stop();
    await recording.received(1);
    await recording.close();
    expect(recording.published).toEqual([]);
  });

  it('keeps what the bus did not take and a restarted relay publishes it, in order', async () => {
    const db = database.tables<CoreTables>();
    const recording = await recordingBus();
    const { published } = recording;
    for (const id of ['s1', 's2', 's3']) {
      await withTransaction(db, (trx) =>
        recordChange(trx, { kind: 'subnet', action: 'create', id, projectId: 'p' }),
      );
    }
    await recording.down();
    const first = new OutboxRelay(db, recording.bus(), quiet);
    first.start();
    await first.flush();
    await first.stop();
    expect(published).toEqual([]);
    expect(await db.selectFrom('network_outbox').select('seq').execute()).toHaveLength(3);

    await recording.up();
    const second = new OutboxRelay(db, recording.bus(), quiet);
    second.start();
    await second.flush();
    await second.stop();
    await recording.received(3);
    await recording.close();
    expect(published.map((message) => message.id)).toEqual(['s1', 's2', 's3']);
    expect(new Set(published.map((message) => message.message_id)).size).toBe(3);
    expect(await db.selectFrom('network_outbox').select('seq').execute()).toEqual([]);
  });
});
