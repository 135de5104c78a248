// The bus's behaviour, written once over a Transport: request/reply encoding, correlation
// of replies to calls, timeouts, remote errors, dispatch to handlers, and the
// acknowledge-after-success rule of work queues. Message bodies are never logged: they
// carry passwords, keys and user data.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { IncomingMessage, IncomingWork, Transport } from './transport.js';
import { rpcQueueName } from './transport.js';
import {
  BusClosedError,
  type CallOptions,
  type ConsumeWorkOptions,
  describeTarget,
  type MessageBus,
  NoRouteError,
  NoSuchMethodError,
  PublishTimeoutError,
  RemoteError,
  type RpcArgs,
  type RpcHandlers,
  type RpcTarget,
  RpcTimeoutError,
  type ServeTarget,
  type Subscription,
  type WorkHandler,
} from './types.js';

/** How often a call retries while no queue is bound to its target yet (a server still starting). */
const ROUTE_RETRY_MS = 200;
const DEFAULT_RPC_TIMEOUT_MS = 30_000;
const DEFAULT_REQUEUE_DELAY_MS = 250;

// Topics may not contain dots: `topic.server` must name exactly one (topic, server) pair.
const TOPIC_PATTERN = /^[A-Za-z0-9_:-]{1,100}$/;
const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,150}$/;

interface RequestBody {
  method: string;
  args: RpcArgs;
}

interface Failure {
  name: string;
  message: string;
}

type ReplyBody = { result?: unknown; failure?: undefined } | { failure: Failure };

interface PendingCall {
  target: RpcTarget;
  method: string;
  timer: NodeJS.Timeout;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export interface TransportBusOptions {
  log: Logger;
  rpcTimeoutMs?: number;
}

export class TransportBus implements MessageBus {
  private readonly logger: Logger;
  private readonly rpcTimeoutMs: number;
  private readonly pending = new Map<string, PendingCall>();
  private readonly subscriptions = new Set<Subscription>();
  private replyQueue: Promise<string> | undefined;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    options: TransportBusOptions,
  ) {
    this.logger = options.log;
    this.rpcTimeoutMs = options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  }

