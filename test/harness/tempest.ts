// Runs the real tempest (Debian's tempest 33) against an identity endpoint and reports what it
// really said: every selected test as passed, failed (with tempest's error) or skipped (with
// tempest's skip reason), read from the subunit stream stestr stored for the run — never from
// the exit code alone and never by assumption.
//
// Each call gets its own workspace and its own HOME under `workDir`, so tempest's workspace
// registry (~/.tempest) and stestr's repository belong to that call only.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../../lib/exec.js';
import { DEBIAN_PYTHON, debianPythonEnvironment, TEMPEST_COMMAND } from '../../lib/kit/openstack.js';
import { parseSubunit, type SubunitTest, testsOf } from './subunit.js';

export interface ServiceAvailability {
  glance?: boolean;
  nova?: boolean;
  neutron?: boolean;
  cinder?: boolean;
  swift?: boolean;
}

/** tempest.conf options as section → option → value; they override what runTempest writes. */
export type TempestConfig = Record<string, Record<string, string | number | boolean>>;

export interface TempestOptions {
  /** The Keystone v3 base, e.g. http://127.0.0.1:5000/identity/v3. */
  authUrl: string;
  adminUser: string;
  adminPassword: string;
  adminProject: string;
  /** Domain of the admin user and project (default `Default`). */
  adminDomain?: string;
  /** Region of the catalog endpoints (default `RegionOne`). */
  region?: string;
  serviceAvailable: ServiceAvailability;
  /** Must not exist or be empty; holds the workspace, logs and the stored results. */
  workDir: string;
  /** Tests whose id matches this regex (Python `re.search`). */
  includeRegex?: string;
  /** Regexes or test ids, one per entry; `#` starts a comment. */
  includeList?: string[];
  /** Tests to leave out, each with why; they are reported in `excluded`, not run. */
  excludeList?: { pattern: string; reason: string }[];
  /** tempest workers (default: the number of cores); with `ownWorkers`, those for the rest. */
  concurrency?: number;
  /**
   * Regexes of slow test classes that each get a worker of their own. stestr places classes it
   * has no timings for (a fresh workspace has none) round-robin in an order that changes from
   * run to run, so two slow classes can otherwise end up one after the other on one worker.
   */
  ownWorkers?: string[];
  /** The whole run is stopped after this long (default 1 hour); unfinished tests fail. */
  timeoutMs?: number;
  /** Per-test limit tempest enforces itself (OS_TEST_TIMEOUT; default 300 s). */
  testTimeoutSeconds?: number;
  /** Options to add or override, e.g. identity feature flags or compute image ids. */
  config?: TempestConfig;
}

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestOutcome {
  /** Tempest's test id, with its [id-...,smoke] attributes. */
  id: string;
  status: TestStatus;
  /** Skip reason, or the last line of the failure (the exception). */
  reason?: string;
  /** The whole traceback of a failure. */
  details?: string;
  seconds?: number;
}

export interface TempestResult {
  /** Every selected test that tempest ran or skipped, plus failed class fixtures. */
  ran: TestOutcome[];
  passed: string[];
  failed: { id: string; reason: string }[];
  skipped: { id: string; reason: string }[];
  /** Selected tests left out by `excludeList`. */
  excluded: { id: string; reason: string }[];
  /** The workspace: etc/tempest.conf, tempest.log, .stestr. */
  workspace: string;
  /** Exit code of `tempest run` (124 when stopped by the timeout). */
  exitCode: number;
  seconds: number;
}

/** Reads a test list file: one regex or test id per line, `#` comments and blank lines ignored. */
export async function readTestList(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .map((line) => line.split('#')[0]!.trim())
    .filter((line) => line.length > 0);
}

const DEFAULT_TIMEOUT_MS = 3_600_000;

