// Overcast as a benchmark subject: `bin/overcast up` (the compiled all-in-one on SQLite and the
// in-process bus, or on a database it is given) in a data directory of its own on a free
// loopback port, stopped exactly.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../lib/exec.js';
import { freePort, type KitContext, startDaemon, waitUntil } from '../../lib/kit/common.js';
import { processTree, rssBytes } from './procfs.js';
import { repoRoot } from './repo.js';

export interface OvercastServer {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** http://127.0.0.1:<port>/identity/v3 */
  identityUrl: string;
  adminPassword: string;
  dataDir: string;
  logFile: string;
  pids(): Promise<number[]>;
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 90_000;

/**
 * `npm run build`, so the benchmark measures the code of this checkout. Resolves to why the
 * build failed (its first errors), or undefined when it succeeded.
 */
export async function buildOvercast(): Promise<string | undefined> {
  const result = await run(['npm', 'run', 'build'], {
    cwd: repoRoot(),
    allowFailure: true,
    timeoutMs: 900_000,
  });
  if (result.code === 0) return undefined;
  const errors = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => /error/i.test(line) && !/^npm (warn|ERR!)/.test(line))
    .slice(0, 3);
  return `npm run build failed (exit ${result.code})${errors.length > 0 ? `: ${errors.join(' | ')}` : ''}`;
}

export interface OvercastOptions {
  /** Names the data directory and the log, for runs that start more than one (default `overcast`). */
  name?: string;
  /** A mysql:// URL of an empty database (default: SQLite in the data directory). */
  databaseUrl?: string;
  /** More configuration, as OVERCAST_* environment variables (lib/config.ts). */
  env?: Record<string, string>;
}

/**
 * Node options for the server under test only, from OVERCAST_BENCH_NODE_FLAGS (for looking
 * inside a run: `--trace-gc`, `--cpu-prof --cpu-prof-dir=DIR`; Node refuses most of these in
 * NODE_OPTIONS, which would also reach the load generator). Its output goes to the server's log.
 */
function serverNodeFlags(): string[] {
  return (process.env.OVERCAST_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== '');
}

export async function startOvercast(ctx: KitContext, options: OvercastOptions = {}): Promise<OvercastServer> {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'lib', 'cli', 'main.js'))) {
    throw new Error('Overcast is not built: run `npm run build` first');
  }
  const name = options.name ?? 'overcast';
  const dataDir = join(ctx.stateDir, name);
  // A fresh cloud for every run, as for the peer.
  await rm(dataDir, { recursive: true, force: true });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  ctx.progress(`${name}: starting \`overcast up\` on 127.0.0.1:${port}`);
  const env = { ...process.env, ...options.env };
  if (options.databaseUrl) env.OVERCAST_DATABASE_URL = options.databaseUrl;
  const daemon = await startDaemon(
    ctx,
    name,
    [
      process.execPath,
      ...serverNodeFlags(),
      join(root, 'bin', 'overcast'),
      'up',
      '--data-dir',
      dataDir,
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { cwd: root, env },
  );
  const passwordFile = join(dataDir, 'admin-password');
  try {
    await waitUntil(
      `overcast up on port ${port}`,
      async () => {
        const response = await fetch(`${baseUrl}/identity/v3`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        return response.ok;
      },
      { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 200, isAlive: daemon.isAlive, logFile: daemon.logFile },
    );
  } catch (err) {
    await daemon.stop(15_000);
    throw err;
  }
  // Bootstrap writes the password as part of start-up; give it a moment after the port opens.
  let adminPassword: string | undefined;
  for (let i = 0; i < 50 && adminPassword === undefined; i++) {
    adminPassword = (await readFile(passwordFile, 'utf8').catch(() => undefined))?.trim();
    if (adminPassword === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!adminPassword) {
    await daemon.stop(15_000);
    throw new Error(`overcast up serves ${baseUrl} but bootstrap wrote no ${passwordFile}`);
  }
  const pids = () => (daemon.isAlive() ? processTree(daemon.pid) : Promise.resolve([]));
  return {
    baseUrl,
    identityUrl: `${baseUrl}/identity/v3`,
    adminPassword,
    dataDir,
    logFile: daemon.logFile,
    pids,
    rssBytes: async () => rssBytes(await pids()),
    stop: () => daemon.stop(15_000),
  };
}
