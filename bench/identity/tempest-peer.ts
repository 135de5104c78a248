// Runs Overcast's identity tempest list (test/harness/tempest-identity.txt) against the real
// Keystone from Debian — the reference score for that list and the proof that the harness
// reads tempest's results correctly — or, with --target overcast, against `overcast up`.
//
//   npx tsc -p bench/tsconfig.json && node dist/bench/bench/identity/tempest-peer.js [options]
//     --target keystone|overcast   what to judge (default keystone; overcast needs `npm run build`)
//     --concurrency N              tempest workers (default: cores)
//     --workers N                  Keystone's uWSGI workers (default: cores)
//     --database mariadb|sqlite    Keystone's database (default mariadb: on SQLite Keystone
//                                  itself fails tempest's creates and deletes, "database is locked")
//     --list FILE                  include list (default test/harness/tempest-identity.txt)
//     --regex R                    a regex instead of the list
//     --work-dir DIR               keep everything there (default: a new directory under /tmp)
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCacheDir, type KitContext } from '../../lib/kit/common.js';
import { installKeystone, KEYSTONE_ADMIN, startKeystone } from '../../lib/kit/keystone.js';
import { installMariaDb, type MariaDb, startMariaDb } from '../../lib/kit/mariadb.js';
import { installOpenstackClients } from '../../lib/kit/openstack.js';
import { readTestList, runTempest, type TempestResult } from '../../test/harness/tempest.js';
import { startOvercast } from '../lib/overcast.js';
import { repoRoot } from '../lib/repo.js';
import { formatTable } from '../lib/table.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'keystone' },
    concurrency: { type: 'string' },
    workers: { type: 'string' },
    database: { type: 'string', default: 'mariadb' },
    list: { type: 'string' },
    regex: { type: 'string' },
    'work-dir': { type: 'string' },
  },
});
if (values.database !== 'mariadb' && values.database !== 'sqlite') {
  process.stderr.write(`--database must be mariadb or sqlite, not ${values.database}\n`);
  process.exit(2);
}
if (values.target !== 'keystone' && values.target !== 'overcast') {
  process.stderr.write(`--target must be keystone or overcast, not ${values.target}\n`);
  process.exit(2);
}
const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
  process.stderr.write(`--concurrency must be a positive integer\n`);
  process.exit(2);
}

const workers = values.workers === undefined ? undefined : Number(values.workers);
if (workers !== undefined && !(Number.isInteger(workers) && workers > 0)) {
  process.stderr.write(`--workers must be a positive integer\n`);
  process.exit(2);
}

const workDir = values['work-dir'] ?? (await mkdtemp(join(tmpdir(), `overcast-tempest-${values.target}-`)));
const ctx: KitContext = {
  cacheDir: defaultCacheDir(),
  stateDir: join(workDir, 'server'),
  progress: (line) => process.stderr.write(`[${values.target}] ${line}\n`),
};
const listFile = values.list ?? join(repoRoot(), 'test', 'harness', 'tempest-identity.txt');

await installOpenstackClients(ctx);
let server: { authUrl: string; adminPassword: string; stop(): Promise<void> };
if (values.target === 'keystone') {
  await installKeystone(ctx);
  let mariadb: MariaDb | undefined;
  if (values.database === 'mariadb') {
    await installMariaDb(ctx);
    mariadb = await startMariaDb(ctx);
  }
  try {
    const databaseUrl = await mariadb?.createDatabase('keystone');
    const keystone = await startKeystone(ctx, { workers, databaseUrl });
    server = {
      authUrl: keystone.url,
      adminPassword: keystone.adminPassword,
      async stop() {
        await keystone.stop();
        await mariadb?.stop();
      },
    };
    ctx.progress(
      `Keystone ${keystone.packageVersion} on ${keystone.database}, ${keystone.workers} uWSGI workers, bcrypt ${keystone.bcryptRounds}`,
    );
  } catch (err) {
    await mariadb?.stop();
    throw err;
  }
} else {
  const overcast = await startOvercast(ctx);
  server = { authUrl: overcast.identityUrl, adminPassword: overcast.adminPassword, stop: overcast.stop };
}

let result: TempestResult;
try {
  ctx.progress(`tempest: ${values.regex ? `--regex ${values.regex}` : listFile} against ${server.authUrl}`);
  result = await runTempest({
    authUrl: server.authUrl,
    adminUser: KEYSTONE_ADMIN.user,
    adminPassword: server.adminPassword,
    adminProject: KEYSTONE_ADMIN.project,
    adminDomain: KEYSTONE_ADMIN.domain,
    region: KEYSTONE_ADMIN.region,
    serviceAvailable: {},
    workDir: join(workDir, 'tempest'),
    ...(values.regex ? { includeRegex: values.regex } : { includeList: await readTestList(listFile) }),
    concurrency,
  });
} finally {
  await server.stop();
}

await writeFile(join(workDir, 'tempest-result.json'), `${JSON.stringify(result, null, 2)}\n`);
const lines: string[] = [];
lines.push(
  `tempest against ${values.target}${values.target === 'keystone' ? ` on ${values.database}` : ''} (${server.authUrl}), ${values.regex ? `regex ${values.regex}` : listFile}`,
  '',
  formatTable(
    ['ran', 'passed', 'failed', 'skipped', 'excluded', 'seconds', 'tempest exit'],
    [
      [
        result.ran.length,
        result.passed.length,
        result.failed.length,
        result.skipped.length,
        result.excluded.length,
        result.seconds.toFixed(0),
        result.exitCode,
      ].map(String),
    ],
  ),
);
if (result.failed.length > 0) {
  lines.push('', 'failed:');
  for (const { id, reason } of result.failed) lines.push(`  ${id}\n      ${reason}`);
}
if (result.skipped.length > 0) {
  lines.push('', 'skipped, by reason:');
  const byReason = new Map<string, string[]>();
  for (const { id, reason } of result.skipped) byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
  for (const [reason, ids] of byReason) {
    lines.push(`  ${ids.length} x ${reason}`);
    for (const id of ids) lines.push(`      ${id}`);
  }
}
lines.push(
  '',
  `workspace: ${result.workspace} (tempest.log, etc/tempest.conf); result: ${workDir}/tempest-result.json`,
);
process.stdout.write(`${lines.join('\n')}\n`);
