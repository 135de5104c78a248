// MD5 and SHA-512 of image data, computed off the main thread. Every uploaded byte needs both
// (Glance's checksum and os_hash_value); on one thread they cost more CPU than receiving and
// writing the data together, and would cap every upload at what one core hashes. Here each
// algorithm has a worker thread of its own, shared by every upload of the process, so the two
// hashes and the I/O run on different cores.
//
// Data goes to the workers in blocks of shared memory, copied into a block once and read by
// both workers. At most a few blocks of an upload are in flight: when the workers fall behind,
// the caller waits (and so, through stream backpressure, does the client), so memory stays
// constant whatever the size of the image.
import { Worker } from 'node:worker_threads';

export type HashAlgorithm = 'md5' | 'sha512';
const ALGORITHMS: readonly HashAlgorithm[] = ['md5', 'sha512'];

/** One message per block: large enough that messaging costs little, small enough to pipeline. */
const BLOCK_BYTES = 1024 * 1024;
/** Blocks of one upload the workers may be behind by before the upload waits for them. */
const MAX_BLOCKS_IN_FLIGHT = 8;

type ToWorker =
  | { kind: 'update'; session: number; block: SharedArrayBuffer; blockId: number; length: number }
  | { kind: 'digest'; session: number }
  | { kind: 'discard'; session: number };

type FromWorker =
  | { kind: 'hashed'; session: number; blockId: number }
  | { kind: 'digest'; session: number; hex: string };