export async function runTempest(options: TempestOptions): Promise<TempestResult> {
  if (!options.includeRegex && !options.includeList?.length) {
    throw new Error('runTempest: give includeRegex or includeList; running all of tempest is never meant');
  }
  for (const { pattern } of options.excludeList ?? []) {
    // stestr cuts each exclude-list line at the first '#', so such a pattern cannot be passed.
    if (pattern.includes('#')) throw new Error(`runTempest: exclude pattern may not contain '#': ${pattern}`);
  }
  const workDir = resolve(options.workDir);
  await mkdir(workDir, { recursive: true });
  if ((await readdir(workDir)).length > 0) throw new Error(`runTempest: ${workDir} is not empty`);
  const home = join(workDir, 'home');
  const workspace = join(workDir, 'workspace');
  await mkdir(home);
  const env = debianPythonEnvironment({
    HOME: home,
    OS_TEST_TIMEOUT: String(options.testTimeoutSeconds ?? 300),
  });

  await run([TEMPEST_COMMAND, 'init', workspace], { env, cwd: workDir, timeoutMs: 120_000 });
  await writeFile(join(workspace, 'etc', 'tempest.conf'), tempestConf(options, workspace));

  const selection: string[] = [];
  if (options.includeRegex) selection.push('--regex', options.includeRegex);
  if (options.includeList?.length) {
    const file = join(workDir, 'include-list.txt');
    await writeFile(file, `${options.includeList.join('\n')}\n`);
    selection.push('--include-list', file);
  }

  // The selection before exclusions, so excluded tests can be reported by id with their reason.
  const listed = await listTests(env, workspace, selection);
  if (listed.length === 0) throw new Error('runTempest: the selection matches no tempest test');
  const exclusions = (options.excludeList ?? []).map(({ pattern, reason }) => ({
    regex: new RegExp(pattern),
    reason,
  }));
  const excluded: TempestResult['excluded'] = [];
  const selected: string[] = [];
  for (const id of listed) {
    const exclusion = exclusions.find(({ regex }) => regex.test(id));
    if (exclusion) excluded.push({ id, reason: exclusion.reason });
    else selected.push(id);
  }
  const excludeArgs: string[] = [];
  if (exclusions.length > 0) {
    const file = join(workDir, 'exclude-list.txt');
    await writeFile(
      file,
      `${(options.excludeList ?? []).map((e) => `${e.pattern} # ${e.reason}`).join('\n')}\n`,
    );
    excludeArgs.push('--exclude-list', file);
  }

  const started = Date.now();
  let exitCode = 0;
  let output = '';
  if (selected.length > 0) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const concurrency = options.concurrency ?? availableParallelism();
    const scheduling = options.ownWorkers?.length
      ? ['--worker-file', await writeWorkerFile(workDir, options.ownWorkers, concurrency)]
      : ['--concurrency', String(concurrency)];
    const storedBefore = await storedRuns(workspace);
    // coreutils `timeout` puts tempest in a process group of its own and signals the whole
    // group, so stestr's worker processes stop with it; run()'s own limit is only a backstop.
    const result = await run(
      [
        'timeout',
        '--kill-after=30',
        `${Math.ceil(timeoutMs / 1000)}`,
        TEMPEST_COMMAND,
        'run',
        ...selection,
        ...excludeArgs,
        ...scheduling,
      ],
      { env, cwd: workspace, allowFailure: true, timeoutMs: timeoutMs + 60_000 },
    );
    exitCode = result.code;
    output = `${result.stdout}\n${result.stderr}`;
    await writeFile(join(workDir, 'tempest-run.out'), output);
    const storedRun = await newestStoredRun(workspace, storedBefore);
    if (!storedRun) {
      throw new Error(
        `tempest run stored no results (exit ${exitCode}); see ${join(workDir, 'tempest-run.out')}:\n${tail(output)}`,
      );
    }
    const stream = await storedRunAsV2(storedRun, join(workDir, 'results.subunit'));
    const outcomes = outcomesFromStream(selected, stream, exitCode === 124);
    return summarise(outcomes, excluded, workspace, exitCode, started);
  }
  return summarise([], excluded, workspace, exitCode, started);
}

