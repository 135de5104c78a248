// Plumbing shared by every local component: where things are cached and kept, free ports,
// waiting for readiness, and stopping exactly the processes a component started.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface KitContext {
  /** Survives across runs: built binaries, keyed by version. */
  cacheDir: string;
  /** Private to one run of components: data directories, sockets, pid files, logs. */
  stateDir: string;
  /** Progress lines for long work (installs, builds, start-up). */
  progress: (line: string) => void;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVERCAST_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'overcast');
}

/** A loopback port that nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

export class ComponentError extends Error {
  override name = 'ComponentError';
}

/**
 * Polls `probe` until it returns true. Fails with the reason (and the log tail, when the
 * component has a log) after `timeoutMs` or as soon as `isAlive` says the process died.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; isAlive?: () => boolean; logFile?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (options.isAlive && !options.isAlive()) {
      throw new ComponentError(`${what} exited during start-up${await logTail(options.logFile)}`);
    }
    if (Date.now() > deadline) {
      throw new ComponentError(
        `${what} not ready after ${options.timeoutMs / 1000}s${await logTail(options.logFile)}`,
      );
    }
    await sleep(options.intervalMs ?? 250);
  }
}

async function logTail(file: string | undefined): Promise<string> {
  if (!file) return '';
  const text = await readFile(file, 'utf8').catch(() => '');
  const tail = text.trim().split('\n').slice(-25).join('\n');
  return tail ? `; last lines of ${file}:\n${tail}` : '';
}

/** A long-running child process whose output goes to a log file in the state directory. */
export interface Daemon {
  name: string;
  pid: number;
  logFile: string;
  isAlive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export async function startDaemon(
  ctx: KitContext,
  name: string,
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Daemon> {
  const [command, ...args] = argv;
  if (!command) throw new Error('startDaemon: empty argv');
  const logDir = join(ctx.stateDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', fd, fd],
    detached: true, // its own process group: a Ctrl-C of the parent does not race our stop
  });
  let exited = child.exitCode !== null;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  child.unref();
  if (child.pid === undefined) throw new ComponentError(`cannot start ${command}`);
  const pid = child.pid;
  await writeFile(join(ctx.stateDir, `${name}.pid`), `${pid}\n`);
  return {
    name,
    pid,
    logFile,
    isAlive: () => !exited,
    async stop(graceMs = 10_000) {
      if (exited) return;
      process.kill(pid, 'SIGTERM');
      // The grace timer is cancelled once the child is gone, or it would keep the event loop
      // (and so the whole program) alive for the rest of graceMs.
      const graceTimer = new AbortController();
      const killed = await Promise.race([
        exitedPromise.then(() => true),
        sleep(graceMs, false, { signal: graceTimer.signal }).catch(() => false),
      ]);
      graceTimer.abort();
      if (!killed) {
        process.kill(pid, 'SIGKILL');
        await exitedPromise;
      }
      await rm(join(ctx.stateDir, `${name}.pid`), { force: true });
    },
  };
}

/** Stops a process that daemonized itself, given its pid file. No-op when it is already gone. */
export async function stopPidFile(pidFile: string, graceMs = 10_000): Promise<void> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(100);
  if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  while (isRunning(pid)) await sleep(50);
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
