// The in-process bus: a small broker kept in memory with RabbitMQ's semantics for what
// the bus uses — named queues that keep messages until consumed, exchanges routing by exact
// key or to every bound queue, exclusive queues that die with their connection, round-robin
// between consumers, prefetch, redelivery of unacknowledged messages, per-message expiry.
// Buses created with the same memory:// URL share one broker, which is how an all-in-one
// api-server and node-agent talk; a different name (memory://test-42) is a separate broker.
import { randomUUID } from 'node:crypto';
import { TransportBus } from './core.js';
import {
  fanoutExchangeName,
  fanoutQueueName,
  type IncomingMessage,
  type IncomingWork,
  type OutgoingProperties,
  replyQueueName,
  rpcQueueName,
  type Transport,
} from './transport.js';
import {
  BusClosedError,
  type BusOptions,
  type MessageBus,
  type ServeTarget,
  type Subscription,
} from './types.js';

interface StoredMessage {
  body: string;
  correlationId?: string;
  replyTo?: string;
  expiresAt?: number;
  redelivered: boolean;
}

type Settlement = 'ack' | 'requeue' | 'discard';

class MemoryConsumer {
  private readonly unsettled = new Set<StoredMessage>();
  private active = true;

  constructor(
    private readonly queue: MemoryQueue,
    /** 0: messages count as settled on delivery (no acknowledgements), like AMQP's noAck. */
    private readonly prefetch: number,
    private readonly onMessage: (message: StoredMessage, settle: (outcome: Settlement) => void) => void,
  ) {}

  hasCapacity(): boolean {
    return this.active && (this.prefetch === 0 || this.unsettled.size < this.prefetch);
  }

  deliver(message: StoredMessage): void {
    if (this.prefetch === 0) {
      this.onMessage(message, () => undefined);
      return;
    }
    this.unsettled.add(message);
    this.onMessage(message, (outcome) => {
      // After a cancel the message is already back on the queue: a late ack changes nothing,
      // exactly as an ack on a closed AMQP channel.
      if (!this.unsettled.delete(message)) return;
      if (outcome === 'requeue') this.queue.requeue([message]);
      else this.queue.schedulePump();
    });
  }

  cancel(): void {
    if (!this.active) return;
    this.active = false;
    this.queue.removeConsumer(this);
    this.queue.requeue([...this.unsettled]);
    this.unsettled.clear();
  }
}

class MemoryQueue {
  private readonly messages: StoredMessage[] = [];
  private readonly consumers: MemoryConsumer[] = [];
  private nextConsumer = 0;
  private pumpScheduled = false;

  constructor(
    readonly name: string,
    /** The connection an exclusive queue belongs to. */
    readonly owner: MemoryTransport | undefined,
    /** Deleted when its last consumer goes (AMQP auto-delete). */
    readonly autoDelete: boolean,
    private readonly onEmptyOfConsumers: (queue: MemoryQueue) => void,
  ) {}

  enqueue(message: StoredMessage): void {
    this.messages.push(message);
    this.schedulePump();
  }

  /** Puts unsettled messages back at the head of the queue, in their original order. */
  requeue(messages: StoredMessage[]): void {
    for (const message of messages) message.redelivered = true;
    this.messages.unshift(...messages);
    this.schedulePump();
  }

  addConsumer(consumer: MemoryConsumer): void {
    this.consumers.push(consumer);
    this.schedulePump();
  }

  removeConsumer(consumer: MemoryConsumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index >= 0) this.consumers.splice(index, 1);
    if (this.consumers.length === 0 && this.autoDelete) this.onEmptyOfConsumers(this);
  }

  /** Deliveries happen on a later turn of the event loop, as they would from a broker. */
  schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.messages.length > 0) {
      const head = this.messages[0]!;
      if (head.expiresAt !== undefined && head.expiresAt <= Date.now()) {
        this.messages.shift();
        continue;
      }
      const consumer = this.pickConsumer();
      if (!consumer) return;
      this.messages.shift();
      consumer.deliver(head);
    }
  }

  private pickConsumer(): MemoryConsumer | undefined {
    for (let tried = 0; tried < this.consumers.length; tried++) {
      const index = (this.nextConsumer + tried) % this.consumers.length;
      const consumer = this.consumers[index]!;
      if (consumer.hasCapacity()) {
        this.nextConsumer = index + 1;
        return consumer;
      }
    }
    return undefined;
  }
}

