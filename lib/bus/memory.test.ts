import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createLogger } from '../log.js';
import { describeBusBehaviour } from './conformance.suite.js';
import { createBus, NoRouteError } from './index.js';

// Each test file gets a broker of its own name, so nothing leaks in from other suites.
const brokerUrl = `memory://conformance-${randomUUID().slice(0, 8)}`;

describeBusBehaviour('in-process (memory://)', (log) => createBus(brokerUrl, { log }));

describe('in-process bus specifics', () => {
  const log = createLogger('bus-test', 'silent');

  test('buses on differently named memory brokers do not see each other', async () => {
    const server = await createBus('memory://broker-one', { log });
    const client = await createBus('memory://broker-two', { log });
    await server.serve({ topic: 'compute', server: 'host-a' }, { ping: () => 'pong' });
    await expect(client.cast({ topic: 'compute' }, 'ping')).rejects.toBeInstanceOf(NoRouteError);
    await Promise.all([server.close(), client.close()]);
  });

  test('arguments cross the bus as JSON, exactly as they would through RabbitMQ', async () => {
    const server = await createBus(brokerUrl, { log });
    const client = await createBus(brokerUrl, { log });
    let received: unknown;
    await server.serve(
      { topic: 'json-check', server: 'host-a' },
      {
        take: (args: unknown) => {
          received = args;
        },
      },
    );
    const createdAt = new Date('2026-01-02T03:04:05.000Z');
    await client.call({ topic: 'json-check' }, 'take', { createdAt, missing: undefined });
    expect(received).toEqual({ createdAt: '2026-01-02T03:04:05.000Z' });
    await expect(client.call({ topic: 'json-check' }, 'take', { size: 10n })).rejects.toBeInstanceOf(
      TypeError,
    );
    await Promise.all([server.close(), client.close()]);
  });

  test('createBus refuses a URL scheme it has no broker for', async () => {
    await expect(createBus('redis://127.0.0.1:6379', { log })).rejects.toThrow(/unsupported message bus URL/);
  });
});
