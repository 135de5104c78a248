// The network benchmark: the real Neutron server from Debian (neutron-server, ML2, noauth, an
// API worker per core) and Overcast (`overcast up`), both on one private MariaDB, plus Overcast
// on SQLite as an extra column, measured in the same run on the same machine with the same
// load generator, printed as one table with the ratios and the targets of issue 5.
//
//   npm run bench:network [-- options]
//     --duration S        measured seconds per row (default 10)
//     --warmup S          unmeasured seconds before each row but the full lists (default 3)
//     --concurrency LIST  in-flight requests, comma separated (default 8,32)
//     --ops LIST          port-create,network-create,list,filter,port-create-10k (default all;
//                         port-create-10k also measures the empty /16 it alternates with)
//     --targets LIST      neutron,mariadb,sqlite (default all): the peer, Overcast on MariaDB,
//                         Overcast on SQLite
//     --workers N         Neutron's API workers (default: cores)
//     --db-transport T    tcp or socket (default tcp): how both servers reach MariaDB, its
//                         loopback TCP port or its unix socket
//     --ports N           ports on the subnet for the list, filter and -10k rows (default 10000)
//     --create-limit N    at most this many creates per row (default 4000)
//     --attempts N        measure a row up to N times while other processes take CPU (default 2)
//     --quiet-wait S      wait at most this long for a quiet machine before each row (default 30)
//     --state-dir DIR     where the servers and the database keep their state (default: a new
//                         directory under /tmp)
//     --json FILE         also write the raw results there
//     --no-build          measure Overcast as already built in dist/ (default: npm run build first)
//
// Rows run in this order, because each phase needs the one before: port creates on the fresh
// /16 and network creates; then the subnet is filled to --ports ports (Neutron in SQL, see
// neutron-seed.ts; Overcast through its API); then the full list, the list of one device's
// ports, and port creates on the filled subnet, in windows that alternate with port creates on
// a second /16 left empty until then. When a server cannot serve at all its column says "not
// available" with the reason; no number is ever made up.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultCacheDir, type KitContext } from '../../lib/kit/common.js';
import { installMariaDb, type MariaDb, startMariaDb } from '../../lib/kit/mariadb.js';
import { installNeutron, startNeutron } from '../../lib/kit/neutron.js';
import { issueAdminToken } from '../identity/identity-api.js';
import { generateLoad, type LoadResult, type RequestSpec } from '../lib/load.js';
import { benchCommandLine, COMMON_BENCH_OPTIONS } from '../lib/options.js';
import { buildOvercast, startOvercast } from '../lib/overcast.js';
import { cpuSeconds } from '../lib/procfs.js';
import { cpuSharesDuring, waitForQuiet } from '../lib/quiet.js';
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
import {
  call,
  countPorts,
  createPortNetwork,
  liftQuotas,
  type NetworkEndpoint,
  networkCreate,
  portCreate,
  portList,
} from './network-api.js';
import { seedNeutronPorts } from './neutron-seed.js';

const OPERATIONS = ['port-create', 'network-create', 'list', 'filter', 'port-create-10k'] as const;
type Operation = (typeof OPERATIONS)[number];
const TARGET_KINDS = ['neutron', 'mariadb', 'sqlite'] as const;
type TargetKind = (typeof TARGET_KINDS)[number];

const SUBNET_CIDR = '10.20.0.0/16';
/** The /16 that stays empty until it is compared with the filled one. */
const EMPTY_SUBNET_CIDR = '10.21.0.0/16';
/**
 * Windows on each of the filled and the empty /16, alternating, each side reported by its
 * median window. Whether creates slow as a subnet fills is a comparison of two rates; measured
 * minutes apart, with the server colder or its heap smaller at the start, rows of the same
 * server differed by more than the 10 % the target allows. Side by side, only the subnet differs.
 */
const PAIRED_ROUNDS = 3;
const MAX_REQUESTS_PER_ROW = 1_000_000;
/** Rows during which other processes used more CPU than this are measured again. */
const OTHER_CORES_LIMIT = 0.2;
/** Concurrent port creates while filling Overcast's subnet through its API. */
const SEED_CONCURRENCY = 16;