  async call<T = unknown>(
    target: RpcTarget,
    method: string,
    args: RpcArgs = {},
    options: CallOptions = {},
  ): Promise<T> {
    this.assertOpen();
    checkTarget(target);
    const timeoutMs = options.timeoutMs ?? this.rpcTimeoutMs;
    const body = encodeRequest(method, args);
    const replyTo = await this.replyQueueName();
    const correlationId = randomUUID();
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RpcTimeoutError(target, method, timeoutMs));
      }, timeoutMs);
      this.pending.set(correlationId, { target, method, timer, resolve, reject });
    });
    this.logger.debug({ target: describeTarget(target), method, correlationId }, 'rpc call');
    // The reply can only arrive after the publish, but the timeout can fire during it (while
    // the broker is unreachable): the call settles on whichever comes first.
    void this.publishCall(target, body, correlationId, replyTo, Date.now() + timeoutMs).catch(
      (error: Error) =>
        this.settle(correlationId, (call) =>
          call.reject(
            error instanceof PublishTimeoutError ? new RpcTimeoutError(target, method, timeoutMs) : error,
          ),
        ),
    );
    return reply as Promise<T>;
  }

  async cast(target: RpcTarget, method: string, args: RpcArgs = {}): Promise<void> {
    this.assertOpen();
    checkTarget(target);
    const routed = await this.transport.publishToTopic(
      rpcQueueName(target.topic, target.server),
      encodeRequest(method, args),
      {},
    );
    if (!routed)
      throw new NoRouteError(`nothing serves ${describeTarget(target)}: ${method} was not delivered`);
    this.logger.debug({ target: describeTarget(target), method }, 'rpc cast');
  }

  async fanout(topic: string, method: string, args: RpcArgs = {}): Promise<void> {
    this.assertOpen();
    checkTarget({ topic });
    await this.transport.publishFanout(topic, encodeRequest(method, args));
    this.logger.debug({ topic, method }, 'rpc fanout');
  }

  async serve(target: ServeTarget, handlers: RpcHandlers): Promise<Subscription> {
    this.assertOpen();
    checkTarget(target);
    if (!target.server) throw new TypeError('serve needs a server name');
    const subscription = await this.transport.consumeRpc(target, (message) => {
      void this.dispatch(target, handlers, message);
    });
    this.logger.info(
      { topic: target.topic, server: target.server, methods: Object.keys(handlers) },
      'serving rpc',
    );
    return this.track(subscription);
  }

  async publishWork(queue: string, message: unknown): Promise<void> {
    this.assertOpen();
    checkName('work queue', queue);
    const body = JSON.stringify(message);
    if (body === undefined) throw new TypeError('a work message must be representable as JSON');
    await this.transport.publishWork(queue, body);
  }

  async consumeWork<T = unknown>(
    queue: string,
    handler: WorkHandler<T>,
    options: ConsumeWorkOptions = {},
  ): Promise<Subscription> {
    this.assertOpen();
    checkName('work queue', queue);
    const prefetch = options.prefetch ?? 1;
    if (!Number.isInteger(prefetch) || prefetch < 1)
      throw new RangeError('prefetch must be a positive integer');
    const requeueDelayMs = options.requeueDelayMs ?? DEFAULT_REQUEUE_DELAY_MS;
    const subscription = await this.transport.consumeWork(queue, prefetch, (work) => {
      void this.processWork(queue, handler, work, requeueDelayMs);
    });
    this.logger.info({ queue, prefetch }, 'consuming work queue');
    return this.track(subscription);
  }

  async healthCheck(): Promise<void> {
    this.assertOpen();
    await this.transport.healthCheck();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const correlationId of [...this.pending.keys()]) {
      this.settle(correlationId, (call) => call.reject(new BusClosedError()));
    }
    await Promise.allSettled([...this.subscriptions].map((subscription) => subscription.close()));
    await this.transport.close();
  }

  private async publishCall(
    target: RpcTarget,
    body: string,
    correlationId: string,
    replyTo: string,
    deadline: number,
  ): Promise<void> {
    const routingKey = rpcQueueName(target.topic, target.server);
    for (;;) {
      const remaining = deadline - Date.now();
      if (!this.pending.has(correlationId) || remaining <= 0) return;
      const routed = await this.transport.publishToTopic(
        routingKey,
        body,
        { correlationId, replyTo, expirationMs: remaining },
        { timeoutMs: remaining },
      );
      if (routed) return;
      // No queue is bound to the target yet: its server may still be starting, so the call
      // keeps trying until its deadline instead of failing at once.
      await sleep(Math.min(ROUTE_RETRY_MS, Math.max(remaining, 1)));
    }
  }

  private replyQueueName(): Promise<string> {
    if (!this.replyQueue) {
      this.replyQueue = this.transport.consumeReplies((message) => this.onReply(message));
      // A failed set-up is retried by the next call rather than remembered forever.
      this.replyQueue.catch(() => {
        this.replyQueue = undefined;
      });
    }
    return this.replyQueue;
  }

  private onReply(message: IncomingMessage): void {
    const correlationId = message.correlationId;
    if (!correlationId || !this.pending.has(correlationId)) {
      // The call timed out already, or this is a duplicate: nobody is waiting.
      this.logger.debug({ correlationId }, 'reply without a waiting call dropped');
      return;
    }
    this.settle(correlationId, (call) => {
      const reply = decodeReply(message.body);
      if (!reply) {
        call.reject(new Error(`malformed reply to ${call.method} on ${describeTarget(call.target)}`));
      } else if (reply.failure) {
        call.reject(new RemoteError(reply.failure.name, reply.failure.message, call.target, call.method));
      } else {
        call.resolve(reply.result);
      }
    });
  }

  private settle(correlationId: string, outcome: (call: PendingCall) => void): void {
    const call = this.pending.get(correlationId);
    if (!call) return;
    this.pending.delete(correlationId);
    clearTimeout(call.timer);
    outcome(call);
  }

  private async dispatch(
    target: ServeTarget,
    handlers: RpcHandlers,
    message: IncomingMessage,
  ): Promise<void> {
    let reply: ReplyBody;
    let method = '(undecodable)';
    try {
      const request = decodeRequest(message.body);
      method = request.method;
      const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
      if (!handler) throw new NoSuchMethodError(`${target.topic} has no method ${method}`);
      reply = { result: await handler(request.args as never) };
    } catch (error) {
      const failure = toFailure(error);
      // The stack stays here, in the server's log; the caller gets name and message only.
      this.logger.warn(
        { topic: target.topic, server: target.server, method, err: error },
        'rpc handler failed',
      );
      reply = { failure };
    }
    if (!message.replyTo || !message.correlationId) return; // a cast or fanout: nobody waits
    let body: string;
    try {
      body = JSON.stringify(reply);
    } catch {
      // A BigInt or a cycle in the result: the caller learns that, not a timeout.
      body = JSON.stringify({
        failure: { name: 'TypeError', message: `the result of ${method} is not JSON` },
      });
    }
    try {
      await this.transport.publishReply(message.replyTo, body, message.correlationId);
    } catch (error) {
      this.logger.warn({ topic: target.topic, method, err: error }, 'rpc reply could not be sent');
    }
  }

  private async processWork<T>(
    queue: string,
    handler: WorkHandler<T>,
    work: IncomingWork,
    requeueDelayMs: number,
  ): Promise<void> {
    let message: T;
    try {
      message = JSON.parse(work.body) as T;
    } catch {
      this.logger.error({ queue }, 'undecodable work message discarded');
      work.discard();
      return;
    }
    try {
      await handler(message, { redelivered: work.redelivered });
    } catch (error) {
      this.logger.warn(
        { queue, err: error, redelivered: work.redelivered },
        'work handler failed; message requeued',
      );
      await sleep(requeueDelayMs);
      work.requeue();
      return;
    }
    work.ack();
  }

  private track(subscription: Subscription): Subscription {
    this.subscriptions.add(subscription);
    return {
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }
}

