// The functions other areas call, on a private SQLite database: the default group made once
// however many ask at the same time, quota checks with a counter another area registers,
// networks shared by RBAC, heartbeats, and the prefix arithmetic rules rely on.
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../lib/db/database.js';
import { migrateToLatest } from '../../../lib/db/migrations.js';
import { withTransaction } from '../../../lib/db/transaction.js';
import { createLogger } from '../../../lib/log.js';
import { agentView, listAgents, recordHeartbeat } from './agents.js';
import { securityMigrations } from './migrations.js';
import { checkQuota, registerQuotaCounter } from './quotas.js';
import { networkIdsExternalFor, networkIdsSharedWith } from './rbac.js';
import { normalizeProtocol, ruleIdentity } from './rules.js';
import { ensureDefaultSecurityGroup } from './security-groups.js';
import type { SecurityTables } from './tables.js';

let database: Database;
let db: Kysely<SecurityTables>;

beforeAll(async () => {
  database = await openDatabase('sqlite::memory:', { dataDir: '.' });
  await migrateToLatest(
    database,
    [{ service: 'network', migrations: securityMigrations }],
    createLogger('test', 'silent'),
  );
  db = database.tables<SecurityTables>();
});

afterAll(() => database.destroy());

describe('ensureDefaultSecurityGroup', () => {
  it('makes one default group with four rules however many callers race', async () => {
    const ids = await Promise.all(
      Array.from({ length: 8 }, () => ensureDefaultSecurityGroup(db, 'project-race')),
    );
    expect(new Set(ids).size).toBe(1);
    const groups = await db
      .selectFrom('network_security_group')
      .selectAll()
      .where('project_id', '=', 'project-race')
      .execute();
    expect(groups).toHaveLength(1);
    const rules = await db
      .selectFrom('network_security_group_rule')
      .selectAll()
      .where('security_group_id', '=', ids[0]!)
      .execute();
    expect(rules).toHaveLength(4);
  });

  it("joins the caller's transaction, so a rolled back caller leaves no group", async () => {
    await expect(
      withTransaction(db, async (trx) => {
        await ensureDefaultSecurityGroup(trx, 'project-rollback');
        throw new Error('the caller failed later');
      }),
    ).rejects.toThrow('the caller failed later');
    const groups = await db
      .selectFrom('network_security_group')
      .selectAll()
      .where('project_id', '=', 'project-rollback')
      .execute();
    expect(groups).toEqual([]);
  });
});

describe('checkQuota', () => {
  it("counts another area's resource through its registered counter", async () => {
    let ports = 499;
    registerQuotaCounter('port', async () => ports);
    await checkQuota(db, 'project-q', 'port');
    await expect(checkQuota(db, 'project-q', 'port', 2)).rejects.toMatchObject({
      status: 409,
      type: 'OverQuota',
      message: "Quota exceeded for resources: ['port'].",
    });
    ports = 500;
    await expect(checkQuota(db, 'project-q', 'port')).rejects.toMatchObject({ status: 409 });
    await db
      .insertInto('network_quota')
      .values({ project_id: 'project-q', resource: 'port', hard_limit: -1 })
      .execute();
    await checkQuota(db, 'project-q', 'port', 10_000);
  });

  it('never refuses an unlimited resource nor one without a counter', async () => {
    await checkQuota(db, 'project-q', 'subnetpool', 1_000_000);
    await checkQuota(db, 'project-q', 'router', 10);
    await expect(checkQuota(db, 'project-q', 'router', 11)).rejects.toMatchObject({ status: 409 });
  });
});

describe('networkIdsSharedWith', () => {
  it('returns networks shared with the project or with everyone, not external ones', async () => {
    const policy = (id: string, object_id: string, action: string, target_tenant: string) => ({
      id,
      project_id: 'owner',
      object_type: 'network',
      object_id,
      action,
      target_tenant,
    });
    await db
      .insertInto('network_rbac_policy')
      .values([
        policy('p1', 'net-a', 'access_as_shared', 'project-x'),
        policy('p2', 'net-b', 'access_as_shared', '*'),
        policy('p3', 'net-c', 'access_as_shared', 'project-y'),
        policy('p4', 'net-d', 'access_as_external', '*'),
        policy('p5', 'net-a', 'access_as_shared', '*'),
      ])
      .execute();
    expect((await networkIdsSharedWith(db, 'project-x')).sort()).toEqual(['net-a', 'net-b']);
    expect((await networkIdsSharedWith(db, 'project-z')).sort()).toEqual(['net-a', 'net-b']);
    expect(await networkIdsExternalFor(db, 'project-x')).toEqual(['net-d']);
  });
});

describe('agent heartbeats', () => {
  it('keeps one row per agent and host, alive until 75 s without a heartbeat', async () => {
    const beat = { agent_type: 'L3 agent', binary: 'overcast-node-agent', host: 'net-1', topic: 'l3_agent' };
    await recordHeartbeat(db, beat, '2026-01-01T00:00:00.000Z');
    await recordHeartbeat(db, beat, '2026-01-01T00:00:30.000Z');
    const rows = (await listAgents(db)).filter((row) => row.host === 'net-1');
    expect(rows).toHaveLength(1);
    const seen = Date.parse('2026-01-01T00:00:30.000Z');
    expect(agentView(rows[0]!, seen + 74_000)).toMatchObject({
      alive: true,
      heartbeat_timestamp: '2026-01-01 00:00:30',
    });
    expect(agentView(rows[0]!, seen + 76_000).alive).toBe(false);
  });
});

describe('rule identity', () => {
  it('treats an any-address prefix as no prefix and protocol names as their numbers', () => {
    const base = {
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
      remote_group_id: null,
    };
    expect(ruleIdentity(base)).toBe(ruleIdentity({ ...base, remote_ip_prefix: null }));
    expect(ruleIdentity(base)).toBe(ruleIdentity({ ...base, protocol: normalizeProtocol('6') }));
    expect(ruleIdentity(base)).not.toBe(ruleIdentity({ ...base, remote_ip_prefix: '10.0.0.0/8' }));
    expect(ruleIdentity({ ...base, remote_ip_prefix: '10.0.0.5/8' })).toBe(
      ruleIdentity({ ...base, remote_ip_prefix: '10.0.0.0/8' }),
    );
  });
});