const cli = benchCommandLine('network', {
  duration: { type: 'string' },
  warmup: { type: 'string' },
  concurrency: { type: 'string' },
  ops: { type: 'string' },
  targets: { type: 'string' },
  workers: { type: 'string' },
  'db-transport': { type: 'string' },
  ports: { type: 'string' },
  'create-limit': { type: 'string' },
  attempts: { type: 'string' },
  'quiet-wait': { type: 'string' },
  ...COMMON_BENCH_OPTIONS,
});
const { values } = cli;
const durationMs = cli.integer('duration', 10) * 1000;
const warmupMs = cli.integer('warmup', 3, 0) * 1000;
const concurrencies = cli.integerList('concurrency', [8, 32]);
const operations = cli.choices('ops', OPERATIONS);
const kinds = cli.choices('targets', TARGET_KINDS);
const cores = availableParallelism();
const workers = cli.integer('workers', cores);
const dbTransport = cli.choice('db-transport', ['socket', 'tcp'] as const, 'tcp');
const portsTotal = cli.integer('ports', 10_000);
// Overcast's creates reach the cap in a few seconds; 4,000 (and up to 800 in the warm-ups) keeps
// their windows long enough to average out a pause, and the two fresh rows below the 10,000
// ports the seeding fills the /16 to.
const createLimit = cli.integer('create-limit', 4000);
// Each alternating window makes up to half a row's creates: windows of 2-3 s for Overcast (one
// GC pause moves a 1 s window by a tenth), and the rows with 10,000 ports add some 13,000 more
// to the /16, which has room for 65,000.
const pairedWindowLimit = Math.ceil(createLimit / 2);
const attempts = cli.integer('attempts', 2);
const quietWaitSeconds = cli.integer('quiet-wait', 30, 0);

/** What a row measures: an operation, or the empty /16 beside the filled one (with port-create-10k). */
type RowKind = Operation | 'port-create-empty';
const ROW_LABELS: Record<RowKind, string> = {
  'port-create': 'port create, fresh /16',
  'network-create': 'tenant network create',
  list: `full port list (${portsTotal} ports)`,
  filter: 'port list ?device_id= (2 ports)',
  'port-create-10k': `port create, ${portsTotal} ports on the /16`,
  'port-create-empty': 'port create, empty /16, alternating',
};
const TARGET_LABELS: Record<TargetKind, string> = {
  neutron: 'Neutron',
  mariadb: 'Overcast MariaDB',
  sqlite: 'Overcast SQLite',
};

const stateDir = values['state-dir'] ?? (await mkdtemp(join(tmpdir(), 'overcast-bench-network-')));
const ctx: KitContext = {
  cacheDir: defaultCacheDir(),
  stateDir,
  progress: (line) => process.stderr.write(`[bench] ${line}\n`),
};

interface Target {
  kind: TargetKind;
  endpoint?: NetworkEndpoint;
  networkId?: string;
  /** The network of EMPTY_SUBNET_CIDR, for the port-create-empty windows. */
  emptyNetworkId?: string;
  /** Devices with two seeded ports each, for the filtered list. */
  seedDevices: number;
  pids(): Promise<number[]>;
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
  /** Why this target cannot be measured at all. */
  unavailable?: string;
  rssAtRest?: number;
  rssAfterLoad?: number;
  seed?: { ports: number; seconds: number; how: string };
  listed?: { ports: number; bytes: number };
}

interface Measured extends LoadResult {
  /** CPU the server's processes used, in cores. */
  serverCores: number;
  /** CPU the MariaDB server used, in cores. */
  databaseCores: number;
  /** CPU every other process on the machine (or other guests, as steal) used, in cores. */
  otherCores: number;
  /** CPU the load generator used, in cores. */
  clientCores: number;
  /** Highest RSS of the server's processes during the row. */
  rssPeak: number;
  attempt: number;
  /** The rate of each window, in the order measured, when the row is the median of several. */
  windowRates?: number[];
}

type Outcome = Measured | { unavailable: string };

interface Row {
  operation: RowKind;
  concurrency: number;
  results: Map<TargetKind, Outcome>;
}

const targets: Target[] = [];
const rows: Row[] = [];
let mariadb: MariaDb | undefined;
let neutronVersion = '';
let neutronDatabaseUrl = '';
const loadAtStart = loadavg();

