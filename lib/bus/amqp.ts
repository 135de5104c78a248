// The bus over RabbitMQ (amqplib), with oslo.messaging's rabbit-driver topology (see
// types.ts) and the reliability the rest of Overcast relies on:
//
// - every publish goes through a ConfirmChannel and resolves only on the broker's ack;
// - a lost connection (broker restart, network) is re-established with backoff, and on the
//   new connection every consumer's exchanges, queues and bindings are declared again and
//   its consumption restarted before anything is published on it;
// - a publish attempted while disconnected, or whose confirm was lost with the connection,
//   waits for the next connection and is sent again, within a bounded time. A message can
//   therefore arrive twice, never silently vanish: consumers are idempotent by design.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Message,
} from 'amqplib';
import type { Logger } from '../log.js';
import { TransportBus } from './core.js';
import {
  fanoutExchangeName,
  fanoutQueueName,
  type IncomingMessage,
  type IncomingWork,
  type OutgoingProperties,
  type PublishOptions,
  replyQueueName,
  rpcQueueName,
  type Transport,
} from './transport.js';
import {
  BusClosedError,
  type BusOptions,
  type MessageBus,
  PublishTimeoutError,
  type ServeTarget,
  type Subscription,
} from './types.js';

const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const RECONNECT_INITIAL_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 5_000;
/** Detects a silently dead TCP connection within about two of these. */
const HEARTBEAT_SECONDS = 10;
const SOCKET_CONNECT_TIMEOUT_MS = 5_000;
const CLOSE_TIMEOUT_MS = 5_000;
const HEALTH_CHECK_TIMEOUT_MS = 5_000;
/** Pause before re-sending when the connection is still up but the publish failed (a nack). */
const REPUBLISH_PAUSE_MS = 50;

/** AMQP reply codes that no retry can fix: the request itself is refused. */
const PERMANENT_REPLY_CODES = new Set([403, 404, 406]);

/** One connection and what was set up on it; replaced as a whole after a loss. */
interface Link {
  readonly model: ChannelModel;
  closed: boolean;
  publisher?: Promise<ConfirmChannel>;
  /** Declarations for publishing go on their own channel, so a refused one cannot break the publisher. */
  topology?: Promise<Channel>;
  /** Exchanges and queues already asserted on this connection, by "kind:name". */
  readonly declared: Map<string, Promise<void>>;
  /** messageIds the broker returned as unroutable; looked up when their confirm arrives. */
  readonly returned: Set<string>;
  /** Set while the socket's write buffer is full; publishes wait for it to drain. */
  drained?: Promise<void>;
}

/** A consumer that must survive reconnections: `setup` is replayed on every new connection. */
interface DurableConsumer {
  readonly description: string;
  /** Declares what it consumes from, on `channel`, and starts consuming. */
  setup(channel: Channel): Promise<void>;
  active: boolean;
  channel?: Channel;
  /** The connection it was last set up (or is being set up) on. */
  attachedTo?: Link;
  attaching: boolean;
  retryDelayMs: number;
}

interface PublishRequest {
  exchange: string;
  routingKey: string;
  body: string;
  /** Asserts, on this connection, what the message must be routed to. */
  prepare(link: Link): Promise<void>;
  properties?: OutgoingProperties;
  persistent?: boolean;
  /** Ask the broker to report the message if no queue took it. */
  mandatory?: boolean;
}

export interface AmqpTransportOptions {
  log: Logger;
  exchange: string;
  publishTimeoutMs: number;
  connectTimeoutMs: number;
}

export class AmqpTransport implements Transport {
  private readonly logger: Logger;
  private readonly connectUrl: string;
  private readonly consumers = new Set<DurableConsumer>();
  private readonly linkWaiters = new Set<() => void>();
  private readonly shutdown = new AbortController();
  private link: Link | undefined;
  private reconnecting = false;
  private closing = false;

  private constructor(
    url: string,
    private readonly options: AmqpTransportOptions,
  ) {
    this.logger = options.log;
    this.connectUrl = withHeartbeat(url);
  }

  /** Connects, retrying for `connectTimeoutMs`; wrong credentials or vhost fail at once. */
  static async open(url: string, options: AmqpTransportOptions): Promise<AmqpTransport> {
    const transport = new AmqpTransport(url, options);
    const deadline = Date.now() + options.connectTimeoutMs;
    let delay = RECONNECT_INITIAL_DELAY_MS;
    for (;;) {
      try {
        transport.install(await transport.establish());
        transport.logger.info({ broker: redactedUrl(url) }, 'connected to the message broker');
        return transport;
      } catch (error) {
        const refused = /ACCESS[-_]REFUSED|NOT[-_]ALLOWED/.test(String(error));
        if (refused || Date.now() + delay > deadline) {
          throw new Error(`cannot connect to the message broker at ${redactedUrl(url)}: ${messageOf(error)}`);
        }
        await sleep(delay);
        delay = nextDelay(delay);
      }
    }
  }

