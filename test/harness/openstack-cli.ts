// What every walk-through with the real `openstack` CLI starts from: `overcast up` on SQLite or
// MariaDB in a work directory of its own, the admin's openrc read back, and the CLI run with
// those credentials (or a member's) and nothing else of the test runner's environment.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type RunResult, run } from '../../lib/exec.js';
import { OPENSTACK_COMMAND } from '../../lib/kit/openstack.js';
import { createDatabaseFor, type Dialect } from './databases.js';
import { apiPort, type RunningUp, sourceOpenrc, startUp } from './overcast-up.js';

/** What `openstack -f json` printed: whatever JSON the command shows, read by expectations. */
// biome-ignore lint/suspicious/noExplicitAny: tests index into arbitrary CLI output
type Json = any;

export interface CliCloudOptions {
  /** Extra environment of `overcast up`. */
  env?: Record<string, string>;
  /** How long one `openstack` command may take (default 120 s). */
  commandTimeoutMs?: number;
}

export interface CliCloud {
  /** The test's own directory; `data/` in it is overcast's data directory. */
  workDir: string;
  /** Where every service is served: http://127.0.0.1:<port>. */
  baseUrl: string;
  up: RunningUp;
  /** The admin's OS_* variables from the openrc `overcast up` wrote. */
  adminEnv: Record<string, string>;
  /** Runs `openstack` as the admin, with `overrides` on top (a member's OS_* variables). */
  openstack(args: string[], overrides?: Record<string, string>): Promise<RunResult>;
  /** `openstack ... -f json`, failing the test unless it succeeds; its parsed output. */
  json(args: string[], overrides?: Record<string, string>): Promise<Json>;
  /** Creates `project` and `user` (password "pw") with the member role; the user's OS_* variables. */
  member(project: string, user?: string): Promise<Record<string, string>>;
  /** Stops `overcast up` and removes the work directory. */
  stop(): Promise<void>;
}

/** Starts `overcast up` on `dialect`, in a fresh directory named after `name`. */
export async function startCliCloud(
  dialect: Dialect,
  name: string,
  options: CliCloudOptions = {},
): Promise<CliCloud> {
  const workDir = await mkdtemp(join(tmpdir(), `overcast-${name}-${dialect}-`));
  const port = await apiPort();
  let up: RunningUp | undefined;
  let adminEnv: Record<string, string>;
  try {
    const databaseUrl = await createDatabaseFor(dialect, workDir);
    up = await startUp(['--data-dir', join(workDir, 'data'), '--listen', `127.0.0.1:${port}`], {
      OVERCAST_DATABASE_URL: databaseUrl,
      ...options.env,
    });
    adminEnv = await sourceOpenrc(join(workDir, 'data', 'admin-openrc'));
  } catch (error) {
    await up?.stop();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  const running = up;
  const openstack = (args: string[], overrides: Record<string, string> = {}) =>
    run([OPENSTACK_COMMAND, ...args], {
      allowFailure: true,
      timeoutMs: options.commandTimeoutMs ?? 120_000,
      env: { PATH: '/usr/bin:/bin', HOME: workDir, ...adminEnv, ...overrides },
    });
  const json = async (args: string[], overrides: Record<string, string> = {}) => {
    const result = await openstack([...args, '-f', 'json'], overrides);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout);
  };
  const succeeds = async (args: string[]) => {
    const result = await openstack(args);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  };
  return {
    workDir,
    baseUrl: `http://127.0.0.1:${port}`,
    up: running,
    adminEnv,
    openstack,
    json,
    async member(project, user = `${project}-user`) {
      await succeeds(['project', 'create', '--domain', 'default', project]);
      await succeeds(['user', 'create', '--domain', 'default', '--password', 'pw', user]);
      await succeeds(['role', 'add', '--project', project, '--user', user, 'member']);
      return { OS_USERNAME: user, OS_PASSWORD: 'pw', OS_PROJECT_NAME: project };
    },
    async stop() {
      await running.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
