// The real tempest (Debian's tempest 33) against `overcast up` on SQLite (or MariaDB), with the identity
// test list (test/harness/tempest-identity.txt) and only the identity service available. What
// tempest says is written to a report in the run's directory and summarised on stderr; the
// run must have no failures and at least MIN_PASSED passes. Tests of features that are
// deliberately not built here are excluded by name with the reason, never dropped silently.
//
// OVERCAST_TEMPEST_REGEX narrows the run to the tests matching it while working on one area;
// the pass count is then not enforced (there is no known number for an arbitrary selection).
// OVERCAST_TEMPEST_DIALECTS=sqlite,mysql runs it on MariaDB too (from the kit's mariadb).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseFor, type Dialect } from './harness/databases.js';
import { apiPort, type RunningUp, sourceOpenrc, startUp } from './harness/overcast-up.js';
import { readTestList, runTempest, type TempestResult } from './harness/tempest.js';

const TEST_LIST = join(import.meta.dirname, 'harness', 'tempest-identity.txt');

/** What really passes of the list with the exclusions below; raise it when more do. */
const MIN_PASSED = 99;

/** Tests of the list that cannot pass because the feature is deliberately not (yet) built. */
const EXCLUSIONS: { pattern: string; reason: string }[] = [];

const RUN_TIMEOUT_MS = 20 * 60_000;

/** The report: counts, then every failure, skip and exclusion with its reason, then the passes. */
function report(result: TempestResult): string {
  const lines = [
    `tempest identity run: ${result.ran.length} ran, ${result.passed.length} passed, ` +
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
  ];
  return lines.join('\n');
}

const DIALECTS = (process.env.OVERCAST_TEMPEST_DIALECTS ?? 'sqlite')
  .split(',')
  .map((name) => name.trim())
  .filter((name): name is Dialect => name === 'sqlite' || name === 'mysql');

describe.each(DIALECTS)('tempest identity v3 against overcast up on %s', (dialect: Dialect) => {
  let workDir: string;
  let up: RunningUp | undefined;
  let authUrl: string;
  let admin: Record<string, string>;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'overcast-tempest-identity-'));
    const databaseUrl = await createDatabaseFor(dialect, workDir);
    const port = await apiPort();
    up = await startUp(['--data-dir', join(workDir, 'data'), '--listen', `127.0.0.1:${port}`], {
      OVERCAST_DATABASE_URL: databaseUrl,
    });
    admin = await sourceOpenrc(join(workDir, 'data', 'admin-openrc'));
    authUrl = `http://127.0.0.1:${port}/identity/v3`;
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
    'passes the identity list with no failures',
    async () => {
      const narrowed = process.env.OVERCAST_TEMPEST_REGEX;
      const result = await runTempest({
        authUrl,
        adminUser: admin.OS_USERNAME ?? 'admin',
        adminPassword: admin.OS_PASSWORD ?? '',
        adminProject: admin.OS_PROJECT_NAME ?? 'admin',
        adminDomain: 'Default',
        serviceAvailable: { glance: false, nova: false, neutron: false, cinder: false, swift: false },
        workDir: join(workDir, 'tempest'),
        ...(narrowed ? { includeRegex: narrowed } : { includeList: await readTestList(TEST_LIST) }),
        excludeList: EXCLUSIONS,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      const text = report(result);
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
      if (!narrowed) expect(result.passed.length).toBeGreaterThanOrEqual(MIN_PASSED);
      expect(result.passed.length).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS + 5 * 60_000,
  );
});