/** Every process under test: the servers and the database, which all are "ours" for quietness. */
async function allOurPids(): Promise<number[]> {
  const servers = (await Promise.all(targets.map((target) => target.pids()))).flat();
  return mariadb ? [...servers, mariadb.pid] : servers;
}

function requestFor(
  kind: RowKind,
  target: Target,
  tag: string,
): { spec: (n: number) => RequestSpec; status: number } {
  const endpoint = target.endpoint!;
  switch (kind) {
    case 'port-create':
    case 'port-create-10k':
      return { spec: (n) => portCreate(endpoint, target.networkId!, `${tag}-${n}`), status: 201 };
    case 'port-create-empty':
      return { spec: (n) => portCreate(endpoint, target.emptyNetworkId!, `${tag}-${n}`), status: 201 };
    case 'network-create':
      return { spec: (n) => networkCreate(endpoint, `bench-${tag}-${n}`), status: 201 };
    case 'list': {
      const request = portList(endpoint);
      return { spec: () => request, status: 200 };
    }
    case 'filter':
      return {
        spec: () => portList(endpoint, `seed-${randomInt(Math.max(1, target.seedDevices))}`),
        status: 200,
      };
  }
}

const isCreate = (operation: Operation) => operation !== 'list' && operation !== 'filter';

type Load = (ms: number, maxRequests: number) => Promise<LoadResult>;

/**
 * Runs a row's requests on the target. Warm-up and windows call the same Load, which goes on
 * with one sequence, so every created name and device is unique.
 */
function loadOf(target: Target, kind: RowKind, concurrency: number): Load {
  const { spec, status } = requestFor(kind, target, `${kind}-c${concurrency}`);
  // A full list of the peer takes seconds, and all of a row's lists run at once: give them time.
  const requestTimeoutMs = kind === 'list' ? 600_000 : 120_000;
  let sequence = 0;
  return (ms, maxRequests) =>
    generateLoad({
      baseUrl: target.endpoint!.origin,
      concurrency,
      durationMs: ms,
      maxRequests,
      requestTimeoutMs,
      makeRequest: () => spec(sequence++),
      expectStatus: status,
    });
}

async function measure(target: Target, operation: Operation, concurrency: number): Promise<Outcome> {
  if (target.unavailable) return { unavailable: target.unavailable };
  const load = loadOf(target, operation, concurrency);
  const maxRequests = isCreate(operation) ? createLimit : MAX_REQUESTS_PER_ROW;
  // The full lists are warmed once, after seeding (countPorts); a warm-up of 32 lists of the
  // peer would take a minute.
  if (warmupMs > 0 && operation !== 'list') await load(warmupMs, Math.ceil(maxRequests / 5));
  return measureWindow(target, load, maxRequests);
}

/**
 * Port creates on the filled /16 and on the empty one, PAIRED_ROUNDS windows of each in turn
 * (each capped at pairedWindowLimit), each side reported by its median window, with
 * the highest RSS of all its windows.
 */
async function measureFilledAndEmpty(target: Target, concurrency: number): Promise<[Outcome, Outcome]> {
  if (target.unavailable) return [{ unavailable: target.unavailable }, { unavailable: target.unavailable }];
  const sides = [
    loadOf(target, 'port-create-10k', concurrency),
    loadOf(target, 'port-create-empty', concurrency),
  ];
  if (warmupMs > 0) for (const load of sides) await load(warmupMs, Math.ceil(pairedWindowLimit / 5));
  const windows: Measured[][] = sides.map(() => []);
  for (let round = 0; round < PAIRED_ROUNDS; round++) {
    for (const [side, load] of sides.entries())
      windows[side]!.push(await measureWindow(target, load, pairedWindowLimit));
  }
  const median = (measured: Measured[]): Measured => {
    const byRate = [...measured].sort((a, b) => a.okPerSecond - b.okPerSecond);
    return {
      ...byRate[Math.floor(byRate.length / 2)]!,
      rssPeak: Math.max(...measured.map((m) => m.rssPeak)),
      windowRates: measured.map((m) => m.okPerSecond),
    };
  };
  return [median(windows[0]!), median(windows[1]!)];
}

