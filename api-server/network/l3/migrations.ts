// The l3 area's schema (routers, their interfaces, floating IPs), by the portability rules in
// lib/db/migrations.ts; every statement `ifNotExists` so a MySQL run that failed halfway can be
// repeated. Ports are the core's: the foreign keys keep a router's or floating IP's port from
// going while they use it.
import type { Kysely } from 'kysely';
import type { AnyTables } from '../../../lib/db/database.js';
import type { Migration } from '../../../lib/db/migrations.js';

const ID = 'varchar(36)';
const TIME = 'varchar(32)';

async function createL3Schema(db: Kysely<AnyTables>): Promise<void> {
  await db.schema
    .createTable('network_router')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('admin_state_up', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('gw_network_id', ID, (c) => c.references('network_network.id'))
    .addColumn('gw_port_id', ID, (c) => c.references('network_port.id'))
    .addColumn('enable_snat', 'integer', (c) => c.notNull())
    .addColumn('routes', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('network_router_project')
    .ifNotExists()
    .on('network_router')
    .column('project_id')
    .execute();

  await db.schema
    .createTable('network_router_port')
    .ifNotExists()
    .addColumn('port_id', ID, (c) => c.primaryKey().references('network_port.id'))
    .addColumn('router_id', ID, (c) => c.notNull().references('network_router.id'))
    .execute();
  await db.schema
    .createIndex('network_router_port_router')
    .ifNotExists()
    .on('network_router_port')
    .column('router_id')
    .execute();

  await db.schema
    .createTable('network_floating_ip')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('floating_network_id', ID, (c) => c.notNull().references('network_network.id'))
    .addColumn('floating_port_id', ID, (c) => c.notNull().unique().references('network_port.id'))
    .addColumn('floating_ip_address', 'varchar(64)', (c) => c.notNull())
    .addColumn('fixed_port_id', ID, (c) => c.references('network_port.id').onDelete('set null'))
    .addColumn('fixed_ip_address', 'varchar(64)')
    .addColumn('router_id', ID, (c) => c.references('network_router.id'))
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    // Neutron's rule: one fixed address carries one floating IP per external network.
    .addUniqueConstraint('network_floating_ip_fixed', [
      'floating_network_id',
      'fixed_port_id',
      'fixed_ip_address',
    ])
    .execute();
  await db.schema
    .createIndex('network_floating_ip_project')
    .ifNotExists()
    .on('network_floating_ip')
    .column('project_id')
    .execute();
  await db.schema
    .createIndex('network_floating_ip_router')
    .ifNotExists()
    .on('network_floating_ip')
    .column('router_id')
    .execute();
}

export const l3Migrations: Record<string, Migration> = {
  '0003_l3_schema': { up: createL3Schema },
};
