// The operator benchmark (issue 6): --count Networks, each with a Subnet, created in the
// Kubernetes API at once, and the time until every one of them is Available, the reconciles per
// second and the peak RSS of the operator, measured as its own process: the real `overcast
// operator` command against a real kube-apiserver + etcd (lib/kit/kubernetes.ts) and a real
// `overcast up` it reaches over HTTP.
//
// The peer, measured in the same run on the same machine: the same networks and subnets made
// directly through the OpenStack API of a fresh `overcast up` by a plain client (lib/openstack,
// the client the operator itself uses) with as many requests in flight as the operator runs
// reconciles. What the operator adds on top of those calls (its watches, queue and rate limit,
// the adoption lookup before each create, status writes and Events in the Kubernetes API) is
// what the ratio shows.
//
//   npm run bench:operator [-- options]
//     --count N              networks (and subnets) to create (default 1000)
//     --subnets              with a Subnet per Network (the default once the Subnet kind has an
//                            actuator in operator/main.ts)
//     --networks-only        Networks alone
//     --apply-concurrency N  creates in flight against the Kubernetes API (default 16)
//     --timeout S            give up waiting for every object to be Available (default 1800)
//     --quiet-wait S         wait at most this long for a quiet machine before each phase (default 60)
//     --state-dir DIR        where the servers keep their state (default: a new directory under /tmp)
//     --json FILE            also write the raw results there
//     --no-build             measure Overcast as already built in dist/ (default: npm run build first)
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { defaultCacheDir, freePort, type KitContext, startDaemon, waitUntil } from '../../lib/kit/common.js';
import { installKubernetes, type Kubernetes, startKubernetes } from '../../lib/kit/kubernetes.js';
import { KubernetesClient } from '../../lib/kubernetes/index.js';
import { OpenStackClient, parseCloudsYaml } from '../../lib/openstack/index.js';
import { GROUP, VERSION } from '../../operator/crds/convention.js';
import { KINDS } from '../../operator/crds/kinds.js';
import { DEFAULT_RATE_LIMIT } from '../../operator/framework/backoff.js';
import { isAvailable } from '../../operator/framework/conditions.js';
import { customResourceSource, Informer, type KubeObject } from '../../operator/framework/informer.js';
import { DEFAULT_CONCURRENCY } from '../../operator/framework/manager.js';
import { ACTUATORS, loadKubeConfig } from '../../operator/main.js';
import { percentile } from '../lib/load.js';
import { benchCommandLine, COMMON_BENCH_OPTIONS } from '../lib/options.js';
import { buildOvercast, type OvercastServer, startOvercast } from '../lib/overcast.js';
import { cpuSeconds, peakRssBytes, processTree, rssBytes } from '../lib/procfs.js';
import { cpuSharesDuring, waitForQuiet } from '../lib/quiet.js';
import { repoRoot } from '../lib/repo.js';
import {
  failuresText,
  firstAndLastLine,
  gitRevision,
  loadAverageText,
  machineDescription,
  publishReport,
  type TargetVerdict,
  verdictsForJson,
  verdictTable,
} from '../lib/report.js';
import { formatTable, round3 } from '../lib/table.js';
import { liftQuotas } from '../network/network-api.js';

/** Issue 6: the operator's resident memory while it brings 1,000 objects up. */
const RSS_TARGET_BYTES = 150 * 2 ** 20;
/** Idle time before the RSS at rest, long enough for V8's memory reducer (several idle seconds). */
const REST_MS = 30_000;
const NAMESPACE = 'bench-operator';
const CREDENTIALS_SECRET = 'cloud';
const CLOUD_NAME = 'overcast';