interface MemoryExchange {
  type: 'topic' | 'fanout';
  /** Routing key → bound queue names. The bus binds exact keys only, never wildcards. */
  bindings: Map<string, Set<string>>;
}

class MemoryBroker {
  private readonly queues = new Map<string, MemoryQueue>();
  private readonly exchanges = new Map<string, MemoryExchange>();

  declareQueue(name: string, options: { owner?: MemoryTransport; autoDelete?: boolean } = {}): MemoryQueue {
    const existing = this.queues.get(name);
    if (existing) {
      if (existing.owner !== options.owner) {
        throw new Error(`queue ${name} is exclusive to another connection (RESOURCE_LOCKED)`);
      }
      return existing;
    }
    const queue = new MemoryQueue(name, options.owner, options.autoDelete ?? false, (empty) =>
      this.deleteQueue(empty.name),
    );
    this.queues.set(name, queue);
    return queue;
  }

  deleteQueue(name: string): void {
    this.queues.delete(name);
    for (const exchange of this.exchanges.values()) {
      for (const bound of exchange.bindings.values()) bound.delete(name);
    }
  }

  bind(queue: string, exchangeName: string, type: MemoryExchange['type'], routingKey: string): void {
    let exchange = this.exchanges.get(exchangeName);
    if (!exchange) {
      exchange = { type, bindings: new Map() };
      this.exchanges.set(exchangeName, exchange);
    }
    let bound = exchange.bindings.get(routingKey);
    if (!bound) {
      bound = new Set();
      exchange.bindings.set(routingKey, bound);
    }
    bound.add(queue);
  }

  /** Routes a copy of the message to every matching queue; false when none matched. */
  publish(exchangeName: string, routingKey: string, message: Omit<StoredMessage, 'redelivered'>): boolean {
    const destinations = this.route(exchangeName, routingKey);
    for (const queue of destinations) queue.enqueue({ ...message, redelivered: false });
    return destinations.length > 0;
  }

  deleteQueuesOwnedBy(owner: MemoryTransport): void {
    for (const queue of [...this.queues.values()]) {
      if (queue.owner === owner) this.deleteQueue(queue.name);
    }
  }

  private route(exchangeName: string, routingKey: string): MemoryQueue[] {
    const names =
      exchangeName === '' // the default exchange: straight to the queue of that name
        ? [routingKey]
        : this.exchanges.get(exchangeName)?.type === 'fanout'
          ? [...(this.exchanges.get(exchangeName)?.bindings.values() ?? [])].flatMap((bound) => [...bound])
          : [...(this.exchanges.get(exchangeName)?.bindings.get(routingKey) ?? [])];
    return [...new Set(names)].flatMap((name) => this.queues.get(name) ?? []);
  }
}

const brokers = new Map<string, MemoryBroker>();

function brokerNamed(name: string): MemoryBroker {
  let broker = brokers.get(name);
  if (!broker) {
    broker = new MemoryBroker();
    brokers.set(name, broker);
  }
  return broker;
}

/** One connection to an in-process broker. */
class MemoryTransport implements Transport {
  private readonly consumers = new Set<MemoryConsumer>();
  private closed = false;

  constructor(
    private readonly broker: MemoryBroker,
    private readonly exchange: string,
  ) {}

  async publishToTopic(routingKey: string, body: string, properties: OutgoingProperties): Promise<boolean> {
    this.assertOpen();
    return this.broker.publish(this.exchange, routingKey, {
      body,
      correlationId: properties.correlationId,
      replyTo: properties.replyTo,
      expiresAt: properties.expirationMs === undefined ? undefined : Date.now() + properties.expirationMs,
    });
  }

