// The message bus between the api-server and the node-agents, shaped like oslo.messaging's
// RPC over its rabbit driver so the topology reads the same as Nova's and Neutron's:
//
//   call/cast {topic}          → topic exchange `<exchange>`, routing key `<topic>`          (any server)
//   call/cast {topic, server}  → topic exchange `<exchange>`, routing key `<topic>.<server>` (one host)
//   fanout(topic)              → fanout exchange `<topic>_fanout` → one queue per server    (every host)
//   replies                    → the caller's exclusive `reply_<uuid>` queue, by correlation id
//
// Work queues are separate: durable, persistent, confirmed, acknowledged after processing.
// Everything crossing the bus is JSON: what a handler receives is what JSON.parse gives back.
import type { Logger } from '../log.js';

/** Arguments of an RPC method: a JSON object. */
export type RpcArgs = Record<string, unknown>;

/** Where a call or cast goes: any server of `topic`, or the one named `server`. */
export interface RpcTarget {
  topic: string;
  server?: string;
}

/** What a server listens as: the shared `topic` queue, `topic.server`, and topic fanouts. */
export interface ServeTarget {
  topic: string;
  server: string;
}

/**
 * One RPC method. Its arguments come off the wire: a handler declares the type it expects
 * and is responsible for checking what it relies on. The resolved value is the reply.
 */
export type RpcHandler = (args: never) => unknown;
export type RpcHandlers = Record<string, RpcHandler>;

export interface CallOptions {
  /** How long to wait for the reply; the bus's default when absent. */
  timeoutMs?: number;
}

export interface WorkDelivery {
  /** True when this message was handed out before and not acknowledged (a retry). */
  redelivered: boolean;
}

/**
 * Processes one work message. Resolving acknowledges it; throwing puts it back on the queue
 * to be delivered again. Delivery is at-least-once, so a handler must be idempotent.
 */
export type WorkHandler<T = unknown> = (message: T, delivery: WorkDelivery) => Promise<void> | void;

export interface ConsumeWorkOptions {
  /** At most this many messages are being handled at once by this consumer (default 1). */
  prefetch?: number;
  /** Pause before a failed message goes back to the queue, so a failing one cannot spin (default 250). */
  requeueDelayMs?: number;
}

/** Ends a serve() or consumeWork(); unacknowledged work goes back to its queue. */
export interface Subscription {
  close(): Promise<void>;
}

export interface MessageBus {
  /**
   * Invokes `method` on a server of `target` and resolves with its result. Rejects with
   * RemoteError when the handler threw, RpcTimeoutError when no reply came in time (the
   * target may still have run it), BusClosedError when the bus closed first.
   */
  call<T = unknown>(target: RpcTarget, method: string, args?: RpcArgs, options?: CallOptions): Promise<T>;
  /**
   * Sends `method` to a server of `target` without waiting for it to run. Resolves once the
   * broker holds the message; rejects with NoRouteError when nothing serves the target.
   */
  cast(target: RpcTarget, method: string, args?: RpcArgs): Promise<void>;
  /** Sends `method` to every server currently serving `topic`; none is not an error. */
  fanout(topic: string, method: string, args?: RpcArgs): Promise<void>;
  /** Serves `handlers` as `target.server` of `target.topic` until the subscription closes. */
  serve(target: ServeTarget, handlers: RpcHandlers): Promise<Subscription>;
  /**
   * Puts a message on the durable work queue `queue`. Resolves only once the broker has
   * taken responsibility for it (publisher confirm); waits through a reconnection.
   */
  publishWork(queue: string, message: unknown): Promise<void>;
  /** Consumes the durable work queue `queue` with `handler`; see WorkHandler. */
  consumeWork<T = unknown>(
    queue: string,
    handler: WorkHandler<T>,
    options?: ConsumeWorkOptions,
  ): Promise<Subscription>;
  /** Resolves if the broker answers right now; rejects with the reason otherwise (for health endpoints). */
  healthCheck(): Promise<void>;
  /** Ends every subscription, fails pending calls with BusClosedError, and disconnects. */
  close(): Promise<void>;
}

export interface BusOptions {
  /** Where the bus reports connections, reconnections and failed handlers; never message bodies. */
  log: Logger;
  /** oslo.messaging's control_exchange: the topic exchange RPC goes through (default "overcast"). */
  exchange?: string;
  /** Default for CallOptions.timeoutMs (default 30 s). */
  rpcTimeoutMs?: number;
  /** How long a publish may wait for a connection and a confirm before failing (default 30 s). */
  publishTimeoutMs?: number;
  /** How long createBus keeps trying to reach the broker the first time (default 30 s). */
  connectTimeoutMs?: number;
}

/** No reply arrived within the call's timeout. */
export class RpcTimeoutError extends Error {
  override name = 'RpcTimeoutError';
  constructor(
    readonly target: RpcTarget,
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to ${method} on ${describeTarget(target)} within ${timeoutMs} ms`);
  }
}

/**
 * The remote handler threw. Only the error's name and message cross the bus: the remote
 * stack (paths, internals) stays on the server, where it is logged.
 */
export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(
    /** The `name` of the error the remote handler threw, e.g. "NotFound". */
    readonly remoteName: string,
    readonly remoteMessage: string,
    readonly target: RpcTarget,
    readonly method: string,
  ) {
    super(`${method} on ${describeTarget(target)} failed: ${remoteName}: ${remoteMessage}`);
  }
}

/** The server has no handler for the method; arrives at the caller as a RemoteError of this name. */
export class NoSuchMethodError extends Error {
  override name = 'NoSuchMethodError';
}

/** A cast found no queue to go to: nothing has ever served that target on this broker. */
export class NoRouteError extends Error {
  override name = 'NoRouteError';
}

/** The bus was closed before the operation could finish. */
export class BusClosedError extends Error {
  override name = 'BusClosedError';
  constructor() {
    super('the message bus is closed');
  }
}

/** The broker did not confirm a publish in time (it stayed unreachable, or kept refusing it). */
export class PublishTimeoutError extends Error {
  override name = 'PublishTimeoutError';
}

export function describeTarget(target: RpcTarget): string {
  return target.server ? `${target.topic}.${target.server}` : target.topic;
}
