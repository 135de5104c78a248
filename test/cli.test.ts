// The `overcast` executable as a user and scripts meet it: help, exit codes, configuration
// errors, db-sync on both databases, and the all-in-one serving and stopping cleanly.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/exec.js';
import { freePort } from '../lib/kit/common.js';
import { createDatabaseFor } from './harness/databases.js';
import { apiPort, OVERCAST, type RunningUp, startUp } from './harness/overcast-up.js';

let workDir: string;

const overcast = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run([OVERCAST, ...args], { allowFailure: true, env: { ...process.env, ...env }, timeoutMs: 60_000 });

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'overcast-cli-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('overcast command line', () => {
  it('shows help for itself and each subcommand, exiting 0', async () => {
    const top = await overcast(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['api-server', 'operator', 'node-agent', 'up', 'manage', 'openrc', 'kit']) {
      expect(top.stdout).toContain(command);
      const sub = await overcast([command, '--help']);
      expect(sub.code, command).toBe(0);
      expect(sub.stdout).toMatch(/Usage: overcast/);
    }
  });

  it('exits 2 on a bad command line', async () => {
    expect((await overcast(['no-such-command'])).code).toBe(2);
    expect((await overcast(['up', '--no-such-flag'])).code).toBe(2);
    expect((await overcast(['kit', 'install', 'no-such-component'])).code).toBe(2);
    const badPeriod = await overcast(['operator', '--resync-period', 'soon']);
    expect(badPeriod.code).toBe(2);
    expect(badPeriod.stderr).toContain("--resync-period: 'soon' is not a duration");
  });

  it('exits 3 with the reason on invalid configuration', async () => {
    const result = await overcast(['manage', 'db-sync', '--data-dir', workDir], {
      OVERCAST_LISTEN: 'nowhere',
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/listen: .*OVERCAST_LISTEN/);
  });

  it('exits 4 when the database is unreachable', async () => {
    const port = await freePort();
    const result = await overcast([
      'manage',
      'db-sync',
      '--data-dir',
      workDir,
      '--database-url',
      `mysql://nobody:nothing@127.0.0.1:${port}/none`,
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/cannot open the database|ECONNREFUSED/);
  });

  it.each(['sqlite', 'mysql'] as const)(
    'runs db-sync and db-version on %s, twice without harm',
    async (dialect) => {
      const url = await createDatabaseFor(dialect, workDir);
      for (let i = 0; i < 2; i++) {
        const sync = await overcast(['manage', 'db-sync', '--data-dir', workDir, '--database-url', url]);
        expect(sync.code, sync.stderr).toBe(0);
        expect(sync.stdout).toMatch(/db-sync: \d+ migrations applied/);
      }
      const version = await overcast(['manage', 'db-version', '--data-dir', workDir, '--database-url', url]);
      expect(version.code, version.stderr).toBe(0);
      for (const service of ['identity', 'image', 'compute', 'network', 'placement']) {
        expect(version.stdout).toContain(service);
      }
    },
  );

  it('prints an openrc the shell can source', async () => {
    const result = await overcast(['openrc', '--data-dir', workDir, '--listen', '127.0.0.1:5999']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("export OS_AUTH_URL='http://127.0.0.1:5999/identity/v3'");
    const sourced = await run([
      'bash',
      '-c',
      'eval "$1"; echo "$OS_USERNAME/$OS_PROJECT_NAME"',
      'bash',
      result.stdout,
    ]);
    expect(sourced.stdout.trim()).toBe('admin/admin');
  });
});

describe('overcast up', () => {
  let up: RunningUp | undefined;
  afterAll(async () => {
    await up?.stop();
  });

  it('serves the API on the embedded defaults and stops cleanly on SIGTERM', async () => {
    const dataDir = join(workDir, 'aio');
    const port = await apiPort();
    up = await startUp(['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`]);
    expect(up.stderr()).toContain(`http://127.0.0.1:${port}`);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const discovery = await fetch(`http://127.0.0.1:${port}/identity`);
    expect(discovery.status).toBe(300);
    expect((await stat(join(dataDir, 'overcast.sqlite'))).isFile()).toBe(true);

    expect(await up.stop()).toBe(0);
    up = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(await readFile(join(dataDir, 'overcast.sqlite')).then((b) => b.length)).toBeGreaterThan(0);
  });
});
