// The private RabbitMQ node the kit starts, exercised with plain amqplib: it is a working
// broker, it is ours (own vhost and user, loopback only), and it survives a broker restart.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterEach, describe, expect, test } from 'vitest';
import { restartRabbitMqBroker } from '../lib/kit/rabbitmq.js';
import { required } from './harness/inject.js';

const url = required('rabbitmqUrl');
const stateDir = required('rabbitmqStateDir');

const connections: amqp.ChannelModel[] = [];
async function connect(target = url): Promise<amqp.ChannelModel> {
  const connection = await amqp.connect(target);
  connection.on('error', () => undefined); // a restart closes it; the tests look at the outcome
  connections.push(connection);
  return connection;
}
afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close().catch(() => undefined)));
});

describe('the private RabbitMQ node', () => {
  test('takes a message through a queue: declare, publish with confirm, consume, ack', async () => {
    const connection = await connect();
    const channel = await connection.createConfirmChannel();
    const queue = `round-trip-${randomUUID()}`;
    await channel.assertQueue(queue, { durable: false, autoDelete: true });
    await new Promise<void>((resolve, reject) =>
      channel.sendToQueue(
        queue,
        Buffer.from('{"hello":"rabbit"}'),
        { contentType: 'application/json' },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    const received = await new Promise<amqp.ConsumeMessage>((resolve) => {
      void channel.consume(queue, (message) => message && resolve(message), { noAck: false });
    });
    channel.ack(received);
    expect(JSON.parse(received.content.toString())).toEqual({ hello: 'rabbit' });
    expect(received.properties.contentType).toBe('application/json');
  });

  test('serves its own vhost to its own user on loopback, and knows no guest', async () => {
    const parsed = new URL(url);
    expect(parsed.hostname).toBe('127.0.0.1');
    expect(parsed.port).not.toBe('5672');
    expect(parsed.pathname).toBe('/overcast');
    expect(parsed.username).toBe('overcast');
    const guest = new URL(url);
    guest.username = 'guest';
    guest.password = 'guest';
    guest.pathname = '/';
    await expect(amqp.connect(guest.toString())).rejects.toThrow(/ACCESS_REFUSED|ACCESS-REFUSED|403/);
  });

  test('keeps a persistent message on a durable queue across a broker restart', async () => {
    const queue = `survivor-${randomUUID()}`;
    const before = await (await connect()).createConfirmChannel();
    await before.assertQueue(queue, { durable: true });
    await new Promise<void>((resolve, reject) =>
      before.sendToQueue(queue, Buffer.from('kept'), { persistent: true }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    await restartRabbitMqBroker(stateDir);
    const after = await (await connect()).createChannel();
    const message = await after.get(queue, { noAck: true });
    expect(message === false ? 'nothing' : message.content.toString()).toBe('kept');
    await after.deleteQueue(queue);
  });
});
