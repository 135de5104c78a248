// `overcast manage ...`: administrative tasks on the database.
import { mkdir } from 'node:fs/promises';
import { SERVICE_MIGRATIONS } from '../../../api-server/services.js';
import { type Config, publicBaseUrl } from '../../config.js';
import { type Database, openDatabase } from '../../db/database.js';
import { migrateToLatest, migrationStatus } from '../../db/migrations.js';
import type { Logger } from '../../log.js';
import { EXIT_OK, orUnavailable } from '../exit-codes.js';

async function withDatabase<T>(config: Config, work: (database: Database) => Promise<T>): Promise<T> {
  await mkdir(config.dataDir, { recursive: true });
  const database = await orUnavailable('cannot open the database', () =>
    openDatabase(config.database.url, { dataDir: config.dataDir }),
  );
  try {
    return await work(database);
  } finally {
    await database.destroy();
  }
}

export async function dbSync(config: Config, log: Logger): Promise<number> {
  const applied = await withDatabase(config, (database) =>
    migrateToLatest(database, SERVICE_MIGRATIONS, log),
  );
  process.stdout.write(`db-sync: ${applied.length} migrations applied\n`);
  return EXIT_OK;
}

export async function dbVersion(config: Config): Promise<number> {
  const lines = await withDatabase(config, (database) => migrationStatus(database, SERVICE_MIGRATIONS));
  for (const line of lines) process.stdout.write(`${line}\n`);
  return EXIT_OK;
}

export async function bootstrap(config: Config, log: Logger, password: string | undefined): Promise<number> {
  const { bootstrapIdentity } = await import('../../../api-server/identity/bootstrap.js');
  const { SERVICES } = await import('../../../api-server/services.js');
  const { adminPassword, writeClientFiles } = await import('../admin-files.js');
  const secret = await adminPassword(config, password);
  const report = await withDatabase(config, async (database) => {
    await migrateToLatest(database, SERVICE_MIGRATIONS, log);
    return bootstrapIdentity(database, config, {
      adminPassword: secret,
      publicUrl: publicBaseUrl(config),
      services: SERVICES,
    });
  });
  await writeClientFiles(config, secret);
  for (const line of report.created) process.stdout.write(`created ${line}\n`);
  for (const line of report.updated) process.stdout.write(`updated ${line}\n`);
  process.stdout.write(
    `bootstrap: done; admin credentials in ${config.dataDir}/admin-openrc and clouds.yaml\n`,
  );
  return EXIT_OK;
}

export async function fernetSetup(config: Config): Promise<number> {
  const { setupKeyRepository } = await import('../../../api-server/identity/tokens/keys.js');
  const { keyRepositoryPath } = await import('../../../api-server/identity/runtime.js');
  const state = setupKeyRepository(keyRepositoryPath(config));
  process.stdout.write(`fernet-setup: keys ${state.keyNumbers.join(', ')} in ${keyRepositoryPath(config)}\n`);
  return EXIT_OK;
}

export async function fernetRotate(config: Config): Promise<number> {
  const { rotateKeys } = await import('../../../api-server/identity/tokens/keys.js');
  const { keyRepositoryPath } = await import('../../../api-server/identity/runtime.js');
  const rotation = rotateKeys(keyRepositoryPath(config), config.identity.maxActiveKeys);
  process.stdout.write(
    `fernet-rotate: primary key is now ${rotation.primary}; keys ${rotation.keyNumbers.join(', ')}` +
      `${rotation.purged.length > 0 ? `; removed ${rotation.purged.join(', ')}` : ''}\n`,
  );
  return EXIT_OK;
}