const cli = benchCommandLine('operator', {
  count: { type: 'string' },
  subnets: { type: 'boolean', default: false },
  'networks-only': { type: 'boolean', default: false },
  'apply-concurrency': { type: 'string' },
  timeout: { type: 'string' },
  'quiet-wait': { type: 'string' },
  ...COMMON_BENCH_OPTIONS,
});
const { values } = cli;
const count = cli.integer('count', 1000);
const applyConcurrency = cli.integer('apply-concurrency', 16);
const timeoutMs = cli.integer('timeout', 1800) * 1000;
const quietWaitSeconds = cli.integer('quiet-wait', 60, 0);
const subnetActuator = ACTUATORS.some((actuator) => actuator.kind.kind === 'Subnet');
/** A refused combination of options, said the way benchCommandLine says a bad option. */
function refuse(message: string): never {
  process.stderr.write(`bench:operator: ${message}\n`);
  process.exit(2);
}
if (values.subnets && values['networks-only']) refuse('--subnets and --networks-only exclude each other');
if (values.subnets && !subnetActuator)
  refuse('--subnets, but the operator has no Subnet actuator yet (operator/main.ts)');
const withSubnets = values.subnets || (subnetActuator && !values['networks-only']);
const objectsPerNetwork = withSubnets ? 2 : 1;
const totalObjects = count * objectsPerNetwork;
const what = withSubnets ? `${count} Networks + ${count} Subnets` : `${count} Networks`;

const stateDir = values['state-dir'] ?? (await mkdtemp(join(tmpdir(), 'overcast-bench-operator-')));
const ctx: KitContext = {
  cacheDir: defaultCacheDir(),
  stateDir,
  progress: (line) => process.stderr.write(`[bench] ${line}\n`),
};

const networkName = (index: number) => `bench-${index}`;
/** A /24 of its own for every subnet, 10.0.0.0/24 upwards (65,536 of them). */
const subnetCidr = (index: number) => `10.${index >> 8}.${index & 255}.0/24`;

// ---------------------------------------------------------------- the machine

/** Every process this benchmark started (servers, control plane, operator): "ours" for quietness. */
const descendants = async () => (await processTree(process.pid)).filter((pid) => pid !== process.pid);

/** CPU seconds so far of the api-server, the operator, and the rest of ours (the control plane). */
async function cpuByRole(overcast: OvercastServer, operatorPid?: number) {
  const all = await descendants();
  const server = await overcast.pids();
  const operator = operatorPid === undefined ? [] : await processTree(operatorPid);
  const mine = new Set([...server, ...operator]);
  return {
    apiServer: await cpuSeconds(server),
    operator: await cpuSeconds(operator),
    kubernetes: await cpuSeconds(all.filter((pid) => !mine.has(pid))),
  };
}

type CpuByRole = Awaited<ReturnType<typeof cpuByRole>>;
const cpuSpent = (before: CpuByRole, after: CpuByRole): CpuByRole => ({
  apiServer: after.apiServer - before.apiServer,
  operator: after.operator - before.operator,
  kubernetes: after.kubernetes - before.kubernetes,
});

async function quiet(phase: string): Promise<boolean> {
  if (quietWaitSeconds === 0) return false;
  const gotQuiet = await waitForQuiet(descendants, { maxSeconds: quietWaitSeconds });
  if (!gotQuiet)
    ctx.progress(`${phase}: the machine did not get quiet within ${quietWaitSeconds} s; measuring anyway`);
  return gotQuiet;
}

// ---------------------------------------------------------------- a fresh cloud

interface Cloud {
  overcast: OvercastServer;
  client: OpenStackClient;
  cloudsYaml: string;
}