function encodeRequest(method: string, args: RpcArgs): string {
  if (typeof method !== 'string' || method === '') throw new TypeError('an rpc method name is required');
  return JSON.stringify({ method, args } satisfies RequestBody);
}

function decodeRequest(body: string): RequestBody {
  const parsed = JSON.parse(body) as Partial<RequestBody> | null;
  if (
    !parsed ||
    typeof parsed.method !== 'string' ||
    typeof parsed.args !== 'object' ||
    parsed.args === null
  ) {
    throw new TypeError('malformed rpc request');
  }
  return { method: parsed.method, args: parsed.args };
}

function decodeReply(body: string): ReplyBody | undefined {
  try {
    const parsed = JSON.parse(body) as ReplyBody | null;
    if (!parsed || typeof parsed !== 'object') return undefined;
    if (parsed.failure !== undefined) {
      const { name, message } = parsed.failure;
      return { failure: { name: String(name), message: String(message) } };
    }
    return parsed;
  } catch {
    return undefined;
  }
}

function toFailure(error: unknown): Failure {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

function checkTarget(target: RpcTarget): void {
  if (!TOPIC_PATTERN.test(target.topic)) {
    throw new TypeError(`invalid topic ${JSON.stringify(target.topic)}: letters, digits, _ : - only`);
  }
  if (target.server !== undefined) checkName('server', target.server);
}

function checkName(what: string, name: string): void {
  if (!NAME_PATTERN.test(name)) throw new TypeError(`invalid ${what} name ${JSON.stringify(name)}`);
}
