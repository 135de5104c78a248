// The real Keystone from Debian (keystone 2:22, "Zed") as a peer for benchmarks and for
// validating the tempest harness. Overcast itself never uses it. Each start gets a fresh
// private instance under `${stateDir}/keystone`: its own keystone.conf, SQLite database (or
// the MariaDB database it is given), Fernet and credential keys, served by uWSGI on a free
// loopback port with the settings of Debian's keystone-uwsgi.ini. It never reads
// /etc/keystone or touches the packaged service.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../exec.js';
import { type Daemon, freePort, type KitContext, startDaemon, waitUntil } from './common.js';
import { debianPackageVersion, ensureDebianPackages } from './debian.js';
import { debianPythonEnvironment } from './openstack.js';
import { descendantsOf, rssOf, stopLeftoverMaster, stopWithWorkers } from './processes.js';

export const KEYSTONE_PACKAGES = ['keystone', 'uwsgi', 'uwsgi-plugin-python3'] as const;

/** Names keystone-manage bootstrap gives the admin account; tempest and the bench log in with them. */
export const KEYSTONE_ADMIN = {
  user: 'admin',
  project: 'admin',
  domain: 'Default',
  region: 'RegionOne',
} as const;

const KEYSTONE_MANAGE = '/usr/bin/keystone-manage';
const KEYSTONE_WSGI_SCRIPT = '/usr/bin/keystone-wsgi-public';
/** uWSGI with the python3 plugin built in, as Debian's init script runs it. */
const UWSGI = '/usr/bin/uwsgi_python3';
const STARTUP_TIMEOUT_MS = 240_000;

export interface KeystoneOptions {
  /** uWSGI worker processes, one thread each (default: the number of cores). */
  workers?: number;
  /** bcrypt cost for stored passwords, the admin's included (default 12, passlib's default). */
  bcryptRounds?: number;
  /**
   * A mysql:// URL of an empty database, e.g. from the kit's MariaDB
   * (`startMariaDb(ctx).createDatabase('keystone')`). Default: SQLite in the state directory,
   * which is enough for the benchmark's operations but not for tempest: Keystone on SQLite
   * fails creates and deletes of domains, roles, projects and application credentials with
   * "database is locked" (one request's sessions lock each other out), with one worker or many.
   */
  databaseUrl?: string;
}

export interface Keystone {
  /** The v3 base, http://127.0.0.1:<port>/v3 (also the catalog's identity endpoint). */
  url: string;
  port: number;
  adminPassword: string;
  workers: number;
  bcryptRounds: number;
  /** Debian version of the keystone package, e.g. 2:22.0.2-0+deb12u6. */
  packageVersion: string;
  /** `sqlite` or `mysql`. */
  database: 'sqlite' | 'mysql';
  /** Resident memory of the uWSGI master plus all its workers, in bytes. */
  rssBytes(): Promise<number>;
  /** Process ids of the uWSGI master and its workers right now. */
  pids(): Promise<number[]>;
  /** Stops exactly the uWSGI master and the workers this call started; the state stays for inspection. */
  stop(): Promise<void>;
}

export async function installKeystone(ctx: KitContext): Promise<void> {
  // With debconf's non-interactive defaults the postinst configures no database and
  // registers no endpoint; its `invoke-rc.d keystone start` is refused by policy-rc.d where
  // one exists and, on a machine with no init system at all, by invoke-rc.d itself. Either
  // way nothing of the packaged service is used here.
  await ensureDebianPackages(ctx, KEYSTONE_PACKAGES);
}

interface Layout {
  dir: string;
  etcDir: string;
  configFile: string;
  uwsgiIni: string;
  logDir: string;
  sqliteFile: string;
  fernetKeys: string;
  credentialKeys: string;
  pidFile: string;
}

function layoutOf(stateDir: string): Layout {
  // Absolute, because the leftover-server check compares it with a process's command line.
  const dir = resolve(stateDir, 'keystone');
  const etcDir = join(dir, 'etc');
  return {
    dir,
    etcDir,
    configFile: join(etcDir, 'keystone.conf'),
    uwsgiIni: join(etcDir, 'keystone-uwsgi.ini'),
    logDir: join(dir, 'log'),
    sqliteFile: join(dir, 'keystone.sqlite'),
    fernetKeys: join(dir, 'fernet-keys'),
    credentialKeys: join(dir, 'credential-keys'),
    pidFile: join(dir, 'uwsgi.pid'),
  };
}