/** `overcast up` of its own, its admin's client, the admin project's network quotas lifted. */
async function startCloud(name: string): Promise<Cloud> {
  const overcast = await startOvercast(ctx, {
    name,
    // Room for 1,000+ tenant networks (VXLAN 1:100000) and no DHCP ports, as in the network bench.
    env: { OVERCAST_VNI_RANGES: '1:100000', OVERCAST_NETWORK_DHCP: 'false' },
  });
  const cloudsYaml = JSON.stringify({
    clouds: {
      [CLOUD_NAME]: {
        auth: {
          auth_url: `${overcast.baseUrl}/identity`,
          username: 'admin',
          password: overcast.adminPassword,
          user_domain_id: 'default',
          project_name: 'admin',
          project_domain_id: 'default',
        },
      },
    },
  });
  const client = new OpenStackClient(parseCloudsYaml(cloudsYaml, CLOUD_NAME));
  try {
    const token = await client.session.token();
    await liftQuotas({
      origin: overcast.baseUrl,
      basePath: '/network',
      headers: { 'x-auth-token': token.value },
      projectId: token.projectId!,
    });
  } catch (err) {
    client.close();
    await overcast.stop();
    throw err;
  }
  return { overcast, client, cloudsYaml };
}

/** What the cloud holds after a phase: the benchmark's networks and subnets, duplicates shown. */
async function countInCloud(client: OpenStackClient): Promise<{ networks: number; subnets: number }> {
  const network = client.service('network');
  const ours = /^bench-\d+$/;
  let networks = 0;
  for await (const found of network.list<{ name: string }>('/networks', 'networks')) {
    if (ours.test(found.name)) networks++;
  }
  let subnets = 0;
  for await (const found of network.list<{ name: string }>('/subnets', 'subnets')) {
    if (ours.test(found.name)) subnets++;
  }
  return { networks, subnets };
}

// ---------------------------------------------------------------- the peer

interface PeerResult {
  seconds: number;
  created: number;
  failures: Record<string, number>;
  cpu: CpuByRole;
  otherCores: number;
  quiet: boolean;
  inCloud: { networks: number; subnets: number };
  apiServerPeakRss: number;
}

/** DEFAULT_CONCURRENCY clients, each making one network (and its subnet) after the other. */
async function runPeer(): Promise<PeerResult> {
  const cloud = await startCloud('overcast-peer');
  try {
    const network = cloud.client.service('network');
    const gotQuiet = await quiet('peer');
    const failures: Record<string, number> = {};
    let created = 0;
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < count; index = next++) {
        try {
          const made = await network.post<{ network: { id: string } }>('/networks', {
            network: { name: networkName(index) },
          });
          created++;
          if (withSubnets) {
            await network.post('/subnets', {
              subnet: {
                name: networkName(index),
                network_id: made.body.network.id,
                ip_version: 4,
                cidr: subnetCidr(index),
              },
            });
            created++;
          }
        } catch (err) {
          const name = (err as Error).name;
          failures[name] = (failures[name] ?? 0) + 1;
        }
      }
    };
    const cpuBefore = await cpuByRole(cloud.overcast);
    const started = performance.now();
    const shares = await cpuSharesDuring(descendants, () =>
      Promise.all(Array.from({ length: DEFAULT_CONCURRENCY }, worker)),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSpent(cpuBefore, await cpuByRole(cloud.overcast));
    return {
      seconds,
      created,
      failures,
      cpu,
      otherCores: shares.otherCores,
      quiet: gotQuiet,
      inCloud: await countInCloud(cloud.client),
      apiServerPeakRss: await peakRssBytes(await cloud.overcast.pids()),
    };
  } finally {
    cloud.client.close();
    await cloud.overcast.stop();
  }
}

// ---------------------------------------------------------------- the operator

interface OperatorResult {
  applySeconds: number;
  /** From the first create sent until the last object was Available; undefined if not all were. */
  readySeconds: number | undefined;
  ready: number;
  /** Objects not Available at the end, a few of them with their conditions. */
  stuck: string[];
  /** Per kind: seconds from the first create until its last object was Available, and from each object's create until it was. */
  byKind: {
    plural: string;
    available: number;
    lastSeconds: number;
    p50Seconds: number;
    maxSeconds: number;
  }[];
  reconciles: Record<string, number>;
  reconcileErrors: Record<string, number>;
  /** Mean time of one reconcile, by kind (its /metrics histogram's sum over count). */
  meanReconcileSeconds: Record<string, number>;
  cpu: CpuByRole;
  otherCores: number;
  quiet: boolean;
  rssAtRest: number;
  rssPeak: number;
  rssAfter: number;
  apiServerPeakRss: number;
  inCloud: { networks: number; subnets: number };
}

