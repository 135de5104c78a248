// `overcast up`: the all-in-one. The api-server and a node-agent share one process, the
// database and the bus; by default those are the embedded SQLite and in-process bus. With
// `--with`, the same kit the test suite uses starts real MariaDB, RabbitMQ and a Kubernetes
// control plane (with the operator against it), all kept under DIR/components.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bootstrapIdentity } from '../../../api-server/identity/bootstrap.js';
import { startApiServer } from '../../../api-server/main.js';
import { SERVICE_MIGRATIONS, SERVICES } from '../../../api-server/services.js';
import { startNodeAgent } from '../../../node-agent/main.js';
import { createBusFromConfig } from '../../bus/index.js';
import { type Config, publicBaseUrl, splitHostPort } from '../../config.js';
import { openDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrations.js';
import { defaultCacheDir, type KitContext } from '../../kit/common.js';
import type { Logger } from '../../log.js';
import { adminPassword, CLOUD_NAME, writeClientFiles } from '../admin-files.js';
import { orUnavailable, UsageError } from '../exit-codes.js';
import { type Closable, closeOnSignal } from '../lifecycle.js';

export const UP_COMPONENTS = ['mariadb', 'rabbitmq', 'kubernetes'] as const;
type UpComponent = (typeof UP_COMPONENTS)[number];

export function parseUpComponents(value: string | undefined): UpComponent[] {
  if (!value) return [];
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(UP_COMPONENTS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `--with: unknown component ${unknown.join(', ')} (known: ${UP_COMPONENTS.join(', ')})`,
    );
  }
  return names as UpComponent[];
}

export async function runUp(initial: Config, log: Logger, components: UpComponent[]): Promise<number> {
  const config = structuredClone(initial);
  await mkdir(config.dataDir, { recursive: true });
  const started: Closable[] = [];
  const summary: string[] = [];
  try {
    const ctx: KitContext = {
      cacheDir: defaultCacheDir(),
      stateDir: join(config.dataDir, 'components'),
      progress: (line) => process.stderr.write(`[kit] ${line}\n`),
    };
    // Each component's kit (and its client library) is loaded only when asked for: the
    // embedded default stays one small process.
    if (components.includes('mariadb')) {
      const { installMariaDb, startMariaDb } = await import('../../kit/mariadb.js');
      await installMariaDb(ctx);
      const mariadb = await orUnavailable('cannot start MariaDB', () => startMariaDb(ctx));
      started.push({ name: 'mariadb', close: mariadb.stop });
      config.database.url = mariadb.url;
      summary.push(`MariaDB on 127.0.0.1:${mariadb.port}`);
    }
    if (components.includes('rabbitmq')) {
      const { installRabbitMq, startRabbitMq } = await import('../../kit/rabbitmq.js');
      await installRabbitMq(ctx);
      const rabbitmq = await orUnavailable('cannot start RabbitMQ', () => startRabbitMq(ctx));
      started.push({ name: 'rabbitmq', close: rabbitmq.stop });
      config.bus.url = rabbitmq.url;
      summary.push(`RabbitMQ on 127.0.0.1:${rabbitmq.port}`);
    }
    if (components.includes('kubernetes')) {
      const { startKubernetes } = await import('../../kit/kubernetes.js');
      const kubernetes = await orUnavailable('cannot start Kubernetes', () => startKubernetes(ctx));
      started.push({ name: 'kubernetes', close: kubernetes.stop });
      const kubeconfig = join(config.dataDir, 'kubeconfig');
      await copyFile(kubernetes.kubeconfig, kubeconfig);
      // The CRDs, rendered from the same source as crds/, so `kubectl apply` of resource YAML
      // works at once (server-side apply: a later `up` with newer kinds updates them).
      const { installCustomResourceDefinitions } = await import('../../../operator/crds/install.js');
      await orUnavailable('cannot install the CRDs', () =>
        installCustomResourceDefinitions(kubernetes.kubectl),
      );
      const { startOperator } = await import('../../../operator/main.js');
      const operator = await startOperator({ kubeconfig }, log.child({ component: 'operator' }));
      started.push({ name: 'operator', close: operator.close });
      summary.push(`Kubernetes at ${kubernetes.apiUrl} (KUBECONFIG=${kubeconfig})`);
    }

    const database = await orUnavailable('cannot open the database', () =>
      openDatabase(config.database.url, { dataDir: config.dataDir }),
    );
    started.push({ name: 'database', close: () => database.destroy() });
    await migrateToLatest(database, SERVICE_MIGRATIONS, log);
    // Bootstrap on every start: idempotent, and it keeps the catalog's endpoint URLs equal to
    // where this run really listens.
    if (splitHostPort(config.listen).port === 0) {
      throw new UsageError('up needs a fixed --listen port: the identity catalog records the URL');
    }
    const password = await adminPassword(config);
    await bootstrapIdentity(database, config, {
      adminPassword: password,
      publicUrl: publicBaseUrl(config),
      services: SERVICES,
    });
    await writeClientFiles(config, password);
    const bus = await orUnavailable('cannot connect to the message bus', () =>
      createBusFromConfig(config, log.child({ component: 'bus' })),
    );
    started.push({ name: 'bus', close: () => bus.close() });
    const agent = await startNodeAgent(config, bus, log.child({ component: 'node-agent' }));
    started.push({ name: 'node-agent', close: agent.close });
    const server = await startApiServer(config, log.child({ component: 'api-server' }), { database, bus });
    started.push({ name: 'api-server', close: server.close });

    process.stderr.write(
      `Overcast is up: API at ${publicBaseUrl(config)}, data in ${config.dataDir}` +
        `${summary.map((line) => `\n  ${line}`).join('')}` +
        `\n  admin credentials: source ${config.dataDir}/admin-openrc (or --os-cloud ${CLOUD_NAME} with ${config.dataDir}/clouds.yaml)\n`,
    );
  } catch (err) {
    for (const part of started.reverse()) await part.close().catch(() => undefined);
    throw err;
  }
  // Stopping the components (RabbitMQ, the control plane) takes longer than closing a server.
  const graceMs = config.api.shutdownGraceMs + (components.length > 0 ? 60_000 : 0);
  return closeOnSignal(started, log, graceMs);
}