/** One measured window, measured again (up to --attempts) while other processes take CPU. */
async function measureWindow(target: Target, load: Load, maxRequests: number): Promise<Measured> {
  let best: Measured | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (quietWaitSeconds > 0 && !(await waitForQuiet(allOurPids, { maxSeconds: quietWaitSeconds }))) {
      ctx.progress(`the machine did not get quiet within ${quietWaitSeconds} s; measuring anyway`);
    }
    const databasePids = mariadb ? [mariadb.pid] : [];
    const databaseBefore = await cpuSeconds(databasePids);
    let rssPeak = 0;
    let loading = true;
    const sampler = (async () => {
      while (loading) {
        rssPeak = Math.max(rssPeak, await target.rssBytes());
        await sleep(500);
      }
    })();
    const shares = await cpuSharesDuring(target.pids, () => load(durationMs, maxRequests)).finally(() => {
      loading = false;
    });
    await sampler;
    const databaseCores = ((await cpuSeconds(databasePids)) - databaseBefore) / shares.seconds;
    const measured: Measured = {
      ...shares.result,
      serverCores: shares.oursCores,
      databaseCores,
      // cpuSharesDuring counts the database among the others; it is part of what is measured.
      otherCores: Math.max(0, shares.otherCores - databaseCores),
      clientCores: shares.ownCores,
      rssPeak,
      attempt,
    };
    if (!best || measured.otherCores < best.otherCores) best = measured;
    if (measured.otherCores <= OTHER_CORES_LIMIT || attempt === attempts) break;
    ctx.progress(
      `other processes used ${measured.otherCores.toFixed(2)} cores during the row; measuring again`,
    );
  }
  return best!;
}

async function runRows(selected: readonly Operation[]): Promise<void> {
  for (const operation of selected) {
    if (!operations.includes(operation)) continue;
    for (const concurrency of concurrencies) {
      const row: Row = { operation, concurrency, results: new Map() };
      const empty: Row = { operation: 'port-create-empty', concurrency, results: new Map() };
      for (const target of targets) {
        if (operation === 'port-create-10k') {
          ctx.progress(
            `${TARGET_LABELS[target.kind]}: ${ROW_LABELS[operation]} at c=${concurrency}, ${PAIRED_ROUNDS} windows alternating with the empty /16`,
          );
          const [onFilled, onEmpty] = await measureFilledAndEmpty(target, concurrency);
          row.results.set(target.kind, onFilled);
          empty.results.set(target.kind, onEmpty);
        } else {
          ctx.progress(`${TARGET_LABELS[target.kind]}: ${ROW_LABELS[operation]} at c=${concurrency}`);
          row.results.set(target.kind, await measure(target, operation, concurrency));
        }
        await sleep(1_000);
      }
      rows.push(row);
      if (operation === 'port-create-10k') rows.push(empty);
    }
  }
}

/** Fills the benchmark subnet to portsTotal ports, two per device `seed-<n>`. */
async function seed(target: Target): Promise<void> {
  const started = performance.now();
  if (target.kind === 'neutron') {
    // The SQL copies a port neutron-server wrote; the port-create rows leave many, but a run
    // without them (`--ops filter`) has none yet.
    if ((await countPorts(target.endpoint!)).ports === 0) {
      await call(target.endpoint!, portCreate(target.endpoint!, target.networkId!, 'seed-template'), 201);
    }
    const result = await seedNeutronPorts(neutronDatabaseUrl, target.networkId!, portsTotal);
    target.seed = { ports: result.seeded, seconds: 0, how: 'SQL' };
  } else {
    const endpoint = target.endpoint!;
    const need = Math.max(0, portsTotal - (await countPorts(endpoint)).ports);
    const result = await generateLoad({
      baseUrl: endpoint.origin,
      concurrency: SEED_CONCURRENCY,
      durationMs: 1_800_000,
      maxRequests: need,
      makeRequest: (n) => portCreate(endpoint, target.networkId!, `seed-${Math.floor(n / 2)}`),
      expectStatus: 201,
    });
    if (result.ok !== need) {
      throw new Error(
        `seeding through the API created ${result.ok} of ${need} ports: ${JSON.stringify(result.failures)}`,
      );
    }
    target.seed = { ports: need, seconds: 0, how: 'API' };
  }
  target.seed.seconds = (performance.now() - started) / 1000;
  target.seedDevices = Math.ceil(target.seed.ports / 2);
  // The first list of the peer renders every port once (seconds); it is made before any row,
  // as the recipe did, and tells how many ports the lists return.
  target.listed = await countPorts(target.endpoint!);
  target.listed = await countPorts(target.endpoint!);
  ctx.progress(
    `${TARGET_LABELS[target.kind]}: ${target.seed.ports} ports seeded (${target.seed.how}) in ${target.seed.seconds.toFixed(1)} s; the list has ${target.listed.ports} ports, ${(target.listed.bytes / 1e6).toFixed(2)} MB`,
  );
}

