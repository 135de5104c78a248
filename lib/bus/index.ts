// The message bus entry point: the URL scheme picks the broker.

import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createMemoryBus } from './memory.js';
import type { BusOptions, MessageBus } from './types.js';

export * from './types.js';

/**
 * memory://[NAME] — the in-process broker NAME, shared by every bus of this process that
 * names it; amqp://user:pass@host:port/vhost or amqps://… — RabbitMQ. An AMQP bus is
 * returned connected (it retries for options.connectTimeoutMs) and reconnects on its own.
 */
export async function createBus(url: string, options: BusOptions): Promise<MessageBus> {
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  switch (scheme) {
    case 'memory:':
      return createMemoryBus(url, options);
    case 'amqp:':
    case 'amqps:': {
      // amqplib is loaded only for a RabbitMQ URL: the embedded default never pays for it.
      const { createAmqpBus } = await import('./amqp.js');
      return createAmqpBus(url, options);
    }
    default:
      throw new TypeError(
        `unsupported message bus URL scheme ${JSON.stringify(scheme || url)}: use memory:// or amqp(s)://`,
      );
  }
}

/** The bus the configuration names, with its RPC timeout. */
export function createBusFromConfig(config: Pick<Config, 'bus'>, log: Logger): Promise<MessageBus> {
  return createBus(config.bus.url, { log, rpcTimeoutMs: config.bus.rpcTimeoutMs });
}
