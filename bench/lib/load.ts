// A closed-loop HTTP load generator: `concurrency` requests in flight, each client sending its
// next request as soon as the previous answer has been read in full, over its own connection
// (http-connection.ts: raw sockets, so the generator takes as little CPU from the server as it
// can).
// Connections are kept alive when the server allows it; a server that ends every response by
// closing the connection (uWSGI as Debian configures it for Keystone) simply costs a new
// connection per request, which the generator counts. Runs are bounded by time and by count,
// and only loopback addresses are accepted: this measures servers on this machine, nothing else.
import { performance } from 'node:perf_hooks';
import { encodeRequest, type HttpAnswer, HttpConnection } from './http-connection.js';

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** http://127.0.0.1:<port> (or [::1], localhost); paths come from makeRequest. */
  baseUrl: string;
  concurrency: number;
  durationMs: number;
  /** Stop after this many requests even when time remains. */
  maxRequests: number;
  /** A request that has not been answered by then counts as an error (default 60 s). */
  requestTimeoutMs?: number;
  /** Called once per request, with a number unique within this run. */
  makeRequest: (sequence: number) => RequestSpec;
  /** The status a correct answer has; anything else is counted, by status, as a failure. */
  expectStatus: number;
}

export interface LoadResult {
  concurrency: number;
  /** Requests answered (any status). */
  completed: number;
  /** Answers with the expected status. */
  ok: number;
  /** Non-expected statuses ("status 500") and transport errors ("ECONNRESET"), with counts. */
  failures: Record<string, number>;
  /** From the first request sent to the last answer received. */
  windowSeconds: number;
  /** ok / windowSeconds. */
  okPerSecond: number;
  /** Latency of answered requests, milliseconds. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  connectionsOpened: number;
  /** CPU the generator itself used (it shares the machine with the server). */
  clientCpuSeconds: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function generateLoad(options: LoadOptions): Promise<LoadResult> {
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:' || !LOOPBACK_HOSTS.has(base.hostname)) {
    throw new Error(`load generation is for loopback http servers only, not ${options.baseUrl}`);
  }
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new Error(`concurrency must be a positive integer, got ${options.concurrency}`);
  }
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const port = Number(base.port || 80);
  const timeoutMs = options.requestTimeoutMs ?? 60_000;
  const hostHeader = base.host;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const fail = (what: string) => {
    failures[what] = (failures[what] ?? 0) + 1;
  };
  let issued = 0;
  let ok = 0;
  let firstSent = Number.POSITIVE_INFINITY;
  let lastAnswered = 0;
  const cpuBefore = process.cpuUsage();
  const deadline = performance.now() + options.durationMs;

  const connections = Array.from(
    { length: options.concurrency },
    () => new HttpConnection(host, port, timeoutMs),
  );
  const client = async (connection: HttpConnection) => {
    while (performance.now() < deadline && issued < options.maxRequests) {
      const spec = options.makeRequest(issued++);
      const wire = encodeRequest(spec, hostHeader);
      const isHead = spec.method === 'HEAD';
      const started = performance.now();
      if (started < firstSent) firstSent = started;
      try {
        let answer: HttpAnswer;
        try {
          answer = await connection.send(wire, isHead);
        } catch (err) {
          // A kept-alive connection the server closed while idle fails at once with a reset;
          // the request never reached the application, so it is sent again, once.
          const error = err as NodeJS.ErrnoException & { reused?: boolean };
          if (!(error.reused && error.code === 'ECONNRESET')) throw err;
          answer = await connection.send(wire, isHead);
        }
        const finished = performance.now();
        lastAnswered = Math.max(lastAnswered, finished);
        latencies.push(finished - started);
        if (answer.status === options.expectStatus) ok++;
        else fail(`status ${answer.status}`);
      } catch (err) {
        fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      }
    }
  };

  try {
    await Promise.all(connections.map(client));
  } finally {
    for (const connection of connections) connection.close();
  }
  const connectionsOpened = connections.reduce((sum, connection) => sum + connection.opened, 0);
  const cpu = process.cpuUsage(cpuBefore);
  const windowSeconds = lastAnswered > firstSent ? (lastAnswered - firstSent) / 1000 : 0;
  const sorted = Float64Array.from(latencies).sort();
  return {
    concurrency: options.concurrency,
    completed: latencies.length,
    ok,
    failures,
    windowSeconds,
    okPerSecond: windowSeconds > 0 ? ok / windowSeconds : 0,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    connectionsOpened,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

/** Nearest-rank percentile of ascending values; NaN when there are none. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