  async publishFanout(topic: string, body: string): Promise<void> {
    this.assertOpen();
    this.broker.publish(fanoutExchangeName(topic), '', { body });
  }

  async publishReply(replyQueue: string, body: string, correlationId: string): Promise<void> {
    this.assertOpen();
    this.broker.publish('', replyQueue, { body, correlationId });
  }

  async publishWork(queue: string, body: string): Promise<void> {
    this.assertOpen();
    this.broker.declareQueue(queue);
    this.broker.publish('', queue, { body });
  }

  async consumeRpc(
    target: ServeTarget,
    onMessage: (message: IncomingMessage) => void,
  ): Promise<Subscription> {
    this.assertOpen();
    const shared = rpcQueueName(target.topic);
    const perServer = rpcQueueName(target.topic, target.server);
    const fanout = fanoutQueueName(target.topic, randomUUID().replaceAll('-', ''));
    const queues = [
      this.broker.declareQueue(shared),
      this.broker.declareQueue(perServer),
      this.broker.declareQueue(fanout, { owner: this, autoDelete: true }),
    ];
    this.broker.bind(shared, this.exchange, 'topic', shared);
    this.broker.bind(perServer, this.exchange, 'topic', perServer);
    this.broker.bind(fanout, fanoutExchangeName(target.topic), 'fanout', '');
    const consumers = queues.map((queue) =>
      this.consume(queue, 0, (message) => onMessage(incoming(message))),
    );
    return {
      close: async () => {
        for (const consumer of consumers) this.cancel(consumer);
      },
    };
  }

  async consumeReplies(onReply: (message: IncomingMessage) => void): Promise<string> {
    this.assertOpen();
    const name = replyQueueName(randomUUID().replaceAll('-', ''));
    this.consume(this.broker.declareQueue(name, { owner: this }), 0, (message) => onReply(incoming(message)));
    return name;
  }

  async consumeWork(
    queue: string,
    prefetch: number,
    onWork: (work: IncomingWork) => void,
  ): Promise<Subscription> {
    this.assertOpen();
    const consumer = this.consume(this.broker.declareQueue(queue), prefetch, (message, settle) =>
      onWork({
        body: message.body,
        redelivered: message.redelivered,
        ack: () => settle('ack'),
        requeue: () => settle('requeue'),
        discard: () => settle('discard'),
      }),
    );
    return { close: async () => this.cancel(consumer) };
  }

  async healthCheck(): Promise<void> {
    this.assertOpen(); // the broker is this process: reachable whenever the transport is open
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const consumer of [...this.consumers]) this.cancel(consumer);
    this.broker.deleteQueuesOwnedBy(this);
  }

  private consume(
    queue: MemoryQueue,
    prefetch: number,
    onMessage: (message: StoredMessage, settle: (outcome: Settlement) => void) => void,
  ): MemoryConsumer {
    const consumer = new MemoryConsumer(queue, prefetch, onMessage);
    this.consumers.add(consumer);
    queue.addConsumer(consumer);
    return consumer;
  }

  private cancel(consumer: MemoryConsumer): void {
    this.consumers.delete(consumer);
    consumer.cancel();
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }
}

function incoming(message: StoredMessage): IncomingMessage {
  return { body: message.body, correlationId: message.correlationId, replyTo: message.replyTo };
}

/** memory://NAME: a bus on the in-process broker NAME (memory:// alone is the default one). */
export function createMemoryBus(url: string, options: BusOptions): MessageBus {
  const parsed = new URL(url);
  if (parsed.protocol !== 'memory:') throw new TypeError(`not a memory:// URL: ${url}`);
  const name = `${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  const transport = new MemoryTransport(brokerNamed(name), options.exchange ?? 'overcast');
  return new TransportBus(transport, options);
}
