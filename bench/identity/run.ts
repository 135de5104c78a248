// The identity benchmark: the real Keystone from Debian (bcrypt cost 12, SQLite, uWSGI with a
// worker per core) and Overcast (`overcast up`, SQLite), measured in the same run on the same
// machine with the same load generator, printed as one table with the ratios and the targets of
// docs/architecture.md.
//
//   npm run bench:identity [-- options]
//     --duration S        measured seconds per row (default 10)
//     --warmup S          unmeasured seconds before each row (default 3)
//     --concurrency LIST  in-flight requests, comma separated (default 1,8,32)
//     --ops LIST          issue,validate,rescope,list,create (default all)
//     --workers N         Keystone's uWSGI workers (default: cores)
//     --bcrypt-rounds N   Keystone's bcrypt cost (default 12)
//     --create-limit N    at most this many project creates per row (default 5000)
//     --state-dir DIR     where both servers keep their state (default: a new directory under /tmp)
//     --json FILE         also write the raw results there
//     --attempts N        measure a row up to N times while other processes take CPU (default 3)
//     --no-build          measure Overcast as already built in dist/ (default: npm run build first)
//
// When Overcast cannot serve an operation (its identity service is still being built, or it
// does not start), its half says "not available" with the reason; no number is ever made up.
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../lib/exec.js';
import { defaultCacheDir, type KitContext } from '../../lib/kit/common.js';
import { installKeystone, startKeystone } from '../../lib/kit/keystone.js';
import { DEBIAN_PYTHON, debianPythonEnvironment } from '../../lib/kit/openstack.js';
import { generateLoad, type LoadResult, type RequestSpec } from '../lib/load.js';
import { benchCommandLine, COMMON_BENCH_OPTIONS } from '../lib/options.js';
import { buildOvercast, startOvercast } from '../lib/overcast.js';
import { cpuSharesDuring, waitForQuiet as waitForQuietMachine } from '../lib/quiet.js';
import {
  failuresText,
  firstAndLastLine,
  gitRevision,
  machineDescription,
  publishReport,
  type TargetVerdict,
  verdictsForJson,
  verdictTable,
} from '../lib/report.js';
import { type RuntimeFloorProbe, startRuntimeFloorProbe } from '../lib/runtime-floor.js';
import { formatTable, round3 } from '../lib/table.js';
import {
  expectAnswer,
  type IdentityEndpoint,
  issueAdminToken,
  passwordAuthBody,
  rescopeAuthBody,
} from './identity-api.js';

const OPERATIONS = ['issue', 'validate', 'rescope', 'list', 'create'] as const;
type Operation = (typeof OPERATIONS)[number];

const OPERATION_LABELS: Record<Operation, string> = {
  issue: 'password token issue',
  validate: 'token validate',
  rescope: 'token rescope',
  list: 'project list',
  create: 'project create',
};

const cli = benchCommandLine('identity', {
  duration: { type: 'string' },
  warmup: { type: 'string' },
  concurrency: { type: 'string' },
  ops: { type: 'string' },
  workers: { type: 'string' },
  'bcrypt-rounds': { type: 'string' },
  'create-limit': { type: 'string' },
  attempts: { type: 'string' },
  ...COMMON_BENCH_OPTIONS,
});
const { values } = cli;
const durationMs = cli.integer('duration', 10) * 1000;
const warmupMs = cli.integer('warmup', 3, 0) * 1000;
const concurrencies = cli.integerList('concurrency', [1, 8, 32]);
const operations = cli.choices('ops', OPERATIONS);
const cores = availableParallelism();
const workers = cli.integer('workers', cores);
const bcryptRounds = cli.integer('bcrypt-rounds', 12);
const createLimit = cli.integer('create-limit', 5000);
const MAX_REQUESTS_PER_ROW = 1_000_000;
const attempts = cli.integer('attempts', 3);
/** Rows during which other processes used more CPU than this are measured again. */
const OTHER_CORES_LIMIT = 0.2;

const stateDir = values['state-dir'] ?? (await mkdtemp(join(tmpdir(), 'overcast-bench-identity-')));
const ctx: KitContext = {
  cacheDir: defaultCacheDir(),
  stateDir,
  progress: (line) => process.stderr.write(`[bench] ${line}\n`),
};