function unavailableTarget(kind: TargetKind, err: unknown): Target {
  return {
    kind,
    seedDevices: 0,
    pids: async () => [],
    rssBytes: async () => Number.NaN,
    stop: async () => undefined,
    unavailable: firstAndLastLine((err as Error).message),
  };
}

/** How both servers reach the database: the same transport for each (--db-transport). */
function databaseUrl(url: string): string {
  return dbTransport === 'socket' ? mariadb!.viaSocket(url) : url;
}

/** An Overcast target: a token for the admin, its project, quotas lifted as the peer's are. */
async function startOvercastTarget(kind: 'mariadb' | 'sqlite', buildFailure?: string): Promise<Target> {
  if (buildFailure) throw new Error(buildFailure);
  const overcast = await startOvercast(ctx, {
    name: `overcast-${kind}`,
    databaseUrl: kind === 'mariadb' ? databaseUrl(mariadb!.url) : undefined,
    // As the peer: VXLAN tenant networks from 1:100000, and no DHCP ports (it has no DHCP agent).
    env: { OVERCAST_VNI_RANGES: '1:100000', OVERCAST_NETWORK_DHCP: 'false' },
  });
  const target: Target = {
    kind,
    seedDevices: 0,
    pids: overcast.pids,
    rssBytes: overcast.rssBytes,
    stop: overcast.stop,
  };
  try {
    const identity = {
      origin: overcast.baseUrl,
      v3Path: '/identity/v3',
      adminPassword: overcast.adminPassword,
    };
    const token = await issueAdminToken(identity, 'project');
    const headers = { 'x-auth-token': token };
    const { token: body } = await call<{ token: { project: { id: string } } }>(
      { origin: overcast.baseUrl, basePath: '', headers, projectId: '' },
      { method: 'GET', path: '/identity/v3/auth/tokens', headers: { ...headers, 'x-subject-token': token } },
      200,
    );
    target.endpoint = { origin: overcast.baseUrl, basePath: '/network', headers, projectId: body.project.id };
    await liftQuotas(target.endpoint);
  } catch (err) {
    target.unavailable = firstAndLastLine((err as Error).message);
  }
  return target;
}

async function startNeutronTarget(): Promise<Target> {
  neutronDatabaseUrl = await mariadb!.createDatabase('neutron');
  const neutron = await startNeutron(ctx, { databaseUrl: databaseUrl(neutronDatabaseUrl), workers });
  neutronVersion = neutron.packageVersion;
  const projectId = randomBytes(16).toString('hex');
  return {
    kind: 'neutron',
    endpoint: { origin: neutron.url, basePath: '', headers: neutron.headersFor(projectId), projectId },
    seedDevices: 0,
    pids: neutron.pids,
    rssBytes: neutron.rssBytes,
    stop: neutron.stop,
  };
}

