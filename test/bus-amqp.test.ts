// The message bus over the real RabbitMQ node of the global setup: the same behaviour as the
// in-process bus, oslo.messaging's topology on the broker, and no confirmed work lost when
// the broker restarts in the middle of traffic.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { afterEach, describe, expect, test } from 'vitest';
import { describeBusBehaviour } from '../lib/bus/conformance.suite.js';
import { createBus, type MessageBus } from '../lib/bus/index.js';
import { restartRabbitMqBroker } from '../lib/kit/rabbitmq.js';
import { createLogger } from '../lib/log.js';
import { required } from './harness/inject.js';

const url = required('rabbitmqUrl');
const stateDir = required('rabbitmqStateDir');

describeBusBehaviour('RabbitMQ (amqp://)', (log) => createBus(url, { log }));

describe('message bus on RabbitMQ', () => {
  const log = createLogger(
    'bus-amqp-test',
    process.env.OVERCAST_TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent',
  );
  const opened: MessageBus[] = [];
  const open = async (exchange?: string) => {
    const bus = await createBus(url, { log, exchange });
    opened.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
  });
  const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

  test("lays out oslo.messaging's rabbit topology: control exchange, topic and per-host queues, topic fanout", async () => {
    const exchange = unique('nova');
    const topic = unique('compute');
    const server = await open(exchange);
    await server.serve({ topic, server: 'host-a' }, { ping: () => 'pong' });
    const connection = await amqp.connect(url);
    try {
      // check* fails (and closes the channel) when the object does not exist.
      const channel = await connection.createChannel();
      channel.on('error', () => undefined); // the expected NOT_FOUND below also arrives as an event
      await channel.checkExchange(exchange);
      await channel.checkExchange(`${topic}_fanout`);
      expect((await channel.checkQueue(topic)).consumerCount).toBe(1);
      expect((await channel.checkQueue(`${topic}.host-a`)).consumerCount).toBe(1);
      await expect(channel.checkQueue(`${topic}.host-b`)).rejects.toThrow(/NOT_FOUND|404/);
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  test('a wrong password fails createBus at once with the broker address but not the password', async () => {
    const wrong = new URL(url);
    wrong.password = 'not-the-password';
    const started = Date.now();
    const error = await createBus(wrong.toString(), { log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/ACCESS.REFUSED|403/);
    expect((error as Error).message).not.toContain('not-the-password');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('a broker restart during a stream of confirmed work publishes loses none of them, and RPC recovers', async () => {
    const queue = unique('instance-build');
    const topic = unique('compute');
    const publisher = await open();
    const consumer = await open();
    const server = await open();
    const caller = await open();
    await server.serve({ topic, server: 'host-a' }, { ping: () => 'pong' });
    expect(await caller.call({ topic, server: 'host-a' }, 'ping')).toBe('pong');

    const consumed = new Set<string>();
    await consumer.consumeWork<{ id: string }>(
      queue,
      ({ id }) => {
        consumed.add(id);
      },
      { prefetch: 10 },
    );

    // Several publishers at once, each awaiting its confirm before the next message.
    const confirmed: string[] = [];
    const failures: unknown[] = [];
    let slowestPublishMs = 0;
    let publishing = true;
    const streams = ['a', 'b', 'c'].map(async (stream) => {
      for (let seq = 0; publishing; seq++) {
        const id = `${stream}-${seq}`;
        const started = Date.now();
        try {
          await publisher.publishWork(queue, { id });
          confirmed.push(id);
        } catch (error) {
          failures.push(error);
        }
        slowestPublishMs = Math.max(slowestPublishMs, Date.now() - started);
      }
    });
    const confirmedAtLeast = async (count: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (confirmed.length < count) {
        if (Date.now() > deadline)
          throw new Error(`only ${confirmed.length} of ${count} publishes confirmed`);
        await sleep(20);
      }
    };

    await confirmedAtLeast(60, 30_000);
    const beforeRestart = confirmed.length;
    await restartRabbitMqBroker(stateDir);
    // Publishing carries on through the restart and after it.
    await confirmedAtLeast(confirmed.length + 60, 60_000);
    publishing = false;
    await Promise.all(streams);
    expect(failures).toEqual([]);
    expect(confirmed.length).toBeGreaterThan(beforeRestart + 60);
    // Proof that the outage hit the stream: some publish waited through it (the broker is
    // down for a second or more) instead of the stream having been idle or failing.
    expect(slowestPublishMs).toBeGreaterThan(500);

    const deadline = Date.now() + 60_000;
    while (confirmed.some((id) => !consumed.has(id)) && Date.now() < deadline) await sleep(50);
    expect(confirmed.filter((id) => !consumed.has(id))).toEqual([]);

    // The server and the caller reconnected on their own: RPC works again on the same buses.
    expect(await caller.call({ topic, server: 'host-a' }, 'ping', {}, { timeoutMs: 30_000 })).toBe('pong');
    expect(await caller.call({ topic }, 'ping', {}, { timeoutMs: 30_000 })).toBe('pong');
    await expect(caller.healthCheck()).resolves.toBeUndefined();
  });

  test('a call made while the broker is down is answered once it is back', async () => {
    const topic = unique('conductor');
    const server = await open();
    const caller = await open();
    await server.serve({ topic, server: 'host-a' }, { ping: () => 'pong' });
    const restart = restartRabbitMqBroker(stateDir);
    let restarted = false;
    const markRestarted = () => {
      restarted = true;
    };
    restart.then(markRestarted, markRestarted);
    // Wait until the caller has lost its connection, so the call really starts during the outage.
    while (
      await caller.healthCheck().then(
        () => true,
        () => false,
      )
    ) {
      expect(restarted).toBe(false);
      await sleep(20);
    }
    const answer = caller.call({ topic, server: 'host-a' }, 'ping', {}, { timeoutMs: 60_000 });
    await restart;
    expect(await answer).toBe('pong');
  });
});
