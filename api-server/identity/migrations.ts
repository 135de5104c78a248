// The identity service's schema. Written by the portability rules in lib/db/migrations.ts:
// ids varchar(64), booleans integer 0/1, timestamps ISO strings in varchar(32). Every table
// is created `ifNotExists` because MySQL commits each DDL statement on its own, so a re-run
// after a failure halfway must not trip over the tables already made.
import type { Kysely } from 'kysely';
import type { AnyTables } from '../../lib/db/database.js';
import type { ServiceMigrations } from '../../lib/db/migrations.js';

const ID = 'varchar(64)';
const NAME = 'varchar(255)';
const TIME = 'varchar(32)';

async function createIdentitySchema(db: Kysely<AnyTables>): Promise<void> {
  await db.schema
    .createTable('identity_domain')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('identity_project')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('domain_id', ID, (c) => c.notNull().references('identity_domain.id'))
    .addColumn('parent_id', ID, (c) => c.references('identity_project.id'))
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addUniqueConstraint('identity_project_domain_name', ['domain_id', 'name'])
    .execute();

  await db.schema
    .createTable('identity_project_tag')
    .ifNotExists()
    .addColumn('project_id', ID, (c) => c.notNull().references('identity_project.id').onDelete('cascade'))
    .addColumn('name', NAME, (c) => c.notNull())
    .addPrimaryKeyConstraint('identity_project_tag_pk', ['project_id', 'name'])
    .execute();

  await db.schema
    .createTable('identity_user')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('domain_id', ID, (c) => c.notNull().references('identity_domain.id'))
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('default_project_id', ID)
    .addColumn('password_hash', 'varchar(255)')
    .addColumn('password_created_at', TIME)
    .addColumn('extra', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addUniqueConstraint('identity_user_domain_name', ['domain_id', 'name'])
    .execute();

  await db.schema
    .createTable('identity_group')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('domain_id', ID, (c) => c.notNull().references('identity_domain.id'))
    .addColumn('description', 'text')
    .addColumn('extra', 'text', (c) => c.notNull())
    .addUniqueConstraint('identity_group_domain_name', ['domain_id', 'name'])
    .execute();

  await db.schema
    .createTable('identity_group_membership')
    .ifNotExists()
    .addColumn('group_id', ID, (c) => c.notNull().references('identity_group.id').onDelete('cascade'))
    .addColumn('user_id', ID, (c) => c.notNull().references('identity_user.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('identity_group_membership_pk', ['group_id', 'user_id'])
    .execute();

  // Global roles have domain_id GLOBAL_ROLE_DOMAIN rather than NULL, so that the unique
  // constraint on (domain_id, name) holds for them on both dialects.
  await db.schema
    .createTable('identity_role')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('domain_id', ID, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('extra', 'text', (c) => c.notNull())
    .addUniqueConstraint('identity_role_domain_name', ['domain_id', 'name'])
    .execute();

  await db.schema
    .createTable('identity_implied_role')
    .ifNotExists()
    .addColumn('prior_role_id', ID, (c) => c.notNull().references('identity_role.id').onDelete('cascade'))
    .addColumn('implied_role_id', ID, (c) => c.notNull().references('identity_role.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('identity_implied_role_pk', ['prior_role_id', 'implied_role_id'])
    .execute();

  // One row per grant: actor (user or group) has role on target (project, domain or system).
  await db.schema
    .createTable('identity_assignment')
    .ifNotExists()
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor_id', ID, (c) => c.notNull())
    .addColumn('target_id', ID, (c) => c.notNull())
    .addColumn('role_id', ID, (c) => c.notNull().references('identity_role.id').onDelete('cascade'))
    .addColumn('inherited', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('identity_assignment_pk', [
      'type',
      'actor_id',
      'target_id',
      'role_id',
      'inherited',
    ])
    .execute();
  await db.schema
    .createIndex('identity_assignment_actor')
    .ifNotExists()
    .on('identity_assignment')
    .column('actor_id')
    .execute();
  await db.schema
    .createIndex('identity_assignment_target')
    .ifNotExists()
    .on('identity_assignment')
    .column('target_id')
    .execute();

  await db.schema
    .createTable('identity_region')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('description', 'text')
    .addColumn('parent_region_id', ID)
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('identity_service')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('type', NAME, (c) => c.notNull())
    .addColumn('name', NAME)
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('identity_endpoint')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('service_id', ID, (c) => c.notNull().references('identity_service.id').onDelete('cascade'))
    .addColumn('interface', 'varchar(8)', (c) => c.notNull())
    .addColumn('region_id', ID)
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('identity_application_credential')
    .ifNotExists()
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('user_id', ID, (c) => c.notNull().references('identity_user.id').onDelete('cascade'))
    .addColumn('project_id', ID, (c) => c.notNull())
    .addColumn('secret_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('expires_at', TIME)
    .addColumn('unrestricted', 'integer', (c) => c.notNull())
    .addColumn('role_ids', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addUniqueConstraint('identity_app_cred_user_name', ['user_id', 'name'])
    .execute();

  await db.schema
    .createTable('identity_revocation_event')
    .ifNotExists()
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('audit_id', 'varchar(32)')
    .addColumn('audit_chain_id', 'varchar(32)')
    .addColumn('user_id', ID)
    .addColumn('project_id', ID)
    .addColumn('domain_id', ID)
    .addColumn('issued_before', TIME, (c) => c.notNull())
    .addColumn('revoked_at', TIME, (c) => c.notNull())
    .execute();
}

export const identityMigrations: ServiceMigrations = {
  service: 'identity',
  migrations: {
    '0001_identity_schema': { up: createIdentitySchema },
  },
};
