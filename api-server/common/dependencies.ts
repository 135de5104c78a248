// What the api-server's plugins are handed: the typed configuration, the database and the
// message bus. Plugins take them as options instead of importing globals, so tests can build
// a server over any database and bus.
import type { MessageBus } from '../../lib/bus/types.js';
import type { Config } from '../../lib/config.js';
import type { Database } from '../../lib/db/database.js';

export interface ServerDependencies {
  config: Config;
  database: Database;
  bus: MessageBus;
}
