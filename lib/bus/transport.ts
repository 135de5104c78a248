// What the bus needs from a broker, and nothing more: the RPC and work-queue semantics live
// once in core.ts above this line, and each broker (in-process, AMQP) only moves bytes
// through the oslo.messaging topology described in types.ts.
import type { ServeTarget, Subscription } from './types.js';

export interface OutgoingProperties {
  /** Ties a reply to its call. */
  correlationId?: string;
  /** The caller's reply queue; present on calls only. */
  replyTo?: string;
  /** The broker drops the message if nobody took it within this time (a call nobody waits for any more). */
  expirationMs?: number;
}

export interface PublishOptions {
  /** Cap on waiting for a connection and a confirm; the transport's default when absent. */
  timeoutMs?: number;
}

export interface IncomingMessage {
  /** JSON text. */
  body: string;
  correlationId?: string;
  replyTo?: string;
}

/** A work message handed to a consumer; exactly one of ack/requeue/discard settles it. */
export interface IncomingWork {
  body: string;
  redelivered: boolean;
  /** Done: the broker forgets it. */
  ack(): void;
  /** Failed: back on the queue for another delivery. */
  requeue(): void;
  /** Cannot ever be processed (undecodable): dropped. */
  discard(): void;
}

export interface Transport {
  /**
   * Publishes to the control exchange under `routingKey` (`topic` or `topic.server`).
   * Resolves true once the broker confirmed it into a queue, false once confirmed but
   * unroutable (no queue bound to that key). Rejects with PublishTimeoutError when the
   * broker stayed unreachable, BusClosedError when the transport closed.
   */
  publishToTopic(
    routingKey: string,
    body: string,
    properties: OutgoingProperties,
    options?: PublishOptions,
  ): Promise<boolean>;
  /** Publishes to `<topic>_fanout`; reaching no queue is fine. */
  publishFanout(topic: string, body: string): Promise<void>;
  /** Publishes a reply to a caller's reply queue; a caller that is gone is not an error. */
  publishReply(replyQueue: string, body: string, correlationId: string): Promise<void>;
  /** Publishes a persistent message to the durable queue `queue` (declared if needed); resolves on confirm. */
  publishWork(queue: string, body: string): Promise<void>;
  /**
   * Consumes `topic`, `topic.server` and a fanout queue of this server's own. RPC messages
   * are acknowledged on receipt (at most once, as oslo.messaging does): a request is never
   * run twice, and a server dying mid-call shows up as the caller's timeout.
   */
  consumeRpc(target: ServeTarget, onMessage: (message: IncomingMessage) => void): Promise<Subscription>;
  /** Creates this transport's exclusive reply queue, consumes it, and returns its name. */
  consumeReplies(onReply: (message: IncomingMessage) => void): Promise<string>;
  /** Consumes the durable queue `queue` with at most `prefetch` messages unsettled at once. */
  consumeWork(queue: string, prefetch: number, onWork: (work: IncomingWork) => void): Promise<Subscription>;
  /** A round trip to the broker; rejects when it cannot be made now. */
  healthCheck(): Promise<void>;
  close(): Promise<void>;
}

/** The queue (and routing key) a call or cast for this target goes to. */
export function rpcQueueName(topic: string, server?: string): string {
  return server ? `${topic}.${server}` : topic;
}

export function fanoutExchangeName(topic: string): string {
  return `${topic}_fanout`;
}

export function fanoutQueueName(topic: string, uniqueId: string): string {
  return `${topic}_fanout_${uniqueId}`;
}

export function replyQueueName(uniqueId: string): string {
  return `reply_${uniqueId}`;
}