/**
 * tempest's worker file (YAML; JSON is YAML): one worker per regex of `own`, and `concurrency`
 * workers, scheduled by stestr, for every selected test none of them matches.
 */
export async function writeWorkerFile(workDir: string, own: string[], concurrency: number): Promise<string> {
  const rest = `^(?!.*(?:${own.join('|')}))`;
  const workers = [{ worker: [rest], concurrency }, ...own.map((regex) => ({ worker: [regex] }))];
  const file = join(workDir, 'workers.yaml');
  await writeFile(file, `${JSON.stringify(workers, null, 2)}\n`);
  return file;
}

async function listTests(env: NodeJS.ProcessEnv, workspace: string, selection: string[]): Promise<string[]> {
  const listing = await run([TEMPEST_COMMAND, 'run', '--list-tests', ...selection], {
    env,
    cwd: workspace,
    timeoutMs: 300_000,
  });
  return listing.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^tempest\.\S+$/.test(line));
}

/** Run files in stestr's file repository: `.stestr/<n>`, written under a temporary name first. */
async function storedRuns(workspace: string): Promise<Set<string>> {
  return new Set(await readdir(join(workspace, '.stestr')).catch(() => []));
}

/**
 * The stored file of the run just made: the new numbered file, or — when tempest was stopped
 * before stestr could rename it — the partial temporary file it was writing.
 */
async function newestStoredRun(workspace: string, before: Set<string>): Promise<string | undefined> {
  const dir = join(workspace, '.stestr');
  const fresh = (await readdir(dir)).filter((name) => !before.has(name));
  const numbered = fresh.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  // stestr's partial stream is a mkstemp file, `tmp` followed by random characters.
  const partial = fresh.filter((name) => name.startsWith('tmp'));
  const candidates = numbered.length > 0 ? numbered : await byModificationTime(dir, partial);
  const name = candidates[0];
  return name === undefined ? undefined : join(dir, name);
}

// stestr stores runs in subunit v1 (text lines with chunked attachments) and converts to v2
// only when asked (`stestr last --subunit`); this does the same conversion with the same
// library, from file to file, so the binary stream never passes through a text pipe. A v1
// stream cut off inside a test ends that test as an error ("lost connection"), never a pass.
const SUBUNIT_V1_TO_V2 = `
import sys
from testtools import ExtendedToStreamDecorator
from subunit import StreamResultToBytes
from subunit.filters import run_tests_from_stream
with open(sys.argv[1], 'rb') as source, open(sys.argv[2], 'wb') as sink:
    run_tests_from_stream(source, ExtendedToStreamDecorator(StreamResultToBytes(sink)))
`;

/** Reads a run as stestr stored it (subunit v1) and returns it as a subunit v2 stream. */
export async function storedRunAsV2(storedRun: string, scratchFile: string): Promise<Buffer> {
  await run([DEBIAN_PYTHON, '-c', SUBUNIT_V1_TO_V2, storedRun, scratchFile], {
    env: debianPythonEnvironment(),
    timeoutMs: 300_000,
  });
  return readFile(scratchFile);
}

async function byModificationTime(dir: string, names: string[]): Promise<string[]> {
  const stamped = await Promise.all(
    names.map(async (name) => ({ name, mtime: (await stat(join(dir, name))).mtimeMs })),
  );
  return stamped.sort((a, b) => b.mtime - a.mtime).map(({ name }) => name);
}

/** `setUpClass (tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON)` → the class path. */
const CLASS_FIXTURE = /^(setUpClass|tearDownClass) \((\S+)\)$/;

function classOf(testId: string): string {
  const withoutAttributes = testId.replace(/\[.*\]$/, '');
  return withoutAttributes.slice(0, withoutAttributes.lastIndexOf('.'));
}

/**
 * Maps the stream onto the selected tests. A class whose setUpClass skipped or failed never
 * reports its tests one by one; they get that class's outcome. tearDownClass failures are
 * reported under their own id. A selected test the stream says nothing final about failed.
 */