// The worker's code, evaluated as a CommonJS script (`eval: true`), so the same source runs from
// dist/ and under the test runner, which cannot hand a TypeScript file to a worker thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (message) => {
  const session = message.session;
  if (message.kind === 'update') {
    let hash = hashes.get(session);
    if (!hash) hashes.set(session, (hash = createHash(workerData.algorithm)));
    hash.update(new Uint8Array(message.block, 0, message.length));
    parentPort.postMessage({ kind: 'hashed', session, blockId: message.blockId });
  } else if (message.kind === 'digest') {
    const hash = hashes.get(session) || createHash(workerData.algorithm);
    hashes.delete(session);
    parentPort.postMessage({ kind: 'digest', session, hex: hash.digest('hex') });
  } else if (message.kind === 'discard') {
    hashes.delete(session);
  }
});
`;

/** What a hashing session hears back from one worker. */
interface SessionListener {
  blockHashed(blockId: number): void;
  digest(hex: string): void;
  failed(error: Error): void;
}

/** One worker thread computing one algorithm for any number of sessions. */
class HashThread {
  private worker: Worker | undefined;
  private readonly listeners = new Map<number, SessionListener>();

  constructor(readonly algorithm: HashAlgorithm) {}

  open(session: number, listener: SessionListener): void {
    this.listeners.set(session, listener);
    this.holdProcess();
  }

  close(session: number): void {
    this.listeners.delete(session);
    this.holdProcess();
  }

  /** The thread keeps the process alive while it has work, and only then. */
  private holdProcess(): void {
    if (this.listeners.size > 0) this.worker?.ref();
    else this.worker?.unref();
  }

  post(message: ToWorker): void {
    this.running().postMessage(message);
  }

  /** The worker, started on first use. */
  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithm: this.algorithm } });
    worker.on('message', (message: FromWorker) => {
      const listener = this.listeners.get(message.session);
      if (message.kind === 'hashed') listener?.blockHashed(message.blockId);
      else listener?.digest(message.hex);
    });
    const lost = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const listeners = [...this.listeners.values()];
      this.listeners.clear();
      for (const listener of listeners) listener.failed(error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) =>
      lost(new Error(`the ${this.algorithm} hashing thread exited (code ${code})`)),
    );
    this.worker = worker;
    // After the listeners: adding a 'message' listener references the worker again.
    this.holdProcess();
    return worker;
  }
}

const threads = new Map<HashAlgorithm, HashThread>(
  ALGORITHMS.map((algorithm) => [algorithm, new HashThread(algorithm)]),
);
let nextSession = 1;

interface Block {
  id: number;
  memory: SharedArrayBuffer;
  bytes: Uint8Array;
  length: number;
}

/**
 * The hashes of one stream of data. update() with every chunk in order; while `behind` is true
 * wait for caughtUp() before sending more; finish() once for the digests; discard() when the
 * data is abandoned.
 */
export class ParallelHashes {
  private readonly session = nextSession++;
  private current: Block | undefined;
  private readonly spare: SharedArrayBuffer[] = [];
  /** Blocks posted and not yet hashed by every thread: block id → threads still at it. */
  private readonly inFlight = new Map<number, { block: Block; threadsLeft: number }>();
  private nextBlockId = 1;
  private failure: Error | undefined;
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly digests = new Map<HashAlgorithm, string>();
  private digestsWanted:
    | { resolve: (hex: Record<HashAlgorithm, string>) => void; reject: (e: Error) => void }
    | undefined;

  /** Whether the threads know this session (from its first block on, until it is done). */
  private open = false;
  private finished = false;

  /** Introduces the session to the threads, on first use, so unused sessions cost nothing. */
  private opened(): void {
    if (this.open) return;
    this.open = true;
    for (const thread of threads.values()) {
      thread.open(this.session, {
        blockHashed: (blockId) => this.blockHashed(blockId),
        digest: (hex) => this.digestArrived(thread.algorithm, hex),
        failed: (error) => this.fail(error),
      });
    }
  }

  private closed(): void {
    if (!this.open) return;
    this.open = false;
    for (const thread of threads.values()) thread.close(this.session);
  }

  /** True while the threads are too far behind: wait for caughtUp() before more update(). */
  get behind(): boolean {
    return this.inFlight.size >= MAX_BLOCKS_IN_FLIGHT;
  }

  update(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    let offset = 0;
    while (offset < chunk.length) {
      const block = this.current ?? this.newBlock();
      const taken = Math.min(BLOCK_BYTES - block.length, chunk.length - offset);
      block.bytes.set(chunk.subarray(offset, offset + taken), block.length);
      block.length += taken;
      offset += taken;
      if (block.length === BLOCK_BYTES) this.post(block);
    }
  }

  /** Resolves once fewer than the maximum blocks are in flight; rejects if a thread failed. */
  caughtUp(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.behind) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The hex digests of everything passed to update(). */
  finish(): Promise<Record<HashAlgorithm, string>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.finished) return Promise.reject(new Error('ParallelHashes: finish() called twice'));
    this.finished = true;
    if (this.current && this.current.length > 0) this.post(this.current);
    this.opened();
    return new Promise((resolve, reject) => {
      this.digestsWanted = { resolve, reject };
      for (const thread of threads.values()) thread.post({ kind: 'digest', session: this.session });
    });
  }

  /** Forgets the data, if it is not finished: the threads drop what they hold for it. */
  discard(): void {
    if (this.open && !this.failure) {
      for (const thread of threads.values()) thread.post({ kind: 'discard', session: this.session });
    }
    this.closed();
    this.fail(new Error('hashing discarded'));
  }

  private newBlock(): Block {
    const memory = this.spare.pop() ?? new SharedArrayBuffer(BLOCK_BYTES);
    this.current = { id: this.nextBlockId++, memory, bytes: new Uint8Array(memory), length: 0 };
    return this.current;
  }

  private post(block: Block): void {
    this.opened();
    this.current = undefined;
    this.inFlight.set(block.id, { block, threadsLeft: threads.size });
    for (const thread of threads.values()) {
      thread.post({
        kind: 'update',
        session: this.session,
        block: block.memory,
        blockId: block.id,
        length: block.length,
      });
    }
  }

  private blockHashed(blockId: number): void {
    const entry = this.inFlight.get(blockId);
    if (!entry || --entry.threadsLeft > 0) return;
    this.inFlight.delete(blockId);
    // Every thread is done with it: the memory can take the next data (reused rather than
    // allocated afresh: new memory costs page faults, which are slow on virtual machines).
    if (this.spare.length < MAX_BLOCKS_IN_FLIGHT) this.spare.push(entry.block.memory);
    if (!this.behind) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
  }

  private digestArrived(algorithm: HashAlgorithm, hex: string): void {
    this.digests.set(algorithm, hex);
    if (this.digests.size < threads.size || !this.digestsWanted) return;
    this.closed();
    this.digestsWanted.resolve(Object.fromEntries(this.digests) as Record<HashAlgorithm, string>);
    this.digestsWanted = undefined;
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters = [];
    this.digestsWanted?.reject(error);
    this.digestsWanted = undefined;
    this.inFlight.clear();
    this.spare.length = 0;
  }
}
