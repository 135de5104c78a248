// What the api-server's plugins are handed. ServerDependencies come from outside (the
// database, the bus, the configuration), so tests can build a server over any of them;
// ServiceDependencies add what the server builds from them once: the identity runtime
// (tokens, caches — other services use it only as an Authenticator) and the policy engine.
import type { MessageBus } from '../../lib/bus/types.js';
import type { Config } from '../../lib/config.js';
import type { Database } from '../../lib/db/database.js';
import type { IdentityRuntime } from '../identity/runtime.js';
import type { PolicyEnforcer } from './policy/enforcer.js';

export interface ServerDependencies {
  config: Config;
  database: Database;
  bus: MessageBus;
}

export interface ServiceDependencies extends ServerDependencies {
  identity: IdentityRuntime;
  policy: PolicyEnforcer;
}