export function outcomesFromStream(selected: string[], stream: Buffer, timedOut: boolean): TestOutcome[] {
  const parsed = parseSubunit(stream);
  const tests = testsOf(parsed.events);
  const byId = new Map(tests.map((test) => [test.id, test]));
  const classSetUp = new Map<string, SubunitTest>();
  const outcomes: TestOutcome[] = [];
  for (const test of tests) {
    const fixture = CLASS_FIXTURE.exec(test.id);
    if (fixture?.[1] === 'setUpClass') classSetUp.set(fixture[2]!, test);
    else if (fixture?.[1] === 'tearDownClass' && test.status === 'fail')
      outcomes.push(outcomeOf(test.id, test));
  }
  const unfinished = timedOut
    ? 'no result: the run was stopped by its time limit'
    : `no result in tempest's stream${parsed.problem ? ` (${parsed.problem})` : ' (a worker died or the test never ran)'}`;
  for (const id of selected) {
    const test = byId.get(id);
    if (test && isFinal(test)) {
      outcomes.push(outcomeOf(id, test));
      continue;
    }
    const setUp = classSetUp.get(classOf(id));
    if (setUp && (setUp.status === 'skip' || setUp.status === 'fail')) {
      const outcome = outcomeOf(id, setUp);
      outcomes.push({ ...outcome, reason: `setUpClass: ${outcome.reason}`, seconds: undefined });
      continue;
    }
    outcomes.push({ id, status: 'failed', reason: unfinished });
  }
  return outcomes;
}

function isFinal(test: SubunitTest): boolean {
  return ['success', 'uxsuccess', 'skip', 'fail', 'xfail'].includes(test.status);
}

function outcomeOf(id: string, test: SubunitTest): TestOutcome {
  const seconds =
    test.startedAt !== undefined && test.stoppedAt !== undefined
      ? (test.stoppedAt - test.startedAt) / 1000
      : undefined;
  switch (test.status) {
    case 'success':
    case 'xfail':
      return { id, status: 'passed', seconds };
    case 'skip':
      return {
        id,
        status: 'skipped',
        reason: test.attachments.get('reason')?.trim() || '(no reason given)',
        seconds,
      };
    default: {
      // uxsuccess (an expected failure that passed) counts as a failure, as stestr counts it.
      const traceback = test.attachments.get('traceback') ?? '';
      const reason =
        test.status === 'uxsuccess'
          ? 'unexpected success'
          : lastLine(traceback) || `failed without a traceback (${test.status})`;
      return { id, status: 'failed', reason, details: traceback || undefined, seconds };
    }
  }
}

function lastLine(text: string): string {
  const lines = text
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-20).join('\n');
}

