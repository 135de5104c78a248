// Network agents as Neutron lists them, from the heartbeats node agents send: each node agent
// reports, every config.node.heartbeatIntervalMs, the agents it runs on its host (fanout
// `report_state` on the AGENT_HEARTBEAT_TOPIC); every api-server records them, so any replica
// answers GET /v2.0/agents. An agent is alive while its last heartbeat is under 75 s old
// (Neutron's agent_down_time).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { fromBit, fromJsonColumn, isoNow, toBit } from '../../../lib/db/columns.js';
import { isUniqueViolation } from '../../../lib/db/errors.js';
import type { AgentHeartbeat } from '../../../lib/messages/agent-heartbeat.js';
import { NotFound } from '../../common/errors.js';
import type { SecurityTables } from './tables.js';

export const AGENT_DOWN_TIME_SECONDS = 75;

type AgentRow = SecurityTables['network_agent'];

/** Neutron's timestamp form for agents: "2026-11-23 04:50:09". */
function agentTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

export function agentView(row: AgentRow, now = Date.now()) {
  return {
    id: row.id,
    agent_type: row.agent_type,
    binary: row.binary,
    host: row.host,
    topic: row.topic,
    alive: now - Date.parse(row.heartbeat_at) < AGENT_DOWN_TIME_SECONDS * 1000,
    admin_state_up: fromBit(Number(row.admin_state_up)),
    availability_zone: row.availability_zone,
    configurations: fromJsonColumn(row.configurations),
    description: row.description,
    heartbeat_timestamp: agentTime(row.heartbeat_at),
    created_at: agentTime(row.created_at),
    started_at: agentTime(row.started_at),
  };
}

export function agentNotFound(id: string): NotFound {
  return new NotFound(`Agent ${id} could not be found.`, 'AgentNotFound');
}

/** Records a heartbeat: the agent's row is made on its first, refreshed on every later one. */
export async function recordHeartbeat(
  db: Kysely<SecurityTables>,
  beat: AgentHeartbeat,
  now = isoNow(),
): Promise<void> {
  const startedAt =
    beat.started_at && !Number.isNaN(Date.parse(beat.started_at))
      ? new Date(beat.started_at).toISOString()
      : now;
  const configurations = JSON.stringify(beat.configurations ?? {});
  const refresh = () =>
    db
      .updateTable('network_agent')
      .set({
        binary: beat.binary,
        topic: beat.topic,
        availability_zone: beat.availability_zone ?? null,
        configurations,
        started_at: startedAt,
        heartbeat_at: now,
      })
      .where('agent_type', '=', beat.agent_type)
      .where('host', '=', beat.host)
      .executeTakeFirst();
  if (Number((await refresh()).numUpdatedRows) > 0) return;
  try {
    await db
      .insertInto('network_agent')
      .values({
        id: randomUUID(),
        agent_type: beat.agent_type,
        binary: beat.binary,
        host: beat.host,
        topic: beat.topic,
        availability_zone: beat.availability_zone ?? null,
        admin_state_up: toBit(true),
        configurations,
        description: null,
        created_at: now,
        started_at: startedAt,
        heartbeat_at: now,
      })
      .execute();
  } catch (err) {
    // Another replica recorded the same agent's first heartbeat at the same moment.
    if (!isUniqueViolation(err)) throw err;
    await refresh();
  }
}

export async function listAgents(db: Kysely<SecurityTables>): Promise<AgentRow[]> {
  return db.selectFrom('network_agent').selectAll().orderBy('host').orderBy('agent_type').execute();
}

export async function findAgent(db: Kysely<SecurityTables>, id: string): Promise<AgentRow | undefined> {
  return db.selectFrom('network_agent').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateAgent(
  db: Kysely<SecurityTables>,
  id: string,
  changes: { admin_state_up?: boolean; description?: string | null },
): Promise<void> {
  await db
    .updateTable('network_agent')
    .set({
      ...(changes.admin_state_up !== undefined && { admin_state_up: toBit(changes.admin_state_up) }),
      ...(changes.description !== undefined && { description: changes.description }),
    })
    .where('id', '=', id)
    .execute();
}

export async function deleteAgent(db: Kysely<SecurityTables>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('network_agent').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
