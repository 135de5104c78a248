// What a Node.js server costs in resident memory before it does anything of its own: an idle
// `node` and an idle `node` that has loaded fastify (the api-server's HTTP framework), started
// beside the servers under test and measured at the same moment. A memory target below these
// floors cannot be met by any code on this runtime, and the report says so with the numbers.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rssBytes } from './procfs.js';
import { repoRoot } from './repo.js';

export interface RuntimeFloorProbe {
  /** Resident memory of each idle process now, in bytes. */
  measure(): Promise<{ node: number; nodeWithFastify: number }>;
  stop(): Promise<void>;
}

/** Idles forever; with `preload`, after importing that module from the repository. */
function idleNode(preload?: string): ChildProcess {
  const script = preload
    ? `await import(${JSON.stringify(preload)}); setInterval(() => {}, 1 << 30);`
    : 'setInterval(() => {}, 1 << 30);';
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot(),
    stdio: 'ignore',
  });
}

/**
 * Starts both idle processes now; measure() them when the servers are measured at rest, so
 * they have idled (and V8 has shrunk their heaps) as long as the servers have.
 */
export function startRuntimeFloorProbe(): RuntimeFloorProbe {
  const bare = idleNode();
  const withFastify = idleNode('fastify');
  const children = [bare, withFastify];
  return {
    async measure() {
      for (const child of children) {
        if (child.exitCode !== null || child.pid === undefined) {
          throw new Error(`an idle node process of the runtime floor exited (${child.exitCode})`);
        }
      }
      return { node: await rssBytes([bare.pid!]), nodeWithFastify: await rssBytes([withFastify.pid!]) };
    },
    async stop() {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          await exited;
        }),
      );
    },
  };
}
