// The security area's schema, by the portability rules of lib/db/migrations.ts: ids varchar,
// booleans integer 0/1, timestamps ISO strings in varchar(32), every table ifNotExists so a
// MySQL run that failed halfway can be repeated.
import type { Kysely } from 'kysely';
import type { AnyTables } from '../../../lib/db/database.js';
import type { Migration } from '../../../lib/db/migrations.js';

const ID = 'varchar(36)';
const PROJECT = 'varchar(64)';
const TIME = 'varchar(32)';

async function createSecurityGroups(db: Kysely<AnyTables>): Promise<void> {
  await db.schema
    .createTable('network_security_group')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('project_id', PROJECT, (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('stateful', 'integer', (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('network_security_group_project')
    .ifNotExists()
    .on('network_security_group')
    .columns(['project_id', 'name'])
    .execute();
  await db.schema
    .createTable('network_default_security_group')
    .ifNotExists()
    .addColumn('project_id', PROJECT, (c) => c.primaryKey())
    .addColumn('security_group_id', ID, (c) =>
      c.notNull().references('network_security_group.id').onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createTable('network_security_group_rule')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('security_group_id', ID, (c) =>
      c.notNull().references('network_security_group.id').onDelete('cascade'),
    )
    .addColumn('project_id', PROJECT, (c) => c.notNull())
    .addColumn('direction', 'varchar(16)', (c) => c.notNull())
    .addColumn('ethertype', 'varchar(8)', (c) => c.notNull())
    .addColumn('protocol', 'varchar(40)')
    .addColumn('port_range_min', 'integer')
    .addColumn('port_range_max', 'integer')
    .addColumn('remote_ip_prefix', 'varchar(64)')
    .addColumn('remote_group_id', ID, (c) => c.references('network_security_group.id').onDelete('cascade'))
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('network_security_group_rule_group')
    .ifNotExists()
    .on('network_security_group_rule')
    .column('security_group_id')
    .execute();
  await db.schema
    .createIndex('network_security_group_rule_project')
    .ifNotExists()
    .on('network_security_group_rule')
    .column('project_id')
    .execute();
}

async function createQuotas(db: Kysely<AnyTables>): Promise<void> {
  await db.schema
    .createTable('network_quota')
    .ifNotExists()
    .addColumn('project_id', PROJECT, (c) => c.notNull())
    .addColumn('resource', 'varchar(64)', (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('network_quota_pk', ['project_id', 'resource'])
    .execute();
}

async function createAgents(db: Kysely<AnyTables>): Promise<void> {
  await db.schema
    .createTable('network_agent')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('agent_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('binary', 'varchar(64)', (c) => c.notNull())
    .addColumn('host', 'varchar(255)', (c) => c.notNull())
    .addColumn('topic', 'varchar(64)', (c) => c.notNull())
    .addColumn('availability_zone', 'varchar(255)')
    .addColumn('admin_state_up', 'integer', (c) => c.notNull())
    .addColumn('configurations', 'text', (c) => c.notNull())
    .addColumn('description', 'varchar(255)')
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('started_at', TIME, (c) => c.notNull())
    .addColumn('heartbeat_at', TIME, (c) => c.notNull())
    .addUniqueConstraint('network_agent_type_host', ['agent_type', 'host'])
    .execute();
}

async function createRbacPolicies(db: Kysely<AnyTables>): Promise<void> {
  await db.schema
    .createTable('network_rbac_policy')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('project_id', PROJECT, (c) => c.notNull())
    .addColumn('object_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('object_id', ID, (c) => c.notNull())
    .addColumn('action', 'varchar(32)', (c) => c.notNull())
    .addColumn('target_tenant', 'varchar(255)', (c) => c.notNull())
    .addUniqueConstraint('network_rbac_policy_unique', [
      'object_type',
      'object_id',
      'action',
      'target_tenant',
    ])
    .execute();
}

export const securityMigrations: Record<string, Migration> = {
  '0002_security_groups': { up: createSecurityGroups },
  '0002_security_quotas': { up: createQuotas },
  '0002_security_rbac_policies': { up: createRbacPolicies },
  '0002_security_agents': { up: createAgents },
};
