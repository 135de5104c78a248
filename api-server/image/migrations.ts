// The image service's schema, by the portability rules in lib/db/migrations.ts (ids varchar,
// booleans integer 0/1, timestamps ISO strings in varchar(32)); every table `ifNotExists` so a
// MySQL run that failed halfway can be repeated.
import type { Kysely } from 'kysely';
import type { AnyTables } from '../../lib/db/database.js';
import type { ServiceMigrations } from '../../lib/db/migrations.js';

const IMAGE_ID = 'varchar(36)';
const TIME = 'varchar(32)';

async function createImageSchema(db: Kysely<AnyTables>): Promise<void> {
  await db.schema
    .createTable('image_image')
    .ifNotExists()
    .addColumn('id', IMAGE_ID, (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)')
    .addColumn('status', 'varchar(30)', (c) => c.notNull())
    .addColumn('visibility', 'varchar(20)', (c) => c.notNull())
    .addColumn('protected', 'integer', (c) => c.notNull())
    .addColumn('os_hidden', 'integer', (c) => c.notNull())
    .addColumn('owner', 'varchar(255)', (c) => c.notNull())
    .addColumn('disk_format', 'varchar(20)')
    .addColumn('container_format', 'varchar(20)')
    .addColumn('min_ram', 'integer', (c) => c.notNull())
    .addColumn('min_disk', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint')
    .addColumn('virtual_size', 'bigint')
    .addColumn('checksum', 'varchar(32)')
    .addColumn('os_hash_algo', 'varchar(64)')
    .addColumn('os_hash_value', 'varchar(128)')
    .addColumn('location', 'text')
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('image_image_owner')
    .ifNotExists()
    .on('image_image')
    .columns(['owner', 'status'])
    .execute();

  await db.schema
    .createTable('image_property')
    .ifNotExists()
    .addColumn('image_id', IMAGE_ID, (c) => c.notNull().references('image_image.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_property_pk', ['image_id', 'name'])
    .execute();

  await db.schema
    .createTable('image_tag')
    .ifNotExists()
    .addColumn('image_id', IMAGE_ID, (c) => c.notNull().references('image_image.id').onDelete('cascade'))
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_tag_pk', ['image_id', 'value'])
    .execute();

  await db.schema
    .createTable('image_member')
    .ifNotExists()
    .addColumn('image_id', IMAGE_ID, (c) => c.notNull().references('image_image.id').onDelete('cascade'))
    .addColumn('member_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME, (c) => c.notNull())
    .addPrimaryKeyConstraint('image_member_pk', ['image_id', 'member_id'])
    .execute();
}

export const imageMigrations: ServiceMigrations = {
  service: 'image',
  migrations: {
    '0001_image_schema': { up: createImageSchema },
  },
};