/** The operator's counters from /metrics, by their labels ("kind=Network,result=done"). */
async function scrapeCounters(probesUrl: string, name: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${probesUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const counters: Record<string, number> = {};
  for (const match of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const labels = match[1]!.replaceAll('"', '');
    counters[labels] = Number(match[2]);
  }
  return counters;
}

/** The counters this benchmark reads from the operator's /metrics. */
async function scrapeMetrics(probesUrl: string) {
  return {
    reconciles: await scrapeCounters(probesUrl, 'overcast_operator_reconciles_total'),
    errors: await scrapeCounters(probesUrl, 'overcast_operator_reconcile_errors_total'),
    durationSum: await scrapeCounters(probesUrl, 'overcast_operator_reconcile_duration_seconds_sum'),
    durationCount: await scrapeCounters(probesUrl, 'overcast_operator_reconcile_duration_seconds_count'),
  };
}

const subtractCounters = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([labels, value]) => [labels, value - (before[labels] ?? 0)] as const)
      .filter(([, value]) => value > 0),
  );

const sum = (counters: Record<string, number>) => Object.values(counters).reduce((a, b) => a + b, 0);

function objectsToApply(): { plural: string; body: Record<string, unknown> }[] {
  const envelope = (kind: string, name: string, resource: Record<string, unknown>) => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind,
    metadata: { name, namespace: NAMESPACE },
    spec: { cloudCredentialsRef: { secretName: CREDENTIALS_SECRET, cloudName: CLOUD_NAME }, resource },
  });
  const objects = [];
  for (let index = 0; index < count; index++) {
    objects.push({ plural: 'networks', body: envelope('Network', networkName(index), {}) });
    if (withSubnets) {
      objects.push({
        plural: 'subnets',
        body: envelope('Subnet', networkName(index), {
          networkRef: networkName(index),
          ipVersion: 4,
          cidr: subnetCidr(index),
        }),
      });
    }
  }
  return objects;
}

/** Resolves once every object is Available, or at the timeout; watches through the operator's own informer code. */
function watchUntilAvailable(kubernetes: KubernetesClient, plurals: string[]) {
  /** "plural/name" → when it was first seen Available (performance.now()). */
  const available = new Map<string, number>();
  const latest = new Map<string, KubeObject>();
  let allAvailable: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allAvailable = resolve;
  });
  const informers = plurals.map(
    (plural) =>
      new Informer(customResourceSource(kubernetes, { group: GROUP, version: VERSION, plural }), {
        watchdogMs: 600_000,
        onChange(type, object) {
          if (object.metadata.namespace !== NAMESPACE || type === 'DELETED') return;
          const key = `${plural}/${object.metadata.name}`;
          latest.set(key, object);
          if (!available.has(key) && isAvailable(object as Parameters<typeof isAvailable>[0])) {
            available.set(key, performance.now());
            if (available.size === totalObjects) allAvailable();
          }
        },
      }),
  );
  return {
    start: () => Promise.all(informers.map((informer) => informer.start())),
    stop: () => {
      for (const informer of informers) informer.stop();
    },
    done,
    available,
    latest,
  };
}