export async function startKeystone(ctx: KitContext, options: KeystoneOptions = {}): Promise<Keystone> {
  const workers = options.workers ?? availableParallelism();
  const bcryptRounds = options.bcryptRounds ?? 12;
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`workers must be a positive integer, got ${workers}`);
  // bcrypt's cost range; keystone passes it to passlib, which enforces the same bounds.
  if (!Number.isInteger(bcryptRounds) || bcryptRounds < 4 || bcryptRounds > 31) {
    throw new Error(`bcryptRounds must be an integer from 4 to 31, got ${bcryptRounds}`);
  }
  const layout = layoutOf(ctx.stateDir);
  await stopLeftoverServer(layout);
  // Every start is a fresh Keystone: benchmarks must not inherit the projects and tokens of
  // an earlier run.
  await rm(layout.dir, { recursive: true, force: true });
  await mkdir(layout.etcDir, { recursive: true, mode: 0o700 });
  await mkdir(layout.logDir, { recursive: true });
  const connection = options.databaseUrl
    ? sqlAlchemyMysqlUrl(options.databaseUrl)
    : `sqlite:///${layout.sqliteFile}`;
  const database = options.databaseUrl ? 'mysql' : 'sqlite';
  await writeFile(layout.configFile, keystoneConf(layout, connection, bcryptRounds));
  const packageVersion = await debianPackageVersion('keystone');

  const manage = (args: readonly string[]) =>
    run([KEYSTONE_MANAGE, '--config-file', layout.configFile, ...args], {
      env: debianPythonEnvironment(),
      timeoutMs: 300_000,
    });
  ctx.progress(`keystone: creating database and keys in ${layout.dir}`);
  await manage(['db_sync']);
  // The keys belong to whoever runs uWSGI, which is us.
  const owner = [`--keystone-user=${process.getuid?.() ?? 0}`, `--keystone-group=${process.getgid?.() ?? 0}`];
  await manage(['fernet_setup', ...owner]);
  await manage(['credential_setup', ...owner]);

  const adminPassword = randomBytes(18).toString('base64url');
  // freePort() cannot reserve the port, and the catalog must name the port uWSGI really
  // serves on; if someone takes it first, bootstrap again (it updates the endpoints) on another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v3`;
    ctx.progress(`keystone: bootstrap (admin, RegionOne, endpoints ${url})`);
    await manage([
      'bootstrap',
      '--bootstrap-username',
      KEYSTONE_ADMIN.user,
      '--bootstrap-project-name',
      KEYSTONE_ADMIN.project,
      '--bootstrap-role-name',
      'admin',
      '--bootstrap-service-name',
      'keystone',
      '--bootstrap-region-id',
      KEYSTONE_ADMIN.region,
      '--bootstrap-public-url',
      url,
      '--bootstrap-internal-url',
      url,
      '--bootstrap-admin-url',
      url,
      // Given on the command line, not in OS_BOOTSTRAP_PASSWORD, so it does not leak into the
      // environment of anything else keystone-manage might start.
      '--bootstrap-password',
      adminPassword,
    ]);
    await writeFile(layout.uwsgiIni, uwsgiIni(layout, port, workers));
    ctx.progress(`keystone: starting uWSGI on 127.0.0.1:${port} (${workers} workers x 1 thread)`);
    const started = Date.now();
    const daemon = await startDaemon(ctx, 'keystone-uwsgi', [UWSGI, '--ini', layout.uwsgiIni], {
      env: debianPythonEnvironment(),
      cwd: layout.dir,
    });
    const handle = handleFor(layout, daemon, {
      url,
      port,
      adminPassword,
      workers,
      bcryptRounds,
      packageVersion,
      database,
    });
    try {
      await waitUntil(
        `Keystone uWSGI on port ${port}`,
        async () => (await readyWorkers(daemon.logFile)) >= workers && (await answersDiscovery(url)),
        { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 250, isAlive: daemon.isAlive, logFile: daemon.logFile },
      );
    } catch (err) {
      await handle.stop();
      const log = await readFile(daemon.logFile, 'utf8').catch(() => '');
      if (attempt < 3 && /Address already in use/.test(log.slice(-4_000))) continue;
      throw err;
    }
    ctx.progress(`keystone: ${workers} workers ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return handle;
  }
}

/** mysql://user:pw@host:port/db → SQLAlchemy's PyMySQL form, which python3-keystone depends on. */
function sqlAlchemyMysqlUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'mysql:')
    throw new Error(`databaseUrl must be a mysql:// URL, got ${parsed.protocol}`);
  // Keystone's tables declare utf8 themselves; the connection must speak the same.
  parsed.searchParams.set('charset', 'utf8');
  return `mysql+pymysql:${parsed.href.slice('mysql:'.length)}`;
}