try {
  // Built before anything is measured, so the compiler's CPU overlaps no measurement.
  let buildFailure: string | undefined;
  if (!values['no-build'] && kinds.some((kind) => kind !== 'neutron')) {
    ctx.progress('building Overcast (npm run build)');
    buildFailure = await buildOvercast();
  }
  await installMariaDb(ctx);
  // MariaDB's own default pool, not the tests' 32 MiB: by the last rows the two servers' tables
  // take about 170 MB on disk (Neutron's 110, Overcast's 60), most of it the ports.
  mariadb = await startMariaDb(ctx, { bufferPoolMiB: 128 });
  for (const kind of kinds) {
    try {
      if (kind === 'neutron') {
        await installNeutron(ctx);
        targets.push(await startNeutronTarget());
      } else {
        targets.push(await startOvercastTarget(kind, buildFailure));
      }
    } catch (err) {
      targets.push(unavailableTarget(kind, err));
    }
  }
  for (const target of targets) {
    if (target.unavailable) continue;
    try {
      const created = await createPortNetwork(target.endpoint!, SUBNET_CIDR);
      target.networkId = created.networkId;
      if (operations.includes('port-create-10k')) {
        const empty = await createPortNetwork(target.endpoint!, EMPTY_SUBNET_CIDR, 'bench-ports-empty');
        target.emptyNetworkId = empty.networkId;
      }
    } catch (err) {
      target.unavailable = firstAndLastLine((err as Error).message);
    }
  }
  // At rest: started, a network and subnet made, then idle long enough for V8's memory reducer
  // to return start-up garbage (it waits for several idle seconds).
  await sleep(30_000);
  for (const target of targets) {
    if (!target.unavailable) target.rssAtRest = await target.rssBytes();
  }

  await runRows(['port-create', 'network-create']);
  if (operations.some((operation) => ['list', 'filter', 'port-create-10k'].includes(operation))) {
    for (const target of targets) {
      if (target.unavailable) continue;
      ctx.progress(`${TARGET_LABELS[target.kind]}: filling the subnet to ${portsTotal} ports`);
      await seed(target).catch((err: Error) => {
        target.unavailable = `seeding failed: ${firstAndLastLine(err.message)}`;
      });
    }
    await runRows(['list', 'filter', 'port-create-10k']);
  }
  await sleep(3_000);
  for (const target of targets) {
    if (!target.unavailable) target.rssAfterLoad = await target.rssBytes();
  }
} finally {
  for (const target of targets) await target.stop().catch(() => undefined);
  await mariadb?.stop().catch(() => undefined);
}
const loadAtEnd = loadavg();

// ---------------------------------------------------------------- report
const megabytes = (bytes: number | undefined) =>
  bytes === undefined || Number.isNaN(bytes) || bytes === 0 ? '-' : (bytes / 2 ** 20).toFixed(0);
const okResult = (row: Row | undefined, kind: TargetKind) => {
  const result = row?.results.get(kind);
  return result && !('unavailable' in result) ? result : undefined;
};
const targetOf = (kind: TargetKind) => targets.find((target) => target.kind === kind);
const overcastKinds = kinds.filter((kind): kind is 'mariadb' | 'sqlite' => kind !== 'neutron');
const revision = await gitRevision();

const ratioText = (overcast: Measured | undefined, neutron: Measured | undefined) =>
  overcast && neutron && neutron.okPerSecond > 0
    ? `${round3(overcast.okPerSecond / neutron.okPerSecond)}x`
    : '-';

const headers = ['operation', 'c'];
for (const kind of kinds) {
  headers.push(`${TARGET_LABELS[kind]} req/s`, 'p50 ms', 'p99 ms', 'RSS MB');
  if (kind !== 'neutron' && kinds.includes('neutron')) headers.push('ratio');
}
const tableRows = rows.map((row) => {
  const cells = [ROW_LABELS[row.operation], String(row.concurrency)];
  for (const kind of kinds) {
    const result = okResult(row, kind);
    cells.push(
      result ? round3(result.okPerSecond) : '-',
      result ? round3(result.p50Ms) : '-',
      result ? round3(result.p99Ms) : '-',
      megabytes(result?.rssPeak),
    );
    if (kind !== 'neutron' && kinds.includes('neutron'))
      cells.push(ratioText(result, okResult(row, 'neutron')));
  }
  return cells;
});

const detailRows = rows.flatMap((row) =>
  kinds.flatMap((kind) => {
    const result = okResult(row, kind);
    if (!result) return [];
    return [
      [
        TARGET_LABELS[kind],
        ROW_LABELS[row.operation],
        String(row.concurrency),
        String(result.ok),
        result.windowSeconds.toFixed(1),
        round3(result.p90Ms),
        round3(result.maxMs),
        String(result.connectionsOpened),
        result.serverCores.toFixed(2),
        result.databaseCores.toFixed(2),
        result.otherCores.toFixed(2),
        result.clientCores.toFixed(2),
        String(result.attempt),
        result.windowRates?.map(round3).join(' ') ?? '-',
        failuresText(result.failures),
      ],
    ];
  }),
);

