// One tempest test file per service, all the same shape: `overcast up` on SQLite (or MariaDB),
// tempest with a list of that service's tests, a report file of what tempest said (counts,
// every failure and skip with its reason, the passes), no failures allowed and at least a
// known number of passes. Tests of features deliberately not built are excluded by name with
// the reason, never dropped silently.
//
// A suite whose tests expect things tempest cannot make itself (an external network to take
// floating IPs from, the extension list the service really serves) makes them in `prepare`, as
// the admin, once the cloud is up, and returns the tempest.conf options that describe them.
//
// OVERCAST_TEMPEST_REGEX narrows a run to the tests matching it while working on one area (the
// pass count is then not enforced); OVERCAST_TEMPEST_DIALECTS=sqlite,mysql runs on MariaDB too;
// OVERCAST_KEEP_TEMPEST keeps the workspace of a clean run.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseFor, type Dialect } from './databases.js';
import { apiPort, openrcToken, type RunningUp, sourceOpenrc, startUp } from './overcast-up.js';
import {
  readTestList,
  runTempest,
  type ServiceAvailability,
  type TempestConfig,
  type TempestResult,
} from './tempest.js';

/** The running cloud, as a suite's `prepare` sees it. */
export interface PreparedCloud {
  /** http://127.0.0.1:<port>: every service's path hangs from it (/network/v2.0/...). */
  baseUrl: string;
  /** A JSON request with the admin's project-scoped token: the parsed body of a 2xx, else it throws. */
  asAdmin<Body>(method: string, path: string, body?: unknown): Promise<Body>;
}

export interface TempestSuite {
  /** "identity", "image": names the describe block and the report. */
  service: string;
  /** The test list file (test/harness/tempest-<service>.txt). */
  testList: string;
  /** What really passes of the list with the exclusions; raise it when more do. */
  minPassed: number;
  serviceAvailable: ServiceAvailability;
  exclusions?: { pattern: string; reason: string }[];
  /** Runs after `overcast up`, before tempest; its options override the harness's tempest.conf. */
  prepare?: (cloud: PreparedCloud) => Promise<TempestConfig>;
  /** tempest workers (default: the number of cores); more fit where tests mostly wait. */
  concurrency?: number;
  /** Slow test classes (regexes) that each get a worker of their own besides those. */
  ownWorkers?: string[];
  /** Whole-run limit (default 20 minutes). */
  timeoutMs?: number;
}

function report(service: string, result: TempestResult): string {
  return [
    `tempest ${service} run: ${result.ran.length} ran, ${result.passed.length} passed, ` +
      `${result.failed.length} failed, ${result.skipped.length} skipped, ${result.excluded.length} excluded ` +
      `(exit ${result.exitCode}, ${result.seconds.toFixed(0)} s)`,
    `workspace: ${result.workspace}`,
    '',
    'FAILED',
    ...result.failed.map(({ id, reason }) => `  ${id}\n      ${reason}`),
    '',
    'SKIPPED',
    ...result.skipped.map(({ id, reason }) => `  ${id}\n      ${reason}`),
    '',
    'EXCLUDED',
    ...result.excluded.map(({ id, reason }) => `  ${id}\n      ${reason}`),
    '',
    'PASSED',
    ...result.passed.map((id) => `  ${id}`),
    '',
  ].join('\n');
}

async function preparedCloud(baseUrl: string, openrc: Record<string, string>): Promise<PreparedCloud> {
  const token = await openrcToken(baseUrl, openrc);
  return {
    baseUrl,
    async asAdmin<Body>(method: string, path: string, body?: unknown): Promise<Body> {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          'x-auth-token': token,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as Body;
    },
  };
}

export function describeTempestSuite(suite: TempestSuite): void {
  const dialects = (process.env.OVERCAST_TEMPEST_DIALECTS ?? 'sqlite')
    .split(',')
    .map((name) => name.trim())
    .filter((name): name is Dialect => name === 'sqlite' || name === 'mysql');
  const timeoutMs = suite.timeoutMs ?? 20 * 60_000;

  describe.each(dialects)(`tempest ${suite.service} against overcast up on %s`, (dialect: Dialect) => {
    let workDir: string;
    let up: RunningUp | undefined;
    let authUrl: string;
    let admin: Record<string, string>;
    let config: TempestConfig = {};

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), `overcast-tempest-${suite.service}-`));
      const databaseUrl = await createDatabaseFor(dialect, workDir);
      const port = await apiPort();
      up = await startUp(['--data-dir', join(workDir, 'data'), '--listen', `127.0.0.1:${port}`], {
        OVERCAST_DATABASE_URL: databaseUrl,
      });
      admin = await sourceOpenrc(join(workDir, 'data', 'admin-openrc'));
      const baseUrl = `http://127.0.0.1:${port}`;
      authUrl = `${baseUrl}/identity/v3`;
      if (suite.prepare) config = await suite.prepare(await preparedCloud(baseUrl, admin));
    });

    afterAll(async () => {
      await up?.stop();
      // The report stays for reading when the run failed; a clean run leaves nothing behind.
      if (workDir && !process.env.OVERCAST_KEEP_TEMPEST) {
        const reportText = await readFile(join(workDir, 'tempest-report.txt'), 'utf8').catch(() => '');
        if (!/ 0 failed/.test(reportText.split('\n')[0] ?? '')) return;
        await rm(workDir, { recursive: true, force: true });
      }
    });

    it(
      `passes the ${suite.service} list with no failures`,
      async () => {
        const narrowed = process.env.OVERCAST_TEMPEST_REGEX;
        const result = await runTempest({
          authUrl,
          adminUser: admin.OS_USERNAME ?? 'admin',
          adminPassword: admin.OS_PASSWORD ?? '',
          adminProject: admin.OS_PROJECT_NAME ?? 'admin',
          adminDomain: 'Default',
          serviceAvailable: suite.serviceAvailable,
          workDir: join(workDir, 'tempest'),
          ...(narrowed ? { includeRegex: narrowed } : { includeList: await readTestList(suite.testList) }),
          excludeList: suite.exclusions ?? [],
          config,
          concurrency: suite.concurrency,
          ownWorkers: suite.ownWorkers,
          timeoutMs,
        });
        const text = report(suite.service, result);
        const reportFile = join(workDir, 'tempest-report.txt');
        await writeFile(reportFile, text);
        const summary = [
          text.split('\n')[0],
          `report: ${reportFile}`,
          ...result.failed.map(({ id, reason }) => `  FAIL ${id}: ${reason}`),
          ...result.skipped.map(({ id, reason }) => `  SKIP ${id}: ${reason}`),
        ];
        process.stderr.write(`${summary.join('\n')}\n`);

        expect(result.failed, text).toEqual([]);
        // A skip must carry tempest's own reason: nothing here invents one.
        for (const { id, reason } of result.skipped) expect(reason, id).not.toBe('(no reason given)');
        if (!narrowed) expect(result.passed.length).toBeGreaterThanOrEqual(suite.minPassed);
        expect(result.passed.length).toBeGreaterThan(0);
      },
      timeoutMs + 5 * 60_000,
    );
  });
}