function keystoneConf(layout: Layout, connection: string, bcryptRounds: number): string {
  return `# Private Keystone written by lib/kit/keystone.ts; everything else is Keystone's default.
[DEFAULT]
log_dir = ${layout.logDir}
log_file = keystone.log

[database]
connection = ${connection}

[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = ${bcryptRounds}

[token]
provider = fernet

[fernet_tokens]
key_repository = ${layout.fernetKeys}

[fernet_receipts]
key_repository = ${layout.fernetKeys}

[credential]
key_repository = ${layout.credentialKeys}
`;
}

/**
 * Debian's /etc/keystone/keystone-uwsgi.ini as measured by the keystone-anchor recipe, with
 * these differences: no apparmor plugin and no uid/gid switch (it runs as us, on our state),
 * the log goes to stdout (the daemon's log file), the socket is bound to loopback, and one
 * thread per worker, because on this stack threads > 1 crash and lock the SQLite database.
 * `skip-atexit-teardown` spares the workers a Python finalisation that segfaults in greenlet
 * on every stop (it changes nothing while serving).
 * `rem-header = Content-Length` stays: the real thing closes the connection after every
 * response, and clients measuring it have to live with that. It is announced, though, with
 * `Connection: close`: without it a client that reads a 204 (no body, so nothing tells it the
 * connection ends) sends its next request on the dead connection and gets a reset, which
 * fails tempest tests for a reason that is uWSGI's, not Keystone's.
 */
function uwsgiIni(layout: Layout, port: number, workers: number): string {
  return `[uwsgi]
buffer-size = 65535
rem-header = Content-Length
add-header = Connection: close
master = true
thunder-lock = true
lazy-apps = true
paste-logger = true
no-orphans = true
die-on-term = true
enable-threads = true
processes = ${workers}
threads = 1
listen = 100
name = keystone-api
chdir = ${layout.dir}
wsgi-file = ${KEYSTONE_WSGI_SCRIPT}
http-socket = 127.0.0.1:${port}
pidfile = ${layout.pidFile}
skip-atexit-teardown = true
env = OS_KEYSTONE_CONFIG_DIR=${layout.etcDir}
`;
}

interface HandleFacts {
  database: 'sqlite' | 'mysql';
  url: string;
  port: number;
  adminPassword: string;
  workers: number;
  bcryptRounds: number;
  packageVersion: string;
}

function handleFor(layout: Layout, daemon: Daemon, facts: HandleFacts): Keystone {
  const pids = async () =>
    daemon.isAlive() ? [daemon.pid, ...(await descendantsOf(daemon.pid)).map((p) => p.pid)] : [];
  let stopping: Promise<void> | undefined;
  const stopServer = async () => {
    // die-on-term: SIGTERM to the master stops the workers too.
    await stopWithWorkers(daemon, 30_000);
    await rm(layout.pidFile, { force: true });
  };
  return {
    ...facts,
    pids,
    async rssBytes() {
      let total = 0;
      for (const pid of await pids()) total += await rssOf(pid);
      return total;
    },
    stop() {
      stopping ??= stopServer();
      return stopping;
    },
  };
}

/** Workers that have loaded the Keystone application (lazy-apps: each worker loads its own). */
async function readyWorkers(logFile: string): Promise<number> {
  const log = await readFile(logFile, 'utf8').catch(() => '');
  return log.match(/WSGI app 0 \(mountpoint='[^']*'\) ready/g)?.length ?? 0;
}

async function answersDiscovery(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { version?: { id?: string } };
  return response.ok && (body.version?.id ?? '').startsWith('v3.');
}

/**
 * A uWSGI master left running on this state directory (an interrupted benchmark) would hold
 * the database and keys we are about to recreate. Only a process whose command line names
 * this directory's ini file is stopped, with its workers.
 */
function stopLeftoverServer(layout: Layout): Promise<void> {
  return stopLeftoverMaster(layout.pidFile, layout.uwsgiIni);
}
