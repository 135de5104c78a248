// Starts the real components once for the integration tier and hands their addresses to
// the tests through vitest's provide/inject. Anything that cannot start fails the run with
// its reason: nothing is skipped silently.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { defaultCacheDir, type KitContext } from '../../lib/kit/common.js';
import { installKubernetes, startKubernetes } from '../../lib/kit/kubernetes.js';
import { installMariaDb, startMariaDb } from '../../lib/kit/mariadb.js';
import { installOpenstackClients } from '../../lib/kit/openstack.js';
import { installOvs, startOvs } from '../../lib/kit/ovs.js';
import { installRabbitMq, startRabbitMq } from '../../lib/kit/rabbitmq.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mariadbUrl: string;
    mariadbAdminUrl: string;
    /** The kit MariaDB's unix socket (for `?socket=` URLs). */
    mariadbSocketPath: string;
    rabbitmqUrl: string;
    /** State directory of the RabbitMQ node, for tests that restart the broker. */
    rabbitmqStateDir: string;
    kubeconfig: string;
    kubectl: string;
    helm: string;
    ovsRunDir: string;
    kitStateDir: string;
  }
}

const ALL_COMPONENTS = ['mariadb', 'rabbitmq', 'kubernetes', 'ovs', 'openstack'];

/**
 * All components by default. OVERCAST_TEST_COMPONENTS=mariadb,rabbitmq narrows it while
 * working on one part; tests that need a component that was left out fail loudly.
 */
function selectedComponents(): Set<string> {
  const raw = process.env.OVERCAST_TEST_COMPONENTS;
  if (!raw) return new Set(ALL_COMPONENTS);
  const names = raw.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !ALL_COMPONENTS.includes(name));
  if (unknown.length > 0) throw new Error(`OVERCAST_TEST_COMPONENTS: unknown ${unknown.join(', ')}`);
  return new Set(names);
}

export default async function setup(project: TestProject) {
  const stateDir = await mkdtemp(join(tmpdir(), 'overcast-test-'));
  const ctx: KitContext = {
    cacheDir: defaultCacheDir(),
    stateDir,
    progress: (line) => process.stderr.write(`[kit] ${line}\n`),
  };
  const started: { stop(): Promise<void> }[] = [];
  const teardown = async () => {
    await Promise.allSettled(started.map((component) => component.stop()));
    await rm(stateDir, { recursive: true, force: true });
  };
  const wanted = selectedComponents();
  const track = <T extends { stop(): Promise<void> }>(component: T) => {
    started.push(component);
    return component;
  };
  try {
    // Installs run one after another (apt takes a lock); starts run side by side.
    if (wanted.has('mariadb')) await installMariaDb(ctx);
    if (wanted.has('rabbitmq')) await installRabbitMq(ctx);
    if (wanted.has('ovs')) await installOvs(ctx);
    if (wanted.has('openstack')) await installOpenstackClients(ctx);
    if (wanted.has('kubernetes')) await installKubernetes(ctx);
    await Promise.all([
      wanted.has('mariadb') &&
        startMariaDb(ctx)
          .then(track)
          .then((mariadb) => {
            project.provide('mariadbUrl', mariadb.url);
            project.provide('mariadbAdminUrl', mariadb.adminUrl);
            project.provide('mariadbSocketPath', mariadb.socketPath);
          }),
      wanted.has('rabbitmq') &&
        startRabbitMq(ctx)
          .then(track)
          .then((rabbitmq) => {
            project.provide('rabbitmqUrl', rabbitmq.url);
            project.provide('rabbitmqStateDir', rabbitmq.stateDir);
          }),
      wanted.has('kubernetes') &&
        startKubernetes(ctx)
          .then(track)
          .then((kubernetes) => {
            project.provide('kubeconfig', kubernetes.kubeconfig);
            project.provide('kubectl', kubernetes.binaries.kubectl);
            project.provide('helm', kubernetes.binaries.helm);
          }),
      wanted.has('ovs') &&
        startOvs(ctx, 'test')
          .then(track)
          .then((ovs) => project.provide('ovsRunDir', ovs.runDir)),
    ]);
    project.provide('kitStateDir', stateDir);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
