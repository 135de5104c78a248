// `overcast manage ...`: administrative tasks on the database.
import { mkdir } from 'node:fs/promises';
import { SERVICE_MIGRATIONS } from '../../../api-server/services.js';
import type { Config } from '../../config.js';
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