/** The operator as `overcast operator`, its probes on a free loopback port; ready once /readyz says so. */
async function startOperatorProcess(kubeconfig: string) {
  const port = await freePort();
  const probesUrl = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon(
    ctx,
    'operator',
    [
      process.execPath,
      join(repoRoot(), 'bin', 'overcast'),
      'operator',
      '--kubeconfig',
      kubeconfig,
      '--probes',
      `127.0.0.1:${port}`,
    ],
    // Its leader Lease in the benchmark's namespace.
    { cwd: repoRoot(), env: { ...process.env, POD_NAMESPACE: NAMESPACE } },
  );
  try {
    await waitUntil(
      'overcast operator /readyz',
      async () => (await fetch(`${probesUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok,
      { timeoutMs: 90_000, intervalMs: 250, isAlive: daemon.isAlive, logFile: daemon.logFile },
    );
  } catch (err) {
    await daemon.stop(15_000);
    throw err;
  }
  return { daemon, probesUrl };
}

async function runOperator(kubernetes: Kubernetes): Promise<OperatorResult> {
  const cloud = await startCloud('overcast-operator');
  let operator: Awaited<ReturnType<typeof startOperatorProcess>> | undefined;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubernetes.kubeconfig);
  const plurals = withSubnets ? ['networks', 'subnets'] : ['networks'];
  const watcher = watchUntilAvailable(
    new KubernetesClient(loadKubeConfig({ kubeconfig: kubernetes.kubeconfig })),
    plurals,
  );
  try {
    await kubernetes.kubectl(['create', 'namespace', NAMESPACE]);
    await kubernetes.kubectl([
      'create',
      'secret',
      'generic',
      CREDENTIALS_SECRET,
      '-n',
      NAMESPACE,
      `--from-literal=clouds.yaml=${cloud.cloudsYaml}`,
    ]);
    operator = await startOperatorProcess(kubernetes.kubeconfig);
    const pid = operator.daemon.pid;
    await watcher.start();
    ctx.progress(`operator: running (pid ${pid}); ${REST_MS / 1000} s at rest before measuring its RSS`);
    await sleep(REST_MS);
    const rssAtRest = await rssBytes([pid]);

    const gotQuiet = await quiet('operator');
    const metricsBefore = await scrapeMetrics(operator.probesUrl);
    const cpuBefore = await cpuByRole(cloud.overcast, pid);
    const customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
    const objects = objectsToApply();
    const createdAt = new Map<string, number>();
    ctx.progress(`operator: creating ${what} in the Kubernetes API (${applyConcurrency} at a time)`);
    const started = performance.now();
    let applySeconds = 0;
    let timedOut = false;
    const shares = await cpuSharesDuring(descendants, async () => {
      let next = 0;
      const creator = async () => {
        for (let index = next++; index < objects.length; index = next++) {
          const { plural, body } = objects[index]!;
          createdAt.set(`${plural}/${(body.metadata as { name: string }).name}`, performance.now());
          await customObjects.createNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: NAMESPACE,
            plural,
            body,
          });
        }
      };
      await Promise.all(Array.from({ length: applyConcurrency }, creator));
      applySeconds = (performance.now() - started) / 1000;
      ctx.progress(`operator: all created in ${applySeconds.toFixed(1)} s; waiting for them to be Available`);
      const progress = setInterval(
        () => ctx.progress(`operator: ${watcher.available.size}/${totalObjects} Available`),
        15_000,
      );
      // Unreferenced: a finished wait must not keep the benchmark alive for the rest of the timeout.
      const allAvailable = await Promise.race([
        watcher.done.then(() => true),
        sleep(timeoutMs, false, { ref: false }),
      ]).finally(() => clearInterval(progress));
      timedOut = !allAvailable;
    });
    const readySeconds = timedOut ? undefined : (Math.max(...watcher.available.values()) - started) / 1000;
    const byKind = plurals.map((plural) => {
      const times = [...watcher.available]
        .filter(([key]) => key.startsWith(`${plural}/`))
        .map(([key, at]) => ({ at, took: at - (createdAt.get(key) ?? started) }));
      const took = Float64Array.from(times.map((time) => time.took)).sort();
      return {
        plural,
        available: times.length,
        lastSeconds: (Math.max(started, ...times.map((time) => time.at)) - started) / 1000,
        p50Seconds: percentile(took, 50) / 1000,
        maxSeconds: percentile(took, 100) / 1000,
      };
    });
    const cpu = cpuSpent(cpuBefore, await cpuByRole(cloud.overcast, pid));
    const rssPeak = await peakRssBytes([pid]);
    const metricsAfter = await scrapeMetrics(operator.probesUrl);
    const during = (name: keyof typeof metricsAfter) =>
      subtractCounters(metricsBefore[name], metricsAfter[name]);
    const reconciles = during('reconciles');
    const reconcileErrors = during('errors');
    const durationCount = during('durationCount');
    const durationSum = during('durationSum');
    const meanReconcileSeconds = Object.fromEntries(
      Object.entries(durationCount).map(([labels, n]) => [labels, (durationSum[labels] ?? 0) / n]),
    );
    const stuck = [...watcher.latest]
      .filter(([key]) => !watcher.available.has(key))
      .slice(0, 5)
      .map(([key, object]) => `${key}: ${JSON.stringify((object as { status?: unknown }).status ?? {})}`);
    await sleep(3_000);
    return {
      applySeconds,
      readySeconds,
      ready: watcher.available.size,
      stuck,
      byKind,
      reconciles,
      reconcileErrors,
      meanReconcileSeconds,
      cpu,
      otherCores: shares.otherCores,
      quiet: gotQuiet,
      rssAtRest,
      rssPeak,
      rssAfter: await rssBytes([pid]),
      apiServerPeakRss: await peakRssBytes(await cloud.overcast.pids()),
      inCloud: await countInCloud(cloud.client),
    };
  } finally {
    watcher.stop();
    await operator?.daemon.stop(15_000).catch(() => undefined);
    cloud.client.close();
    await cloud.overcast.stop().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- the run

const loadAtStart = loadavg();
let peer: PeerResult | { unavailable: string } | undefined;
let operatorResult: OperatorResult | { unavailable: string } | undefined;
let kubernetesVersion = '';
let kubernetes: Kubernetes | undefined;
try {
  // Built before anything is measured, so the compiler's CPU overlaps no measurement.
  if (!values['no-build']) {
    ctx.progress('building Overcast (npm run build)');
    const failure = await buildOvercast();
    if (failure) throw new Error(failure);
  }
  await installKubernetes(ctx);
  kubernetes = await startKubernetes(ctx);
  kubernetesVersion = (await kubernetes.kubectl(['version', '-o', 'json'])).stdout;
  await kubernetes.kubectl(['apply', '-f', join(repoRoot(), 'crds')]);
  await kubernetes.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...KINDS.map((kind) => `crd/${kind.plural}.${GROUP}`),
  ]);

  ctx.progress(`peer: ${what} through the OpenStack API, ${DEFAULT_CONCURRENCY} in flight`);
  peer = await runPeer().catch((err: Error) => ({ unavailable: firstAndLastLine(err.message) }));
  operatorResult = await runOperator(kubernetes).catch((err: Error) => ({
    unavailable: firstAndLastLine(err.message),
  }));
} finally {
  await kubernetes?.stop().catch(() => undefined);
}
const loadAtEnd = loadavg();

// ---------------------------------------------------------------- report
const megabytes = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const revision = await gitRevision();
const serverVersion = (() => {
  try {
    return (JSON.parse(kubernetesVersion) as { serverVersion?: { gitVersion?: string } }).serverVersion
      ?.gitVersion;
  } catch {
    return undefined;
  }
})();
const peerOk = peer && !('unavailable' in peer) ? peer : undefined;
const operatorOk = operatorResult && !('unavailable' in operatorResult) ? operatorResult : undefined;
const perSecond = (objects: number, seconds: number | undefined) =>
  seconds === undefined || seconds <= 0 ? Number.NaN : objects / seconds;
const peerRate = peerOk ? perSecond(peerOk.created, peerOk.seconds) : Number.NaN;
const operatorRate = operatorOk ? perSecond(operatorOk.ready, operatorOk.readySeconds) : Number.NaN;
const ratio = operatorRate / peerRate;
const cores = (spent: number, seconds: number | undefined) =>
  seconds === undefined || seconds <= 0 ? '-' : (spent / seconds).toFixed(2);

const table = formatTable(
  [
    '',
    'objects',
    'all done s',
    'objects/s',
    'reconciles/s',
    'process RSS peak MB',
    'cores: operator',
    'api-server',
    'kube + etcd',
    'others',
  ],
  [
    [
      `peer: plain client, ${DEFAULT_CONCURRENCY} in flight`,
      peerOk ? String(peerOk.created) : '-',
      peerOk ? round3(peerOk.seconds) : '-',
      round3(peerRate),
      '-',
      '-',
      '-',
      peerOk ? cores(peerOk.cpu.apiServer, peerOk.seconds) : '-',
      '-',
      peerOk ? peerOk.otherCores.toFixed(2) : '-',
    ],
    [
      'overcast operator',
      operatorOk ? String(operatorOk.ready) : '-',
      operatorOk?.readySeconds === undefined ? '-' : round3(operatorOk.readySeconds),
      round3(operatorRate),
      operatorOk ? round3(perSecond(sum(operatorOk.reconciles), operatorOk.readySeconds)) : '-',
      operatorOk ? megabytes(operatorOk.rssPeak) : '-',
      operatorOk ? cores(operatorOk.cpu.operator, operatorOk.readySeconds) : '-',
      operatorOk ? cores(operatorOk.cpu.apiServer, operatorOk.readySeconds) : '-',
      operatorOk ? cores(operatorOk.cpu.kubernetes, operatorOk.readySeconds) : '-',
      operatorOk ? operatorOk.otherCores.toFixed(2) : '-',
    ],
  ],
);

const verdicts: TargetVerdict[] = [];
{
  const label = `${what} created at once, all Available`;
  if (!operatorOk)
    verdicts.push([
      label,
      'not evaluated',
      operatorResult && 'unavailable' in operatorResult ? operatorResult.unavailable : 'not run',
    ]);
  else
    verdicts.push([
      label,
      operatorOk.readySeconds === undefined ? 'missed' : 'met',
      operatorOk.readySeconds === undefined
        ? `${operatorOk.ready} of ${totalObjects} Available after ${timeoutMs / 1000} s`
        : `${totalObjects} in ${round3(operatorOk.readySeconds)} s`,
    ]);
  const rssLabel = `operator peak RSS (VmHWM) < ${RSS_TARGET_BYTES / 2 ** 20} MB`;
  if (!operatorOk) verdicts.push([rssLabel, 'not evaluated', 'the operator was not measured']);
  else
    verdicts.push([
      rssLabel,
      operatorOk.rssPeak < RSS_TARGET_BYTES ? 'met' : 'missed',
      `${megabytes(operatorOk.rssPeak)} MB (${megabytes(operatorOk.rssAtRest)} MB at rest before, ${megabytes(operatorOk.rssAfter)} MB after)`,
    ]);
}

const report: string[] = [
  `Operator benchmark, ${new Date().toISOString()}: ${what}`,
  `Overcast ${revision || '(unknown revision)'}: \`overcast operator\` (its own process; ${DEFAULT_CONCURRENCY} reconciles at once, starts paced at ${DEFAULT_RATE_LIMIT.perSecond}/s with bursts of ${DEFAULT_RATE_LIMIT.burst}) against kube-apiserver + etcd ${serverVersion ?? '(not started)'} (lib/kit/kubernetes.ts) and a fresh \`overcast up\` (SQLite, VXLAN 1:100000, no DHCP ports) over HTTP`,
  `peer: the same networks${withSubnets ? ' and subnets' : ''} made through the OpenStack API of another fresh \`overcast up\` by lib/openstack's client, ${DEFAULT_CONCURRENCY} in flight${withSubnets ? ' (each subnet right after its network)' : ''}`,
  `machine: ${machineDescription()}; everything shares it; load average ${loadAverageText(loadAtStart)} at the start, ${loadAverageText(loadAtEnd)} at the end`,
  `quiet machine before each phase: peer ${peerOk ? (peerOk.quiet ? 'yes' : 'no') : '-'}, operator ${operatorOk ? (operatorOk.quiet ? 'yes' : 'no') : '-'}`,
  '',
  table,
  '',
  `operator / peer objects per second: ${Number.isFinite(ratio) ? `${round3(ratio)}x` : '-'}${Number.isFinite(ratio) && ratio > 0 ? ` (the peer is ${round3(1 / ratio)}x faster)` : ''}`,
];
if (peer && 'unavailable' in peer) report.push(`peer not available: ${peer.unavailable}`);
if (operatorResult && 'unavailable' in operatorResult)
  report.push(`operator not available: ${operatorResult.unavailable}`);
report.push('', 'targets (issue 6):', verdictTable(verdicts));
if (peerOk) {
  report.push(
    '',
    `peer: ${peerOk.created} created, failures ${failuresText(peerOk.failures)}; in the cloud after: ${peerOk.inCloud.networks} networks, ${peerOk.inCloud.subnets} subnets; api-server peak RSS ${megabytes(peerOk.apiServerPeakRss)} MB`,
  );
}
if (operatorOk) {
  report.push(
    `operator: creates in the Kubernetes API took ${round3(operatorOk.applySeconds)} s (${applyConcurrency} at a time); reconciles ${failuresText(operatorOk.reconciles)}; reconcile errors ${failuresText(operatorOk.reconcileErrors)}; mean reconcile ${
      Object.entries(operatorOk.meanReconcileSeconds)
        .map(([labels, seconds]) => `${labels} ${round3(seconds * 1000)} ms`)
        .join(', ') || '-'
    }`,
    `operator: in the cloud after: ${operatorOk.inCloud.networks} networks, ${operatorOk.inCloud.subnets} subnets; api-server peak RSS ${megabytes(operatorOk.apiServerPeakRss)} MB; CPU seconds: operator ${operatorOk.cpu.operator.toFixed(1)}, api-server ${operatorOk.cpu.apiServer.toFixed(1)}, kube-apiserver + etcd + controller-manager ${operatorOk.cpu.kubernetes.toFixed(1)}`,
  );
  report.push(
    '',
    'per kind: last = seconds from the first create until the last object of the kind was Available; create to',
    "Available = each object's own time from its create in the Kubernetes API:",
    formatTable(
      ['kind', 'Available', 'last s', 'create to Available p50 s', 'max s'],
      operatorOk.byKind.map((kind) => [
        kind.plural,
        String(kind.available),
        round3(kind.lastSeconds),
        round3(kind.p50Seconds),
        round3(kind.maxSeconds),
      ]),
    ),
  );
  if (operatorOk.stuck.length > 0) {
    report.push(
      `not Available (the operator's log: ${join(stateDir, 'logs', 'operator.log')}):`,
      ...operatorOk.stuck.map((line) => `  ${line}`),
    );
  }
}
await publishReport(report, values.json, () => ({
  revision,
  kubernetes: serverVersion,
  count,
  withSubnets,
  concurrency: DEFAULT_CONCURRENCY,
  rateLimit: DEFAULT_RATE_LIMIT,
  applyConcurrency,
  loadAverage: { start: loadAtStart, end: loadAtEnd },
  peer,
  operator: operatorResult,
  verdicts: verdictsForJson(verdicts),
}));
if (!peerOk || !operatorOk || operatorOk.readySeconds === undefined) process.exitCode = 1;