interface Target {
  name: 'Keystone' | 'Overcast';
  endpoint: IdentityEndpoint;
  pids(): Promise<number[]>;
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
  /** Tokens made once before the load: the caller's, the one validated, the one rescoped. */
  tokens?: { auth: string; subject: string; unscoped: string };
  /** Why this target cannot be measured at all, or per operation. */
  unavailable?: string;
  unavailableOps: Map<Operation, string>;
  rssAtRest?: number;
  rssAfterLoad?: number;
}

interface Measured extends LoadResult {
  /** CPU the server's processes used, in cores. */
  serverCores: number;
  /** CPU every other process on the machine used meanwhile, in cores. */
  otherCores: number;
  attempt: number;
}

interface Row {
  operation: Operation;
  concurrency: number;
  results: Map<Target['name'], Measured | { unavailable: string }>;
}

/** Single-threaded bcrypt check time at `rounds` with the bcrypt library Keystone itself uses. */
async function bcryptSecondsPerCheck(rounds: number): Promise<number> {
  const script = [
    'import bcrypt, statistics, sys, time',
    `hashed = bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(${rounds}))`,
    'samples = []',
    'for _ in range(7):',
    '    start = time.perf_counter()',
    '    assert bcrypt.checkpw(b"correct horse battery staple", hashed)',
    '    samples.append(time.perf_counter() - start)',
    'print(statistics.median(samples))',
  ].join('\n');
  const result = await run([DEBIAN_PYTHON, '-c', script], {
    env: debianPythonEnvironment(),
    timeoutMs: 300_000,
  });
  return Number(result.stdout.trim());
}

function requestFor(
  operation: Operation,
  target: Target,
  tag: string,
): { spec: (n: number) => RequestSpec; status: number } {
  const v3 = target.endpoint.v3Path;
  const tokens = target.tokens!;
  const json = { 'content-type': 'application/json' };
  switch (operation) {
    case 'issue': {
      const body = passwordAuthBody(target.endpoint.adminPassword, 'project');
      return {
        spec: () => ({ method: 'POST', path: `${v3}/auth/tokens`, headers: json, body }),
        status: 201,
      };
    }
    case 'validate': {
      const headers = { 'x-auth-token': tokens.auth, 'x-subject-token': tokens.subject };
      return { spec: () => ({ method: 'GET', path: `${v3}/auth/tokens`, headers }), status: 200 };
    }
    case 'rescope': {
      const body = rescopeAuthBody(tokens.unscoped);
      return {
        spec: () => ({ method: 'POST', path: `${v3}/auth/tokens`, headers: json, body }),
        status: 201,
      };
    }
    case 'list': {
      const headers = { 'x-auth-token': tokens.auth };
      return { spec: () => ({ method: 'GET', path: `${v3}/projects`, headers }), status: 200 };
    }
    case 'create': {
      const headers = { ...json, 'x-auth-token': tokens.auth };
      return {
        spec: (n) => ({
          method: 'POST',
          path: `${v3}/projects`,
          headers,
          body: JSON.stringify({
            project: { name: `bench-${tag}-${n}`, domain_id: 'default', description: 'identity benchmark' },
          }),
        }),
        status: 201,
      };
    }
  }
}

/** Tokens for the load, and a check of each operation once, so a target that cannot do one says why. */
async function prepare(target: Target): Promise<void> {
  try {
    target.tokens = {
      auth: await issueAdminToken(target.endpoint, 'project'),
      subject: await issueAdminToken(target.endpoint, 'project'),
      unscoped: await issueAdminToken(target.endpoint, 'unscoped'),
    };
  } catch (err) {
    target.unavailable = (err as Error).message;
    return;
  }
  for (const operation of operations) {
    const { spec, status } = requestFor(operation, target, 'probe');
    await expectAnswer(target.endpoint, spec(0), status).catch((err: Error) =>
      target.unavailableOps.set(operation, err.message),
    );
  }
}

async function measure(target: Target, operation: Operation, concurrency: number) {
  const unavailable = target.unavailable ?? target.unavailableOps.get(operation);
  if (unavailable) return { unavailable };
  const { spec, status } = requestFor(operation, target, `c${concurrency}`);
  const maxRequests = operation === 'create' ? createLimit : MAX_REQUESTS_PER_ROW;
  // Warm-up and measurement share one sequence so every created project name is unique.
  let sequence = 0;
  const load = (ms: number, max: number) =>
    generateLoad({
      baseUrl: target.endpoint.origin,
      concurrency,
      durationMs: ms,
      maxRequests: max,
      makeRequest: () => spec(sequence++),
      expectStatus: status,
    });
  if (warmupMs > 0) await load(warmupMs, Math.ceil(maxRequests / 5));
  // The machine is shared: a row during which other processes (or other guests of the host,
  // as steal time) took CPU is measured again,
  // and the quietest attempt is kept, with how much the others took, in the details.
  let best: Measured | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await waitForQuiet();
    const shares = await cpuSharesDuring(target.pids, () => load(durationMs, maxRequests));
    const measured: Measured = {
      ...shares.result,
      serverCores: shares.oursCores,
      otherCores: shares.otherCores,
      attempt,
    };
    if (!best || measured.otherCores < best.otherCores) best = measured;
    if (measured.otherCores <= OTHER_CORES_LIMIT) break;
    ctx.progress(
      `other processes used ${measured.otherCores.toFixed(2)} cores during the row; measuring again`,
    );
  }
  return best!;
}