function summarise(
  ran: TestOutcome[],
  excluded: TempestResult['excluded'],
  workspace: string,
  exitCode: number,
  started: number,
): TempestResult {
  return {
    ran,
    passed: ran.filter((o) => o.status === 'passed').map((o) => o.id),
    failed: ran.filter((o) => o.status === 'failed').map((o) => ({ id: o.id, reason: o.reason ?? '' })),
    skipped: ran.filter((o) => o.status === 'skipped').map((o) => ({ id: o.id, reason: o.reason ?? '' })),
    excluded,
    workspace,
    exitCode,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * tempest.conf for a cloud with Keystone v3 and whatever else `serviceAvailable` says, from
 * the facts in /work/shared/reference/openstack-cli/tempest.conf.template: tempest's defaults
 * assume a full cloud (cinder and swift on, adminURL endpoints, SSH into guests), so every
 * such default is set explicitly. Identity feature flags describe what Overcast's identity
 * implements (application credentials yes; trusts, access rules, tags, PCI-DSS rules no) so
 * the real Keystone and Overcast are judged on the same terms; `config` overrides anything.
 */
export function tempestConf(options: TempestOptions, workspace: string): string {
  const domain = options.adminDomain ?? 'Default';
  const region = options.region ?? 'RegionOne';
  const services = options.serviceAvailable;
  const config: TempestConfig = {
    DEFAULT: { log_dir: workspace, log_file: 'tempest.log', debug: true },
    auth: {
      admin_username: options.adminUser,
      admin_password: options.adminPassword,
      admin_project_name: options.adminProject,
      admin_domain_name: domain,
      admin_user_domain_name: domain,
      admin_project_domain_name: domain,
      default_credentials_domain_name: domain,
      use_dynamic_credentials: true,
      // Per-class networks need neutron routers and a public network; never assumed.
      create_isolated_networks: false,
    },
    identity: {
      uri_v3: options.authUrl,
      auth_version: 'v3',
      region,
      v3_endpoint_type: 'public',
      admin_role: 'admin',
      default_domain_id: 'default',
      disable_ssl_certificate_validation: true,
    },
    'identity-feature-enabled': {
      api_v2: false,
      api_v2_admin: false,
      api_v3: true,
      trust: false,
      project_tags: false,
      application_credentials: true,
      access_rules: false,
      security_compliance: false,
      domain_specific_drivers: false,
      immutable_user_source: false,
    },
    service_available: {
      glance: services.glance ?? false,
      nova: services.nova ?? false,
      neutron: services.neutron ?? false,
      cinder: services.cinder ?? false,
      swift: services.swift ?? false,
      horizon: false,
    },
    validation: { run_validation: false },
    enforce_scope: { nova: false, neutron: false, glance: false, keystone: false, cinder: false },
    oslo_concurrency: { lock_path: join(workspace, 'tempest_lock') },
  };
  if (services.glance) {
    config.image = { region, endpoint_type: 'publicURL', build_interval: 1, build_timeout: 60 };
    config['image-feature-enabled'] = {
      api_v2: true,
      api_v1: false,
      import_image: false,
      os_glance_reserved: false,
      manage_locations: false,
    };
  }
  if (services.nova) {
    config.compute = {
      region,
      endpoint_type: 'publicURL',
      build_interval: 1,
      build_timeout: 60,
      min_microversion: '2.1',
      min_compute_nodes: 1,
    };
    config['compute-feature-enabled'] = Object.fromEntries(
      [
        'disk_config',
        'change_password',
        'console_output',
        'resize',
        'pause',
        'shelve',
        'shelve_migrate',
        'suspend',
        'cold_migration',
        'live_migration',
        'metadata_service',
        'vnc_console',
        'spice_console',
        'serial_console',
        'rescue',
        'stable_rescue',
        'interface_attach',
        'snapshot',
        'personality',
        'attach_encrypted_volume',
        'config_drive',
        'swap_volume',
        'volume_multiattach',
        'xenapi_apis',
        'unified_limits',
      ].map((flag) => [flag, false]),
    );
  }
  if (services.neutron) {
    config.network = {
      region,
      endpoint_type: 'publicURL',
      floating_network_name: 'public',
      project_network_cidr: '10.100.0.0/16',
      project_network_mask_bits: 28,
      project_networks_reachable: false,
      build_interval: 1,
      build_timeout: 60,
    };
    config['network-feature-enabled'] = { ipv6: false, ipv6_subnet_attributes: false };
  }
  for (const [section, values] of Object.entries(options.config ?? {})) {
    config[section] = { ...config[section], ...values };
  }
  // Tempest cannot guess these ids; a run without them would fail every test for the wrong reason.
  const required: [string, string, boolean][] = [
    ['compute', 'image_ref', services.nova ?? false],
    ['compute', 'flavor_ref', services.nova ?? false],
    ['network', 'public_network_id', services.neutron ?? false],
  ];
  for (const [section, option, needed] of required) {
    if (needed && config[section]?.[option] === undefined) {
      throw new Error(`runTempest: config.${section}.${option} is required when that service is available`);
    }
  }
  return `${Object.entries(config)
    .map(
      ([section, values]) =>
        `[${section}]\n${Object.entries(values)
          .map(([option, value]) => `${option} = ${value}`)
          .join('\n')}\n`,
    )
    .join('\n')}`;
}