const targetRows: TargetVerdict[] = [];
const judgedConcurrency = concurrencies.includes(32) ? 32 : Math.max(...concurrencies);
const judgedRow = (operation: RowKind) =>
  rows.find((row) => row.operation === operation && row.concurrency === judgedConcurrency);
/** Why a target cannot be judged for this Overcast, or undefined when it can. */
function notEvaluated(kind: TargetKind, operation: Operation): string | undefined {
  if (!kinds.includes('neutron')) return 'the peer was not measured in this run';
  if (!operations.includes(operation)) return 'not measured in this run';
  for (const side of ['neutron', kind] as const) {
    const result = judgedRow(operation)?.results.get(side);
    if (result && 'unavailable' in result)
      return `${TARGET_LABELS[side]} not available: ${result.unavailable}`;
  }
  return undefined;
}
function ratioTarget(kind: TargetKind, operation: Operation, wanted: number, p99BelowMs?: number): void {
  const label = `[${TARGET_LABELS[kind]}] ${ROW_LABELS[operation]} >= ${wanted}x Neutron at c=${judgedConcurrency}${p99BelowMs ? ` and p99 < ${p99BelowMs} ms` : ''}`;
  const why = notEvaluated(kind, operation);
  if (why) {
    targetRows.push([label, 'not evaluated', why]);
    return;
  }
  const row = judgedRow(operation)!;
  const neutron = okResult(row, 'neutron')!;
  const overcast = okResult(row, kind)!;
  const ratio = overcast.okPerSecond / neutron.okPerSecond;
  let met = ratio >= wanted;
  let detail = `${round3(ratio)}x (${round3(overcast.okPerSecond)} vs ${round3(neutron.okPerSecond)} req/s)`;
  if (p99BelowMs) {
    met &&= overcast.p99Ms < p99BelowMs;
    detail += `, p99 ${round3(overcast.p99Ms)} ms`;
  }
  targetRows.push([label, met ? 'met' : 'missed', detail]);
}
for (const kind of overcastKinds) {
  ratioTarget(kind, 'port-create', 100);
  ratioTarget(kind, 'port-create-10k', 100);
  {
    const label = `[${TARGET_LABELS[kind]}] port create not slower with ${portsTotal} ports on the /16 (>= 90% of the rate on the empty /16 in alternating windows, at c=${judgedConcurrency})`;
    const empty = okResult(judgedRow('port-create-empty'), kind);
    const filled = okResult(judgedRow('port-create-10k'), kind);
    if (!empty || !filled) targetRows.push([label, 'not evaluated', 'port-create-10k was not measured']);
    else {
      const share = filled.okPerSecond / empty.okPerSecond;
      targetRows.push([
        label,
        share >= 0.9 ? 'met' : 'missed',
        `${(share * 100).toFixed(0)}% (${round3(filled.okPerSecond)} vs ${round3(empty.okPerSecond)} req/s)`,
      ]);
    }
  }
  ratioTarget(kind, 'list', 50);
  ratioTarget(kind, 'filter', 50, 20);
  ratioTarget(kind, 'network-create', 20);
  const neutronTarget = targetOf('neutron');
  const overcastTarget = targetOf(kind);
  const peak = (kind: TargetKind) =>
    Math.max(0, ...rows.map((row) => okResult(row, kind)?.rssPeak ?? 0), targetOf(kind)?.rssAtRest ?? 0);
  for (const [what, overcastBytes, neutronBytes] of [
    ['at rest', overcastTarget?.rssAtRest, neutronTarget?.rssAtRest],
    ['peak during the rows', peak(kind) || undefined, peak('neutron') || undefined],
  ] as const) {
    const label = `[${TARGET_LABELS[kind]}] server RSS ${what} <= 1/5 of Neutron's`;
    if (overcastBytes === undefined || neutronBytes === undefined) {
      targetRows.push([
        label,
        'not evaluated',
        overcastTarget?.unavailable ?? neutronTarget?.unavailable ?? 'no measurement',
      ]);
    } else {
      const share = overcastBytes / neutronBytes;
      targetRows.push([
        label,
        share <= 0.2 ? 'met' : 'missed',
        `${megabytes(overcastBytes)} vs ${megabytes(neutronBytes)} MB = 1/${round3(1 / share)}`,
      ]);
    }
  }
}