  publishToTopic(
    routingKey: string,
    body: string,
    properties: OutgoingProperties,
    options: PublishOptions = {},
  ): Promise<boolean> {
    const exchange = this.options.exchange;
    return this.publish(
      {
        exchange,
        routingKey,
        body,
        properties,
        mandatory: true,
        prepare: (link) =>
          this.declare(link, `exchange:${exchange}`, (ch) => assertTopicExchange(ch, exchange)),
      },
      options.timeoutMs,
    );
  }

  async publishFanout(topic: string, body: string): Promise<void> {
    const exchange = fanoutExchangeName(topic);
    await this.publish({
      exchange,
      routingKey: '',
      body,
      prepare: (link) =>
        this.declare(link, `exchange:${exchange}`, (ch) => assertFanoutExchange(ch, exchange)),
    });
  }

  async publishReply(replyQueue: string, body: string, correlationId: string): Promise<void> {
    await this.publish({
      exchange: '',
      routingKey: replyQueue,
      body,
      properties: { correlationId },
      prepare: async () => undefined,
    });
  }

  async publishWork(queue: string, body: string): Promise<void> {
    const key = `queue:${queue}`;
    const timeoutMs = this.options.publishTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const routed = await this.publish(
        {
          exchange: '',
          routingKey: queue,
          body,
          persistent: true,
          mandatory: true,
          prepare: (link) => this.declare(link, key, (ch) => assertWorkQueue(ch, queue)),
        },
        Math.max(0, deadline - Date.now()),
      );
      if (routed) return;
      // The queue was deleted behind our back after we declared it: declare it again.
      this.link?.declared.delete(key);
      if (Date.now() >= deadline) throw new PublishTimeoutError(`work queue ${queue} kept disappearing`);
    }
  }

  async consumeRpc(
    target: ServeTarget,
    onMessage: (message: IncomingMessage) => void,
  ): Promise<Subscription> {
    const exchange = this.options.exchange;
    const shared = rpcQueueName(target.topic);
    const perServer = rpcQueueName(target.topic, target.server);
    const fanoutExchange = fanoutExchangeName(target.topic);
    // One name for the life of this server, reused on every connection: the queue itself is
    // exclusive and disappears with each connection.
    const fanoutQueue = fanoutQueueName(target.topic, randomUUID().replaceAll('-', ''));
    return this.subscribe({
      description: `rpc ${perServer}`,
      setup: async (channel) => {
        await assertTopicExchange(channel, exchange);
        // Durable, so calls and casts for a server that is reconnecting wait for it instead
        // of being dropped as unroutable; a call carries an expiry so a stale one never runs.
        for (const queue of [shared, perServer]) {
          await channel.assertQueue(queue, { durable: true });
          await channel.bindQueue(queue, exchange, queue);
        }
        await assertFanoutExchange(channel, fanoutExchange);
        await channel.assertQueue(fanoutQueue, { exclusive: true, autoDelete: true, durable: false });
        await channel.bindQueue(fanoutQueue, fanoutExchange, '');
        for (const queue of [shared, perServer, fanoutQueue]) {
          await channel.consume(queue, (message) => this.deliverRpc(channel, message, onMessage), {
            noAck: true,
          });
        }
      },
    });
  }

  async consumeReplies(onReply: (message: IncomingMessage) => void): Promise<string> {
    const queue = replyQueueName(randomUUID().replaceAll('-', ''));
    await this.subscribe({
      description: `replies ${queue}`,
      setup: async (channel) => {
        await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
        await channel.consume(queue, (message) => this.deliverRpc(channel, message, onReply), {
          noAck: true,
        });
      },
    });
    return queue;
  }

  async consumeWork(
    queue: string,
    prefetch: number,
    onWork: (work: IncomingWork) => void,
  ): Promise<Subscription> {
    return this.subscribe({
      description: `work ${queue}`,
      setup: async (channel) => {
        await assertWorkQueue(channel, queue);
        await channel.prefetch(prefetch);
        await channel.consume(
          queue,
          (message) => {
            if (!message) return void this.consumerCancelled(channel);
            onWork({
              body: message.content.toString('utf8'),
              redelivered: message.fields.redelivered,
              ack: () => this.settle(() => channel.ack(message)),
              requeue: () => this.settle(() => channel.nack(message, false, true)),
              discard: () => this.settle(() => channel.nack(message, false, false)),
            });
          },
          { noAck: false },
        );
      },
    });
  }

  async healthCheck(): Promise<void> {
    if (this.closing) throw new BusClosedError();
    const link = this.link;
    if (!link || link.closed) throw new Error('not connected to the message broker (reconnecting)');
    const deadline = Date.now() + HEALTH_CHECK_TIMEOUT_MS;
    const exchange = this.options.exchange;
    // Declaring what exists already is a no-op for the broker but a full round trip for us.
    await withDeadline(
      this.topologyChannelOf(link).then((channel) => assertTopicExchange(channel, exchange)),
      deadline,
      HEALTH_CHECK_TIMEOUT_MS,
    );
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.shutdown.abort();
    this.wakeLinkWaiters();
    for (const consumer of this.consumers) consumer.active = false;
    this.consumers.clear();
    const link = this.link;
    this.link = undefined;
    if (link && !link.closed) {
      await Promise.race([link.model.close().catch(() => undefined), sleep(CLOSE_TIMEOUT_MS)]);
    }
    this.logger.info('disconnected from the message broker');
  }

  // ---- publishing ----------------------------------------------------------------------

  /** Resolves with whether a queue took the message, once the broker confirmed it. */
  private async publish(
    request: PublishRequest,
    timeoutMs = this.options.publishTimeoutMs,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (let attempt = 1; ; attempt++) {
      const link = await this.currentLink(deadline, timeoutMs, lastError);
      try {
        await withDeadline(request.prepare(link), deadline, timeoutMs);
        return await withDeadline(this.publishOn(link, request), deadline, timeoutMs);
      } catch (error) {
        if (this.closing) throw new BusClosedError();
        if (error instanceof PublishTimeoutError || isPermanent(error)) throw error;
        lastError = error;
        this.logger.debug(
          { attempt, exchange: request.exchange, reason: messageOf(error) },
          'publish retried',
        );
        if (!link.closed) await sleep(REPUBLISH_PAUSE_MS);
      }
    }
  }

  private async publishOn(link: Link, request: PublishRequest): Promise<boolean> {
    const channel = await this.publisherOf(link);
    while (link.drained) await link.drained;
    const messageId = randomUUID();
    const expirationMs = request.properties?.expirationMs;
    await new Promise<void>((resolve, reject) => {
      try {
        const writable = channel.publish(
          request.exchange,
          request.routingKey,
          Buffer.from(request.body, 'utf8'),
          {
            messageId,
            contentType: 'application/json',
            contentEncoding: 'utf-8',
            correlationId: request.properties?.correlationId,
            replyTo: request.properties?.replyTo,
            expiration: expirationMs === undefined ? undefined : String(Math.max(1, Math.ceil(expirationMs))),
            persistent: request.persistent ?? false,
            mandatory: request.mandatory ?? false,
          },
          (error) => (error ? reject(error) : resolve()),
        );
        if (!writable) link.drained ??= drainOf(channel, link);
      } catch (error) {
        reject(error);
      }
    });
    // The broker sends basic.return before the ack of the same message.
    return !link.returned.delete(messageId);
  }

  private publisherOf(link: Link): Promise<ConfirmChannel> {
    if (!link.publisher) {
      const opening = link.model.createConfirmChannel().then((channel) => {
        channel.on('error', (error: unknown) =>
          this.logger.debug({ reason: messageOf(error) }, 'publish channel error'),
        );
        channel.on('return', (message: Message) => {
          const id = message.properties.messageId as string | undefined;
          if (id) link.returned.add(id);
        });
        channel.on('close', () => {
          if (link.publisher === opening) link.publisher = undefined;
          // Closed by a channel error while the connection lives: something we declared may
          // be gone (a 404 on publish), so assert everything again from now on.
          link.declared.clear();
        });
        return channel;
      });
      opening.catch(() => {
        if (link.publisher === opening) link.publisher = undefined;
      });
      link.publisher = opening;
    }
    return link.publisher;
  }

  /** Asserts a piece of topology once per connection (again after a failure). */
  private declare(link: Link, key: string, assert: (channel: Channel) => Promise<unknown>): Promise<void> {
    let declared = link.declared.get(key);
    if (!declared) {
      declared = this.topologyChannelOf(link)
        .then(assert)
        .then(() => undefined);
      declared.catch(() => link.declared.delete(key));
      link.declared.set(key, declared);
    }
    return declared;
  }

  private topologyChannelOf(link: Link): Promise<Channel> {
    if (!link.topology) {
      const opening = link.model.createChannel().then((channel) => {
        channel.on('error', (error: unknown) =>
          this.logger.warn({ reason: messageOf(error) }, 'message bus declaration refused'),
        );
        channel.on('close', () => {
          if (link.topology === opening) link.topology = undefined;
        });
        return channel;
      });
      opening.catch(() => {
        if (link.topology === opening) link.topology = undefined;
      });
      link.topology = opening;
    }
    return link.topology;
  }

  /** The live connection, waiting for a reconnection until `deadline`. */
  private async currentLink(deadline: number, timeoutMs: number, lastError: unknown): Promise<Link> {
    for (;;) {
      if (this.closing) throw new BusClosedError();
      if (this.link && !this.link.closed) return this.link;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const reason = lastError ? ` (last error: ${messageOf(lastError)})` : '';
        throw new PublishTimeoutError(`no connection to the message broker for ${timeoutMs} ms${reason}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.linkWaiters.add(done);
      });
    }
  }

  private wakeLinkWaiters(): void {
    const waiters = [...this.linkWaiters];
    this.linkWaiters.clear();
    for (const wake of waiters) wake();
  }

  // ---- connection life cycle -----------------------------------------------------------

  /** Opens a connection and restores every consumer on it; the link is not yet in use. */
  private async establish(): Promise<Link> {
    const model = await amqp.connect(this.connectUrl, { timeout: SOCKET_CONNECT_TIMEOUT_MS });
    const link: Link = { model, closed: false, declared: new Map(), returned: new Set() };
    model.on('error', (error: unknown) =>
      this.logger.warn({ reason: messageOf(error) }, 'message broker connection error'),
    );
    model.on('close', () => this.onLinkLost(link));
    try {
      for (const consumer of this.consumers) {
        try {
          await this.attach(consumer, link);
        } catch (error) {
          if (link.closed) throw error;
          this.logger.error(
            { consumer: consumer.description, reason: messageOf(error) },
            'consumer not restored',
          );
          this.scheduleReattach(consumer, link);
        }
      }
      if (link.closed) throw new Error('connection lost while restoring consumers');
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
    return link;
  }

  private install(link: Link): void {
    this.link = link;
    // A consumer subscribed after establish() went through the list is attached here.
    for (const consumer of this.consumers) {
      if (consumer.attachedTo !== link) this.scheduleReattach(consumer, link, 0);
    }
    this.wakeLinkWaiters();
  }

  private onLinkLost(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    if (this.link !== link) return; // still being established, or already replaced
    this.link = undefined;
    if (this.closing) return;
    this.logger.warn('connection to the message broker lost; reconnecting');
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    let delay = RECONNECT_INITIAL_DELAY_MS;
    try {
      for (let attempt = 1; !this.closing; attempt++) {
        try {
          const link = await this.establish();
          if (this.closing) {
            await link.model.close().catch(() => undefined);
            return;
          }
          this.install(link);
          this.logger.info({ attempt, consumers: this.consumers.size }, 'reconnected to the message broker');
          return;
        } catch (error) {
          this.logger.debug({ attempt, reason: messageOf(error), retryInMs: delay }, 'reconnection failed');
          await sleep(jittered(delay), undefined, { signal: this.shutdown.signal }).catch(() => undefined);
          delay = nextDelay(delay);
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  // ---- consumers -----------------------------------------------------------------------

  private async subscribe(spec: Pick<DurableConsumer, 'description' | 'setup'>): Promise<Subscription> {
    if (this.closing) throw new BusClosedError();
    const consumer: DurableConsumer = {
      ...spec,
      active: true,
      attaching: false,
      retryDelayMs: RECONNECT_INITIAL_DELAY_MS,
    };
    this.consumers.add(consumer);
    const link = this.link;
    if (link && !link.closed) {
      try {
        await this.attach(consumer, link);
      } catch (error) {
        // Refused by the broker (bad arguments): the caller learns it. Lost with the
        // connection: the reconnection attaches it like every other consumer.
        if (!link.closed) {
          consumer.active = false;
          this.consumers.delete(consumer);
          throw error;
        }
      }
    }
    return {
      close: async () => {
        consumer.active = false;
        this.consumers.delete(consumer);
        const channel = consumer.channel;
        consumer.channel = undefined;
        // Closing the channel cancels its consumers; unacknowledged work goes back to the queue.
        await channel?.close().catch(() => undefined);
      },
    };
  }

  private async attach(consumer: DurableConsumer, link: Link): Promise<void> {
    consumer.attachedTo = link;
    consumer.attaching = true;
    try {
      await this.setUpConsumer(consumer, link);
    } finally {
      consumer.attaching = false;
    }
  }

  private async setUpConsumer(consumer: DurableConsumer, link: Link): Promise<void> {
    const channel = await link.model.createChannel();
    channel.on('error', (error: unknown) =>
      this.logger.warn(
        { consumer: consumer.description, reason: messageOf(error) },
        'consumer channel error',
      ),
    );
    channel.on('close', () => {
      if (consumer.channel !== channel) return;
      consumer.channel = undefined;
      // Gone while the connection stays (a channel error, a queue deleted under it):
      // set it up again. A lost connection is the reconnection's business instead.
      if (consumer.active && !link.closed) this.scheduleReattach(consumer, link);
    });
    try {
      await consumer.setup(channel);
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error;
    }
    if (!consumer.active) {
      await channel.close().catch(() => undefined); // closed while it was being set up
      return;
    }
    consumer.channel = channel;
    consumer.retryDelayMs = RECONNECT_INITIAL_DELAY_MS;
  }

  private scheduleReattach(consumer: DurableConsumer, link: Link, delayMs?: number): void {
    const delay = delayMs ?? jittered(consumer.retryDelayMs);
    if (delayMs === undefined) consumer.retryDelayMs = nextDelay(consumer.retryDelayMs);
    setTimeout(() => {
      if (!consumer.active || link.closed || this.link !== link) return;
      if (consumer.attachedTo === link && (consumer.channel || consumer.attaching)) return;
      this.attach(consumer, link).catch((error: unknown) => {
        if (link.closed) return;
        this.logger.error(
          { consumer: consumer.description, reason: messageOf(error) },
          'consumer not restored',
        );
        this.scheduleReattach(consumer, link);
      });
    }, delay).unref();
  }

  private deliverRpc(
    channel: Channel,
    message: ConsumeMessage | null,
    onMessage: (message: IncomingMessage) => void,
  ): void {
    if (!message) return void this.consumerCancelled(channel);
    onMessage({
      body: message.content.toString('utf8'),
      correlationId: message.properties.correlationId as string | undefined,
      replyTo: message.properties.replyTo as string | undefined,
    });
  }

  /** The broker cancelled a consumer (its queue was deleted): recycle the channel to set it up again. */
  private consumerCancelled(channel: Channel): void {
    this.logger.warn('consumer cancelled by the broker; setting it up again');
    channel.close().catch(() => undefined);
  }

  /** Acks and nacks on a channel that died are moot: the broker already requeued those messages. */
  private settle(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.logger.debug({ reason: messageOf(error) }, 'settlement on a closed channel skipped');
    }
  }
}

function assertTopicExchange(channel: Channel, exchange: string): Promise<unknown> {
  // Durable like the queues bound to it: a binding survives a broker restart only if both ends do.
  return channel.assertExchange(exchange, 'topic', { durable: true, autoDelete: false });
}

function assertFanoutExchange(channel: Channel, exchange: string): Promise<unknown> {
  // Not auto-delete: publishers assert it once per connection and must not find it vanished
  // because the last server left in between.
  return channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
}

function assertWorkQueue(channel: Channel, queue: string): Promise<unknown> {
  return channel.assertQueue(queue, { durable: true, exclusive: false, autoDelete: false });
}

function drainOf(channel: ConfirmChannel, link: Link): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      link.drained = undefined;
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}

async function withDeadline<T>(work: Promise<T>, deadline: number, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PublishTimeoutError(`the message broker did not confirm within ${timeoutMs} ms`)),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && PERMANENT_REPLY_CODES.has(code);
}

function nextDelay(delay: number): number {
  return Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
}

/** ±20 %, so many clients cut off by one broker restart do not come back in lockstep. */
function jittered(delay: number): number {
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}

function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(HEARTBEAT_SECONDS));
  return parsed.toString();
}

/** host:port/vhost — never the password. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** amqp://user:password@host:port/vhost (or amqps://): a bus on RabbitMQ. */
export async function createAmqpBus(url: string, options: BusOptions): Promise<MessageBus> {
  const transport = await AmqpTransport.open(url, {
    log: options.log,
    exchange: options.exchange ?? 'overcast',
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  });
  return new TransportBus(transport, options);
}
