// Change notifications for the data plane (issue 5, item 8). A change is written to
// network_outbox in the same transaction as the change itself, so it is recorded exactly when
// the change commits: a rolled-back write leaves no message, a crash after commit loses none.
// The relay publishes pending rows on the bus and deletes them once the bus has taken them; a
// relay that stops between the two publishes them again on its next run, so consumers dedupe by
// message_id (delivery is at-least-once).
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { MessageBus } from '../../../lib/bus/types.js';
import { isoNow } from '../../../lib/db/columns.js';
import type { Logger } from '../../../lib/log.js';
import {
  CHANGE_MESSAGE_VERSION,
  CHANGE_METHOD,
  CHANGES_TOPIC,
  type ChangeAction,
  type ChangeKind,
  type ChangeMessage,
} from '../../../lib/messages/network-changes.js';
import type { CoreTables } from './tables.js';

export interface Change {
  kind: ChangeKind;
  action: ChangeAction;
  id: string;
  projectId: string;
  routerId?: string;
  hosts?: readonly string[];
}

/** Records `change` inside `trx`; it goes out only if the transaction commits. */
export async function recordChange(trx: Transaction<CoreTables>, change: Change): Promise<void> {
  const hosts = [...new Set(change.hosts ?? [])].filter((host) => host !== '');
  const message: ChangeMessage = {
    version: CHANGE_MESSAGE_VERSION,
    message_id: randomUUID(),
    kind: change.kind,
    action: change.action,
    id: change.id,
    project_id: change.projectId,
    ...(change.routerId !== undefined ? { router_id: change.routerId } : {}),
    ...(hosts.length > 0 ? { hosts } : {}),
  };
  await trx
    .insertInto('network_outbox')
    .values({ message_id: message.message_id, body: JSON.stringify(message), created_at: isoNow() })
    .execute();
}

export interface OutboxRelayOptions {
  /** How often pending rows are looked for even when nobody kicks the relay (default 1000 ms). */
  pollIntervalMs?: number;
  /** Rows published per batch (default 200). */
  batchSize?: number;
}

/**
 * Publishes the outbox: on start, every `pollIntervalMs`, and soon after kick() (called after
 * a commit that recorded changes). One batch at a time; stop() waits for the one under way.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly db: Kysely<CoreTables>,
    private readonly bus: MessageBus,
    private readonly log: Pick<Logger, 'warn'>,
    options: OutboxRelayOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 200;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Asks for a run soon; runs are never concurrent, a kick during one makes another follow. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Publishes until nothing is pending; resolves when done (tests and shutdown use it). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.drain();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.db
          .selectFrom('network_outbox')
          .select(['seq', 'body'])
          .orderBy('seq')
          .limit(this.batchSize)
          .execute();
        if (rows.length === 0) return;
        // Published in order; the rows go once the bus has taken them all. A failure part-way
        // leaves the whole batch to be published again (consumers dedupe by message_id).
        for (const row of rows) {
          await this.bus.fanout(
            CHANGES_TOPIC,
            CHANGE_METHOD,
            JSON.parse(row.body) as Record<string, unknown>,
          );
        }
        // Exactly the rows published: a range would also take a row with a lower seq whose
        // transaction commits only now, before it was ever published.
        await this.db
          .deleteFrom('network_outbox')
          .where(
            'seq',
            'in',
            rows.map((row) => row.seq),
          )
          .execute();
        if (rows.length < this.batchSize) return;
      }
    } catch (err) {
      // The rows stay and go out on a later run.
      this.log.warn({ err }, 'network change notifications not published; retrying later');
    }
  }
}
