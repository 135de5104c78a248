// The behaviour every MessageBus implementation must show, written once and run against
// each: lib/bus/memory.test.ts (in-process broker) and test/bus-amqp.test.ts (RabbitMQ).
// Test support only; nothing in the programs imports it.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { createLogger, type Logger } from '../log.js';
import {
  BusClosedError,
  type MessageBus,
  NoRouteError,
  RemoteError,
  RpcTimeoutError,
  type WorkDelivery,
} from './types.js';

/** Opens a new bus (a new connection) on the broker under test. */
export type BusConnector = (log: Logger) => Promise<MessageBus>;

class QuotaExceeded extends Error {
  override name = 'QuotaExceeded';
}

function throwQuotaExceededInsideTheHandler(): never {
  throw new QuotaExceeded('Quota exceeded for instances: Requested 1, but already used 10 of 10 instances');
}

/** A promise with its resolve function, for "the handler ran with these arguments". */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function describeBusBehaviour(implementation: string, connect: BusConnector): void {
  describe(`message bus behaviour: ${implementation}`, () => {
    const opened: MessageBus[] = [];
    const quiet = createLogger('bus-test', 'silent');
    const open = async (log: Logger = quiet) => {
      const bus = await connect(log);
      opened.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((bus) => bus.close()));
    });

    test('a call returns what the remote handler resolved', async () => {
      const topic = unique('compute');
      const server = await open();
      const client = await open();
      await server.serve(
        { topic, server: 'host-a' },
        {
          add: ({ a, b }: { a: number; b: number }) => a + b,
          describeServer: async () => ({ host: 'host-a', vcpus: 8, flags: ['vmx'] }),
        },
      );
      expect(await client.call({ topic }, 'add', { a: 2, b: 3 })).toBe(5);
      expect(await client.call({ topic, server: 'host-a' }, 'describeServer')).toEqual({
        host: 'host-a',
        vcpus: 8,
        flags: ['vmx'],
      });
    });

    test('a call addressed to one server is answered by that server only', async () => {
      const topic = unique('compute');
      const client = await open();
      for (const host of ['host-a', 'host-b']) {
        await (await open()).serve({ topic, server: host }, { whoami: () => host });
      }
      for (let i = 0; i < 5; i++) {
        expect(await client.call({ topic, server: 'host-b' }, 'whoami')).toBe('host-b');
        expect(await client.call({ topic, server: 'host-a' }, 'whoami')).toBe('host-a');
      }
    });

    test('calls to the bare topic are shared between its servers', async () => {
      const topic = unique('scheduler');
      const client = await open();
      for (const host of ['host-a', 'host-b']) {
        await (await open()).serve({ topic, server: host }, { whoami: () => host });
      }
      const answers = new Set<unknown>();
      for (let i = 0; i < 10; i++) answers.add(await client.call({ topic }, 'whoami'));
      expect([...answers].sort()).toEqual(['host-a', 'host-b']);
    });

    test('a cast runs the method on the server without waiting for it', async () => {
      const topic = unique('network');
      const received = deferred<unknown>();
      const server = await open();
      const client = await open();
      await server.serve(
        { topic, server: 'net-1' },
        { portUpdate: (args: unknown) => received.resolve(args) },
      );
      await expect(
        client.cast({ topic, server: 'net-1' }, 'portUpdate', { portId: 'p-1' }),
      ).resolves.toBeUndefined();
      expect(await received.promise).toEqual({ portId: 'p-1' });
    });

    test('a cast to a target nobody serves fails with NoRouteError', async () => {
      const client = await open();
      await expect(client.cast({ topic: unique('nobody') }, 'anything')).rejects.toBeInstanceOf(NoRouteError);
    });

    test('a fanout reaches every server of the topic and no other', async () => {
      const topic = unique('dhcp_agent');
      const reached: string[] = [];
      for (const [serverTopic, host] of [
        [topic, 'host-a'],
        [topic, 'host-b'],
        [unique('other'), 'host-c'],
      ] as const) {
        await (await open()).serve(
          { topic: serverTopic, server: host },
          { networkDeleted: () => reached.push(host) },
        );
      }
      const client = await open();
      await client.fanout(topic, 'networkDeleted', { networkId: 'n-1' });
      await waitFor('both servers of the topic', () => reached.length >= 2);
      await sleep(200); // room for a wrong delivery to show up
      expect(reached.sort()).toEqual(['host-a', 'host-b']);
    });

    test('a fanout with no server listening is not an error', async () => {
      const client = await open();
      await expect(client.fanout(unique('empty'), 'anything')).resolves.toBeUndefined();
    });

    test('a call nobody answers in time fails with RpcTimeoutError', async () => {
      const topic = unique('compute');
      const server = await open();
      const client = await open();
      await server.serve({ topic, server: 'host-a' }, { hang: () => new Promise(() => undefined) });
      const started = Date.now();
      const error = await client.call({ topic }, 'hang', {}, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcTimeoutError);
      expect((error as RpcTimeoutError).method).toBe('hang');
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    test('a call to a topic nobody serves fails with RpcTimeoutError', async () => {
      const client = await open();
      const error = await client
        .call({ topic: unique('nobody') }, 'ping', {}, { timeoutMs: 300 })
        .catch((e) => e);
      expect(error).toBeInstanceOf(RpcTimeoutError);
    });

    test('a call made before its server starts is answered once the server serves', async () => {
      const topic = unique('conductor');
      const client = await open();
      const answer = client.call({ topic, server: 'late' }, 'ping', {}, { timeoutMs: 5_000 });
      await sleep(300);
      await (await open()).serve({ topic, server: 'late' }, { ping: () => 'pong' });
      expect(await answer).toBe('pong');
    });

    test('an error thrown by the remote handler arrives as a RemoteError with its name and message only', async () => {
      const topic = unique('compute');
      const server = await open();
      const client = await open();
      await server.serve({ topic, server: 'host-a' }, { boot: () => throwQuotaExceededInsideTheHandler() });
      const error = await client.call({ topic }, 'boot', { flavor: 'm1.small' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteError);
      const remote = error as RemoteError;
      expect(remote.remoteName).toBe('QuotaExceeded');
      expect(remote.remoteMessage).toBe(
        'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances',
      );
      // The server's stack stays on the server: nothing of the throw site crosses the bus.
      expect(`${remote.message}\n${remote.stack}`).not.toContain('throwQuotaExceededInsideTheHandler');
    });

    test('a method the server does not have fails with RemoteError NoSuchMethodError', async () => {
      const topic = unique('compute');
      const server = await open();
      const client = await open();
      await server.serve({ topic, server: 'host-a' }, { ping: () => 'pong' });
      for (const method of ['reboot', 'toString', 'constructor']) {
        const error = await client.call({ topic }, method).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RemoteError);
        expect((error as RemoteError).remoteName).toBe('NoSuchMethodError');
      }
    });

    test('a topic with a dot is refused, so that topic.server names one server only', async () => {
      const client = await open();
      await expect(client.call({ topic: 'compute.host' }, 'ping')).rejects.toBeInstanceOf(TypeError);
    });

    test('work published before any consumer exists is delivered to it, in order', async () => {
      const queue = unique('image-import');
      const publisher = await open();
      for (let seq = 0; seq < 20; seq++) await publisher.publishWork(queue, { seq });
      const received: number[] = [];
      const consumer = await open();
      await consumer.consumeWork<{ seq: number }>(queue, ({ seq }) => {
        received.push(seq);
      });
      await waitFor('20 work messages', () => received.length >= 20);
      expect(received).toEqual([...Array(20).keys()]);
    });

    test('a work message whose handler fails is delivered again, marked redelivered, until it succeeds', async () => {
      const queue = unique('port-binding');
      const deliveries: WorkDelivery[] = [];
      const consumer = await open();
      await consumer.consumeWork(
        queue,
        (_message, delivery) => {
          deliveries.push(delivery);
          if (deliveries.length < 3) throw new Error('ovs-vsctl timed out');
        },
        { requeueDelayMs: 10 },
      );
      await (await open()).publishWork(queue, { portId: 'p-1' });
      await waitFor('three deliveries', () => deliveries.length >= 3);
      await sleep(200); // an acknowledged message must not come back
      expect(deliveries).toEqual([{ redelivered: false }, { redelivered: true }, { redelivered: true }]);
    });

    test('prefetch bounds how many work messages one consumer handles at once', async () => {
      const queue = unique('resize');
      const publisher = await open();
      for (let seq = 0; seq < 6; seq++) await publisher.publishWork(queue, { seq });
      let active = 0;
      let mostActive = 0;
      let done = 0;
      const consumer = await open();
      await consumer.consumeWork(
        queue,
        async () => {
          active++;
          mostActive = Math.max(mostActive, active);
          await sleep(50);
          active--;
          done++;
        },
        { prefetch: 2 },
      );
      await waitFor('six messages handled', () => done >= 6);
      expect(mostActive).toBe(2);
    });

    test('work shared by two consumers is handled once per message', async () => {
      const queue = unique('snapshot');
      const handledBy = new Map<number, string[]>();
      for (const name of ['worker-a', 'worker-b']) {
        await (await open()).consumeWork<{ seq: number }>(queue, async ({ seq }) => {
          handledBy.set(seq, [...(handledBy.get(seq) ?? []), name]);
          await sleep(5);
        });
      }
      const publisher = await open();
      for (let seq = 0; seq < 20; seq++) await publisher.publishWork(queue, { seq });
      await waitFor('20 messages handled', () => handledBy.size >= 20);
      await sleep(100);
      expect([...handledBy.values()].every((names) => names.length === 1)).toBe(true);
      expect(new Set([...handledBy.values()].flat())).toEqual(new Set(['worker-a', 'worker-b']));
    });

    test('closing a work subscription puts its unacknowledged message back for another consumer', async () => {
      const queue = unique('volume-attach');
      const first = deferred<void>();
      const quitter = await open();
      const subscription = await quitter.consumeWork(queue, async () => {
        first.resolve();
        await new Promise(() => undefined); // never finishes: the message stays unacknowledged
      });
      await (await open()).publishWork(queue, { volumeId: 'v-1' });
      await first.promise;
      await subscription.close();
      const taken = deferred<[unknown, WorkDelivery]>();
      await (await open()).consumeWork(queue, (message, delivery) => taken.resolve([message, delivery]));
      expect(await taken.promise).toEqual([{ volumeId: 'v-1' }, { redelivered: true }]);
    });

    test('closing the bus fails calls still waiting with BusClosedError, and later use too', async () => {
      const topic = unique('compute');
      const server = await open();
      const client = await open();
      const started = deferred<void>();
      await server.serve(
        { topic, server: 'host-a' },
        {
          hang: () => {
            started.resolve();
            return new Promise(() => undefined);
          },
        },
      );
      const pending = client.call({ topic }, 'hang', {}, { timeoutMs: 10_000 }).catch((e: unknown) => e);
      await started.promise;
      await client.close();
      expect(await pending).toBeInstanceOf(BusClosedError);
      await expect(client.call({ topic }, 'hang')).rejects.toBeInstanceOf(BusClosedError);
      await expect(client.publishWork(unique('q'), {})).rejects.toBeInstanceOf(BusClosedError);
    });

    test('a health check passes while the broker answers and fails once the bus is closed', async () => {
      const bus = await open();
      await expect(bus.healthCheck()).resolves.toBeUndefined();
      await bus.close();
      await expect(bus.healthCheck()).rejects.toBeInstanceOf(BusClosedError);
    });

    test('message bodies never reach the log, even at trace level', async () => {
      const lines: string[] = [];
      const logger = createLogger('bus-test', 'trace', { write: (line: string) => void lines.push(line) });
      const marker = `body-marker-${randomUUID()}`;
      const topic = unique('identity');
      const server = await open(logger);
      const client = await open(logger);
      await server.serve(
        { topic, server: 'host-a' },
        {
          echo: (args: unknown) => args,
          fail: () => {
            throw new Error('refused');
          },
        },
      );
      const queue = unique('audit');
      const handled = deferred<void>();
      await server.consumeWork(queue, () => handled.resolve());
      await client.call({ topic }, 'echo', { password: marker });
      await client.call({ topic }, 'fail', { secret: marker }).catch(() => undefined);
      await client.cast({ topic }, 'echo', { token: marker });
      await client.fanout(topic, 'echo', { note: marker });
      await client.publishWork(queue, { note: marker });
      await handled.promise;
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((line) => line.includes(marker))).toEqual([]);
    });
  });
}
