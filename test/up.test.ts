// `overcast up --with ...`: the all-in-one on the same real components the suite uses,
// started from the kit under DATA_DIR/components, stopped completely on SIGTERM, and able to
// start again on the same data directory.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../lib/exec.js';
import { required } from './harness/inject.js';
import { apiPort, type RunningUp, startUp } from './harness/overcast-up.js';

/** Processes whose command line mentions `dir`: what the kit started there. */
async function processesUnder(dir: string): Promise<string[]> {
  const { stdout } = await run(['pgrep', '-a', '-f', dir], { allowFailure: true });
  return stdout.split('\n').filter((line) => line.trim() !== '' && !line.includes('pgrep'));
}

const dataDir = await mkdtemp(join(tmpdir(), 'overcast-up-'));
let running: RunningUp | undefined;

afterAll(async () => {
  await running?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('overcast up --with mariadb,rabbitmq,kubernetes', () => {
  it('runs the API on MariaDB and RabbitMQ with a control plane and the operator beside it', async () => {
    const port = await apiPort();
    const args = [
      '--data-dir',
      dataDir,
      '--listen',
      `127.0.0.1:${port}`,
      '--with',
      'mariadb,rabbitmq,kubernetes',
    ];
    running = await startUp(args);
    expect(running.stderr()).toMatch(/MariaDB on 127\.0\.0\.1:\d+/);
    expect(running.stderr()).toMatch(/RabbitMQ on 127\.0\.0\.1:\d+/);
    expect(running.stderr()).toMatch(/Kubernetes at https:\/\/127\.0\.0\.1:\d+/);

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', checks: { database: 'ok', bus: 'ok' } });
    const kubeconfig = join(dataDir, 'kubeconfig');
    const namespaces = await run([
      required('kubectl'),
      '--kubeconfig',
      kubeconfig,
      'get',
      'namespace',
      'default',
    ]);
    expect(namespaces.stdout).toContain('default');
    // The operator's kinds are installed: `kubectl get openstack` answers (with nothing yet).
    const kinds = await run([required('kubectl'), '--kubeconfig', kubeconfig, 'get', 'crd', '-o', 'name']);
    expect(kinds.stdout).toContain(
      'customresourcedefinition.apiextensions.k8s.io/networks.openstack.overcast.dev',
    );
    const listed = await run([required('kubectl'), '--kubeconfig', kubeconfig, 'get', 'openstack', '-A']);
    expect(listed.code).toBe(0);
    const components = (await processesUnder(join(dataDir, 'components'))).join('\n');
    for (const daemon of ['mariadbd', 'beam', 'etcd', 'kube-apiserver', 'kube-controller-manager']) {
      expect(components).toContain(daemon);
    }
  });

  it('stops every component it started on SIGTERM and exits 0', async () => {
    expect(await running!.stop()).toBe(0);
    running = undefined;
    expect(await processesUnder(join(dataDir, 'components'))).toEqual([]);
  });

  it('comes up again on the same data directory, keeping the database it migrated', async () => {
    // The migration table db-sync created on the first start: the same file afterwards
    // means MariaDB's data was kept, not initialized anew.
    const migrationTable = join(
      dataDir,
      'components',
      'mariadb',
      'data',
      'overcast',
      'identity_migrations.frm',
    );
    const before = await stat(migrationTable);
    const port = await apiPort();
    running = await startUp([
      '--data-dir',
      dataDir,
      '--listen',
      `127.0.0.1:${port}`,
      '--with',
      'mariadb,rabbitmq',
    ]);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const after = await stat(migrationTable);
    expect(after.ino).toBe(before.ino);
    expect(after.birthtimeMs).toBe(before.birthtimeMs);
    expect(await running.stop()).toBe(0);
    running = undefined;
  });
});
