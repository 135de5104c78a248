// Starting and stopping the api-server process: open the database, check its schema is
// current, connect the bus, listen.
import type { FastifyInstance } from 'fastify';
import { createBusFromConfig } from '../lib/bus/index.js';
import type { MessageBus } from '../lib/bus/types.js';
import { type Config, splitHostPort } from '../lib/config.js';
import { type Database, openDatabase } from '../lib/db/database.js';
import { pendingMigrations } from '../lib/db/migrations.js';
import type { Logger } from '../lib/log.js';
import { buildApiServer } from './server.js';
import { SERVICE_MIGRATIONS } from './services.js';

export interface RunningApiServer {
  app: FastifyInstance;
  /** The address it really listens on (the port is resolved when 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

export class SchemaOutOfDate extends Error {
  override name = 'SchemaOutOfDate';
}

export async function startApiServer(
  config: Config,
  log: Logger,
  shared: { database?: Database; bus?: MessageBus } = {},
): Promise<RunningApiServer> {
  const database = shared.database ?? (await openDatabase(config.database.url, { dataDir: config.dataDir }));
  const bus = shared.bus ?? (await createBusFromConfig(config, log.child({ component: 'bus' })));
  try {
    const pending = await pendingMigrations(database, SERVICE_MIGRATIONS);
    if (pending.length > 0) {
      throw new SchemaOutOfDate(
        `the database schema is behind (${pending.length} pending migrations: ${pending.slice(0, 5).join(', ')}); run 'overcast manage db-sync'`,
      );
    }
    const app = await buildApiServer({ config, database, bus }, log);
    const { host, port } = splitHostPort(config.listen);
    await app.listen({ host, port });
    const address = app.server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    log.info({ url }, 'api-server listening');
    return {
      app,
      url,
      async close() {
        await app.close();
        if (!shared.bus) await bus.close();
        if (!shared.database) await database.destroy();
      },
    };
  } catch (err) {
    if (!shared.bus) await bus.close();
    if (!shared.database) await database.destroy();
    throw err;
  }
}