/** Waits (at most half a minute) for the machine to be quiet but for the servers and us. */
async function waitForQuiet(): Promise<void> {
  const ours = async () => (await Promise.all(targets.map((t) => t.pids()))).flat();
  if (!(await waitForQuietMachine(ours))) {
    ctx.progress('the machine did not get quiet within half a minute; measuring anyway');
  }
}

const targets: Target[] = [];
const rows: Row[] = [];
let bcryptSeconds = Number.NaN;
let runtimeFloor: RuntimeFloorProbe | undefined;
let floorAtRest: { node: number; nodeWithFastify: number } | undefined;
let keystoneVersion = '';
try {
  // Built before anything is measured, so the compiler's CPU overlaps no measurement.
  let overcastBuildFailure: string | undefined;
  if (!values['no-build']) {
    ctx.progress('building Overcast (npm run build)');
    overcastBuildFailure = await buildOvercast();
  }
  // Keystone's install brings the python3-bcrypt the bound below is measured with.
  await installKeystone(ctx);
  ctx.progress(
    `measuring one bcrypt check at cost ${bcryptRounds} (Debian's python3-bcrypt, as Keystone uses)`,
  );
  bcryptSeconds = await bcryptSecondsPerCheck(bcryptRounds);

  const keystone = await startKeystone(ctx, { workers, bcryptRounds });
  keystoneVersion = keystone.packageVersion;
  targets.push({
    name: 'Keystone',
    endpoint: { origin: new URL(keystone.url).origin, v3Path: '/v3', adminPassword: keystone.adminPassword },
    pids: keystone.pids,
    rssBytes: keystone.rssBytes,
    stop: keystone.stop,
    unavailableOps: new Map(),
  });

  try {
    if (overcastBuildFailure) throw new Error(overcastBuildFailure);
    const overcast = await startOvercast(ctx);
    targets.push({
      name: 'Overcast',
      endpoint: { origin: overcast.baseUrl, v3Path: '/identity/v3', adminPassword: overcast.adminPassword },
      pids: overcast.pids,
      rssBytes: overcast.rssBytes,
      stop: overcast.stop,
      unavailableOps: new Map(),
    });
  } catch (err) {
    targets.push({
      name: 'Overcast',
      endpoint: { origin: '', v3Path: '/identity/v3', adminPassword: '' },
      pids: async () => [],
      rssBytes: async () => Number.NaN,
      stop: async () => undefined,
      unavailable: firstAndLastLine((err as Error).message),
      unavailableOps: new Map(),
    });
  }

  for (const target of targets) {
    if (!target.unavailable) await prepare(target);
  }
  runtimeFloor = startRuntimeFloorProbe();
  // At rest: started, bootstrapped, a handful of requests served, then idle long enough for
  // V8's memory reducer to return start-up garbage (it waits for several idle seconds).
  await sleep(30_000);
  for (const target of targets) {
    if (!target.unavailable) target.rssAtRest = await target.rssBytes();
  }
  floorAtRest = await runtimeFloor.measure();
  await runtimeFloor.stop();

  for (const operation of operations) {
    for (const concurrency of concurrencies) {
      const row: Row = { operation, concurrency, results: new Map() };
      for (const target of targets) {
        ctx.progress(`${target.name}: ${OPERATION_LABELS[operation]} at c=${concurrency}`);
        row.results.set(target.name, await measure(target, operation, concurrency));
        await sleep(1_000);
      }
      rows.push(row);
    }
  }
  await sleep(3_000);
  for (const target of targets) {
    if (!target.unavailable) target.rssAfterLoad = await target.rssBytes();
  }
} finally {
  for (const target of targets) await target.stop().catch(() => undefined);
  await runtimeFloor?.stop();
}

