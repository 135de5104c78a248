// The core area's schema (networks, segments, subnets, ports, IPAM, outbox), by the
// portability rules in lib/db/migrations.ts; every statement `ifNotExists` so a MySQL run that
// failed halfway can be repeated.
import type { Kysely } from 'kysely';
import type { AnyTables } from '../../../lib/db/database.js';
import type { Migration } from '../../../lib/db/migrations.js';

const ID = 'varchar(36)';
const TIME = 'varchar(32)';

async function createCoreSchema(db: Kysely<AnyTables>): Promise<void> {
  await db.schema
    .createTable('network_network')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('admin_state_up', 'integer', (c) => c.notNull())
    .addColumn('shared', 'integer', (c) => c.notNull())
    .addColumn('external', 'integer', (c) => c.notNull())
    .addColumn('port_security_enabled', 'integer', (c) => c.notNull())
    .addColumn('mtu', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('network_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('physical_network', 'varchar(64)', (c) => c.notNull())
    .addColumn('segmentation_id', 'integer')
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('network_network_project')
    .ifNotExists()
    .on('network_network')
    .column('project_id')
    .execute();

  await db.schema
    .createTable('network_segment_allocation')
    .ifNotExists()
    .addColumn('network_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('physical_network', 'varchar(64)', (c) => c.notNull())
    .addColumn('segmentation_id', 'integer', (c) => c.notNull())
    // No foreign key: the segment is taken before the network row is written.
    .addColumn('network_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('network_segment_allocation_pk', [
      'network_type',
      'physical_network',
      'segmentation_id',
    ])
    .execute();

  await db.schema
    .createTable('network_subnet')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('network_id', ID, (c) => c.notNull().references('network_network.id').onDelete('cascade'))
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('ip_version', 'integer', (c) => c.notNull())
    .addColumn('cidr', 'varchar(64)', (c) => c.notNull())
    .addColumn('gateway_ip', 'varchar(64)')
    .addColumn('allocation_pools', 'text', (c) => c.notNull())
    .addColumn('dns_nameservers', 'text', (c) => c.notNull())
    .addColumn('host_routes', 'text', (c) => c.notNull())
    .addColumn('enable_dhcp', 'integer', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('network_subnet_network')
    .ifNotExists()
    .on('network_subnet')
    .column('network_id')
    .execute();

  await db.schema
    .createTable('network_port')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('network_id', ID, (c) => c.notNull().references('network_network.id'))
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('mac_address', 'varchar(32)', (c) => c.notNull())
    .addColumn('admin_state_up', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('device_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('device_owner', 'varchar(255)', (c) => c.notNull())
    .addColumn('fixed_ips', 'text', (c) => c.notNull())
    .addColumn('port_security_enabled', 'integer', (c) => c.notNull())
    .addColumn('allowed_address_pairs', 'text', (c) => c.notNull())
    .addColumn('extra_dhcp_opts', 'text', (c) => c.notNull())
    .addColumn('binding_host_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('binding_vnic_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('binding_profile', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    .addUniqueConstraint('network_port_mac', ['network_id', 'mac_address'])
    .execute();
  await db.schema
    .createIndex('network_port_device')
    .ifNotExists()
    .on('network_port')
    .column('device_id')
    .execute();
  await db.schema
    .createIndex('network_port_project')
    .ifNotExists()
    .on('network_port')
    .column('project_id')
    .execute();

  await db.schema
    .createTable('network_ip_allocation')
    .ifNotExists()
    .addColumn('subnet_id', ID, (c) => c.notNull().references('network_subnet.id').onDelete('cascade'))
    .addColumn('ip_key', 'varchar(32)', (c) => c.notNull())
    .addColumn('ip_address', 'varchar(64)', (c) => c.notNull())
    .addColumn('port_id', ID, (c) => c.notNull().references('network_port.id').onDelete('cascade'))
    .addColumn('network_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('network_ip_allocation_pk', ['subnet_id', 'ip_key'])
    .execute();
  await db.schema
    .createIndex('network_ip_allocation_port')
    .ifNotExists()
    .on('network_ip_allocation')
    .column('port_id')
    .execute();

  await db.schema
    .createTable('network_port_security_group')
    .ifNotExists()
    .addColumn('port_id', ID, (c) => c.notNull().references('network_port.id').onDelete('cascade'))
    .addColumn('security_group_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('network_port_security_group_pk', ['port_id', 'security_group_id'])
    .execute();

  await db.schema
    .createTable('network_outbox')
    .ifNotExists()
    .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('message_id', ID, (c) => c.notNull().unique())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .execute();
}

export const coreMigrations: Record<string, Migration> = {
  '0001_core_schema': { up: createCoreSchema },
};