const describeTarget = (kind: TargetKind) => {
  const target = targetOf(kind);
  const facts =
    kind === 'neutron'
      ? `neutron-server ${neutronVersion || '(not started)'}: ${workers} API workers (+ RPC and periodic workers), ML2, VXLAN 1:100000, noauth, quotas off`
      : `overcast up at ${revision || '(unknown revision)'}, ${kind === 'mariadb' ? 'the same MariaDB' : 'SQLite'}, admin token, quotas lifted, VXLAN 1:100000, no DHCP ports`;
  const seeded = target?.seed
    ? `; seeded ${target.seed.ports} ports (${target.seed.how}, ${target.seed.seconds.toFixed(1)} s), list ${target.listed?.ports} ports = ${((target.listed?.bytes ?? 0) / 1e6).toFixed(2)} MB`
    : '';
  return `${TARGET_LABELS[kind]}: ${facts}${seeded}${target?.unavailable ? ` -- not available: ${target.unavailable}` : ''}`;
};

const report: string[] = [
  `Network benchmark, ${new Date().toISOString()}`,
  ...kinds.map(describeTarget),
  `database: one private MariaDB (lib/kit/mariadb.ts) for Neutron and Overcast MariaDB, both connected through its ${dbTransport === 'socket' ? 'unix socket' : 'loopback TCP port'}; RSS columns are the servers' own processes, without it`,
  `machine: ${machineDescription()}; servers, database and load generator share it; load average ${loadAverageText(loadAtStart)} at the start, ${loadAverageText(loadAtEnd)} at the end`,
  `load: closed loop, one kept-alive raw-socket connection per client (bench/lib/http-connection.ts), ${warmupMs / 1000} s warm-up (not for full lists) + ${durationMs / 1000} s per row, creates capped at ${createLimit} per row`,
  `port creates with ${portsTotal} ports: ${PAIRED_ROUNDS} windows (${durationMs / 1000} s, at most ${pairedWindowLimit} creates) on the filled /16 alternating with ${PAIRED_ROUNDS} on a second /16, empty until then; each row shows its median window`,
  '',
  formatTable(headers, tableRows),
  '',
  `server RSS at rest: ${kinds.map((kind) => `${TARGET_LABELS[kind]} ${megabytes(targetOf(kind)?.rssAtRest)} MB`).join(', ')}`,
  `server RSS after load: ${kinds.map((kind) => `${TARGET_LABELS[kind]} ${megabytes(targetOf(kind)?.rssAfterLoad)} MB`).join(', ')}`,
  '',
  'targets (issue 5):',
  verdictTable(targetRows),
  '',
  'details: ok = answers with the expected status; conns = TCP connections opened; cores = CPU used per second of the',
  `row by the server, by MariaDB, by every other process on the machine or other guest of the host (steal time; rows`,
  `above ${OTHER_CORES_LIMIT} are measured again, up to ${attempts} times, keeping the quietest) and by the load generator:`,
  formatTable(
    [
      'server',
      'operation',
      'c',
      'ok',
      'window s',
      'p90 ms',
      'max ms',
      'conns',
      'server cores',
      'db cores',
      'other cores',
      'client cores',
      'attempt',
      'windows req/s',
      'failures',
    ],
    detailRows,
  ),
];
await publishReport(report, values.json, () => ({
  neutronVersion,
  revision,
  cores,
  workers,
  durationMs,
  warmupMs,
  portsTotal,
  createLimit,
  pairedRounds: PAIRED_ROUNDS,
  loadAverage: { start: loadAtStart, end: loadAtEnd },
  targets: targets.map(({ kind, unavailable, rssAtRest, rssAfterLoad, seed, listed }) => ({
    kind,
    unavailable,
    rssAtRest,
    rssAfterLoad,
    seed,
    listed,
  })),
  rows: rows.map((row) => ({ ...row, results: Object.fromEntries(row.results) })),
  verdicts: verdictsForJson(targetRows),
}));