// ---------------------------------------------------------------- report
const keystoneTarget = targets.find((t) => t.name === 'Keystone')!;
const overcastTarget = targets.find((t) => t.name === 'Overcast')!;
const megabytes = (bytes: number | undefined) =>
  bytes === undefined || Number.isNaN(bytes) ? '-' : (bytes / 2 ** 20).toFixed(1);
const okResult = (row: Row, name: Target['name']) => {
  const result = row.results.get(name);
  return result && !('unavailable' in result) ? result : undefined;
};
const revision = await gitRevision();

const tableRows = rows.map((row) => {
  const cells: string[] = [OPERATION_LABELS[row.operation], String(row.concurrency)];
  for (const name of ['Keystone', 'Overcast'] as const) {
    const result = okResult(row, name);
    cells.push(
      result ? round3(result.okPerSecond) : '-',
      result ? round3(result.p50Ms) : '-',
      result ? round3(result.p99Ms) : '-',
    );
  }
  const keystone = okResult(row, 'Keystone');
  const overcast = okResult(row, 'Overcast');
  cells.push(
    keystone && overcast && keystone.okPerSecond > 0
      ? `${round3(overcast.okPerSecond / keystone.okPerSecond)}x`
      : '-',
  );
  return cells;
});

const detailRows = rows.flatMap((row) =>
  (['Keystone', 'Overcast'] as const).flatMap((name) => {
    const result = okResult(row, name);
    if (!result) return [];
    return [
      [
        name,
        OPERATION_LABELS[row.operation],
        String(row.concurrency),
        String(result.ok),
        result.windowSeconds.toFixed(1),
        round3(result.p90Ms),
        round3(result.maxMs),
        String(result.connectionsOpened),
        result.serverCores.toFixed(2),
        result.otherCores.toFixed(2),
        (result.clientCpuSeconds / Math.max(result.windowSeconds, 1e-9)).toFixed(2),
        failuresText(result.failures),
      ],
    ];
  }),
);

const targetRows: TargetVerdict[] = [];
const judgedConcurrency = concurrencies.includes(32) ? 32 : Math.max(...concurrencies);
const judgedRow = (operation: Operation) =>
  rows.find((row) => row.operation === operation && row.concurrency === judgedConcurrency);
const notEvaluated = (operation: Operation): string | undefined => {
  if (!operations.includes(operation)) return 'not measured in this run';
  const row = judgedRow(operation);
  const overcast = row?.results.get('Overcast');
  if (overcast && 'unavailable' in overcast) return `Overcast not available: ${overcast.unavailable}`;
  const keystone = row?.results.get('Keystone');
  if (keystone && 'unavailable' in keystone) return `Keystone not available: ${keystone.unavailable}`;
  return undefined;
};
const ratioTarget = (
  operation: Operation,
  wanted: number,
  extra?: (overcast: LoadResult) => [boolean, string],
) => {
  const label = `${OPERATION_LABELS[operation]} >= ${wanted}x Keystone at c=${judgedConcurrency}${extra ? ' and p99 < 10 ms' : ''}`;
  const why = notEvaluated(operation);
  if (why) return targetRows.push([label, 'not evaluated', why]);
  const row = judgedRow(operation)!;
  const keystone = okResult(row, 'Keystone')!;
  const overcast = okResult(row, 'Overcast')!;
  const ratio = overcast.okPerSecond / keystone.okPerSecond;
  let met = ratio >= wanted;
  let detail = `${round3(ratio)}x (${round3(overcast.okPerSecond)} vs ${round3(keystone.okPerSecond)} req/s)`;
  if (extra) {
    const [ok, text] = extra(overcast);
    met &&= ok;
    detail += `, ${text}`;
  }
  targetRows.push([label, met ? 'met' : 'missed', detail]);
};
{
  const bound = cores / bcryptSeconds;
  const label = `password token issue within 5% of cores / bcrypt time (${cores} / ${(bcryptSeconds * 1000).toFixed(0)} ms = ${round3(bound)}/s) at c=${judgedConcurrency}`;
  const why = notEvaluated('issue');
  if (why) targetRows.push([label, 'not evaluated', why]);
  else {
    const overcast = okResult(judgedRow('issue')!, 'Overcast')!;
    const share = overcast.okPerSecond / bound;
    targetRows.push([
      label,
      share >= 0.95 ? 'met' : 'missed',
      `${round3(overcast.okPerSecond)} req/s = ${(share * 100).toFixed(1)}% of the bound`,
    ]);
  }
}
ratioTarget('validate', 300, (overcast) => [overcast.p99Ms < 10, `p99 ${round3(overcast.p99Ms)} ms`]);
ratioTarget('rescope', 100);
ratioTarget('list', 100);
ratioTarget('create', 20);
{
  const label = "server RSS at rest <= 1/5 of Keystone's";
  if (overcastTarget.rssAtRest === undefined || keystoneTarget.rssAtRest === undefined) {
    targetRows.push([
      label,
      'not evaluated',
      `Overcast not available: ${overcastTarget.unavailable ?? 'no measurement'}`,
    ]);
  } else {
    const share = overcastTarget.rssAtRest / keystoneTarget.rssAtRest;
    targetRows.push([
      label,
      share <= 0.2 ? 'met' : 'missed',
      `${megabytes(overcastTarget.rssAtRest)} vs ${megabytes(keystoneTarget.rssAtRest)} MB = 1/${round3(1 / share)}` +
        (floorAtRest
          ? ` (1/5 = ${megabytes(keystoneTarget.rssAtRest / 5)} MB; idle node + fastify alone: ${megabytes(floorAtRest.nodeWithFastify)} MB)`
          : ''),
    ]);
  }
}

const report: string[] = [
  `Identity benchmark, ${new Date().toISOString()}`,
  `Keystone ${keystoneVersion}: uWSGI ${workers} workers x 1 thread (closes the connection after every response), SQLite, Fernet, bcrypt cost ${bcryptRounds}`,
  `Overcast ${revision || '(unknown revision)'}: overcast up, SQLite, in-process bus${overcastTarget.unavailable ? ` -- not available: ${overcastTarget.unavailable}` : ''}`,
  `machine: ${machineDescription()}; servers and the load generator share it`,
  `load: closed loop, one kept-alive raw-socket connection per client (bench/lib/http-connection.ts), ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s per row, project creates capped at ${createLimit} per row`,
  `bcrypt check at cost ${bcryptRounds}: ${(bcryptSeconds * 1000).toFixed(0)} ms (Debian python3-bcrypt, one core)`,
  '',
  formatTable(
    ['operation', 'c', 'Keystone req/s', 'p50 ms', 'p99 ms', 'Overcast req/s', 'p50 ms', 'p99 ms', 'ratio'],
    tableRows,
  ),
  '',
  `server RSS at rest: Keystone ${megabytes(keystoneTarget.rssAtRest)} MB (master + ${workers} workers), Overcast ${megabytes(overcastTarget.rssAtRest)} MB`,
  `server RSS after load: Keystone ${megabytes(keystoneTarget.rssAfterLoad)} MB, Overcast ${megabytes(overcastTarget.rssAfterLoad)} MB`,
  floorAtRest
    ? `runtime floor at rest, measured beside them: an idle node ${megabytes(floorAtRest.node)} MB, an idle node with fastify loaded ${megabytes(floorAtRest.nodeWithFastify)} MB`
    : 'runtime floor: not measured',
];
const unavailableOps = [...overcastTarget.unavailableOps].map(
  ([op, why]) => `  ${OPERATION_LABELS[op]}: ${why}`,
);
if (overcastTarget.unavailable) report.push(`Overcast not available: ${overcastTarget.unavailable}`);
if (unavailableOps.length > 0) report.push('Overcast operations not available:', ...unavailableOps);
report.push(
  '',
  'targets (docs/architecture.md):',
  verdictTable(targetRows),
  '',
  'details: ok = answers with the expected status; conns = TCP connections opened; cores = CPU used per second of the',
  `row by the server, by every other process on the machine or other guest of the host (steal time; rows above`,
  `${OTHER_CORES_LIMIT} are measured again, up to ${attempts} times, keeping the quietest) and by the load generator:`,
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
      'other cores',
      'client cores',
      'failures',
    ],
    detailRows,
  ),
);
await publishReport(report, values.json, () => ({
  keystoneVersion,
  revision,
  cores,
  workers,
  bcryptRounds,
  bcryptSeconds,
  durationMs,
  warmupMs,
  rss: Object.fromEntries(targets.map((t) => [t.name, { atRest: t.rssAtRest, afterLoad: t.rssAfterLoad }])),
  unavailable: Object.fromEntries(
    targets.map((t) => [t.name, { all: t.unavailable, operations: Object.fromEntries(t.unavailableOps) }]),
  ),
  rows: rows.map((row) => ({ ...row, results: Object.fromEntries(row.results) })),
  targets: verdictsForJson(targetRows),
}));
