// MariaDB for the local components: a private mariadbd per state directory, initialised with
// mariadb-install-db and listening on its own socket and a free loopback port. It never reads
// the system's option files (--no-defaults) and never touches the system's data directory or
// service, so it can run beside a system MariaDB without either noticing the other.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { run } from '../exec.js';
import {
  ComponentError,
  type Daemon,
  freePort,
  isRunning,
  type KitContext,
  startDaemon,
  waitUntil,
} from './common.js';
import { ensureDebianPackages } from './debian.js';

export interface MariaDb {
  /** The `overcast` database as the `overcast` user: mysql://overcast:<pw>@127.0.0.1:<port>/overcast */
  url: string;
  /** root over TCP with a generated password, for creating databases and users. */
  adminUrl: string;
  port: number;
  /** The mariadbd process (for measuring its CPU and memory). */
  pid: number;
  /** The server's own unix socket (root can log in over it with the admin password too). */
  socketPath: string;
  /**
   * The same database and account reached through the unix socket (`?socket=`, see
   * lib/db/database.ts): for clients on this host, which then skip the TCP path.
   */
  viaSocket(url: string): string;
  /**
   * Creates an empty database (utf8mb4, binary collation) that the `overcast` user may use
   * and returns its URL. Fails when a database of that name exists, so callers get a fresh one.
   */
  createDatabase(name: string): Promise<string>;
  /** Stops exactly the mariadbd this call started; the data directory stays. */
  stop(): Promise<void>;
}

/** Passwords are kept beside the data directory so a restart on the same state reuses them. */
interface Credentials {
  rootPassword: string;
  overcastPassword: string;
}

const DATABASE = 'overcast';
const USER = 'overcast';
/** With skip-name-resolve, TCP clients are matched by address; the server listens on loopback only. */
const CLIENT_HOST = '127.0.0.1';
/** The host MariaDB sees for a client on its unix socket. */
const SOCKET_CLIENT_HOST = 'localhost';
/** Sockets live in a sockaddr_un: 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
const DATABASE_NAME = /^[A-Za-z0-9_]{1,64}$/;
const TEST_BUFFER_POOL_MIB = 32;

export async function installMariaDb(ctx: KitContext): Promise<void> {
  await ensureDebianPackages(ctx, ['mariadb-server', 'mariadb-client']);
}

export interface MariaDbOptions {
  /**
   * The InnoDB buffer pool in MiB. 32 by default, small for the many small databases of the
   * tests; MariaDB's own default is 128.
   */
  bufferPoolMiB?: number;
}

export async function startMariaDb(ctx: KitContext, options: MariaDbOptions = {}): Promise<MariaDb> {
  // Absolute, because the leftover-server check compares it with a process's command line.
  const baseDir = resolve(ctx.stateDir, 'mariadb');
  const dataDir = join(baseDir, 'data');
  const socketPath = join(baseDir, 'mariadbd.sock');
  const pidFile = join(baseDir, 'mariadbd.pid');
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new ComponentError(`MariaDB socket path is too long for a unix socket: ${socketPath}`);
  }
  await mkdir(join(baseDir, 'tmp'), { recursive: true, mode: 0o700 });
  await stopLeftoverServer(pidFile, dataDir);

  const credentials = await initialiseDataDir(ctx, baseDir, dataDir);
  const { daemon, port } = await startServer(
    ctx,
    { baseDir, dataDir, socketPath, pidFile },
    credentials,
    options.bufferPoolMiB ?? TEST_BUFFER_POOL_MIB,
  );

  const adminUrl = mysqlUrl('root', credentials.rootPassword, port, '');
  const urlFor = (database: string) => mysqlUrl(USER, credentials.overcastPassword, port, database);
  await ensureSocketAccount(adminUrl, credentials);
  return {
    url: urlFor(DATABASE),
    adminUrl,
    port,
    pid: daemon.pid,
    socketPath,
    viaSocket(url: string) {
      const parsed = new URL(url);
      parsed.searchParams.set('socket', socketPath);
      return parsed.href;
    },
    createDatabase: (name: string) => createDatabaseOn(adminUrl, urlFor(DATABASE), name),
    async stop() {
      await daemon.stop(30_000);
    },
  };
}

/**
 * Creates the empty database `name` on the server of `adminUrl` and grants the account of
 * `userUrl` all privileges on it; returns `userUrl` pointed at the new database. Tests call
 * it with the URLs the global setup provides; it refuses a name that already exists.
 */
export async function createDatabaseOn(
  adminUrl: string,
  userUrl: string,
  name: string,
  characterSet: 'utf8mb4' | 'latin1' = 'utf8mb4',
): Promise<string> {
  if (!DATABASE_NAME.test(name)) {
    throw new Error(`invalid database name ${JSON.stringify(name)}: use 1-64 of [A-Za-z0-9_]`);
  }
  const user = new URL(userUrl);
  const collation = characterSet === 'utf8mb4' ? 'utf8mb4_bin' : 'latin1_swedish_ci';
  const admin = await createConnection({ uri: adminUrl });
  try {
    // The name is checked against DATABASE_NAME above; identifiers cannot be placeholders.
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET ${characterSet} COLLATE ${collation}`);
    for (const host of [CLIENT_HOST, SOCKET_CLIENT_HOST]) {
      await admin.query(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO ?@?`, [
        decodeURIComponent(user.username),
        host,
      ]);
    }
  } finally {
    await admin.end();
  }
  user.pathname = `/${name}`;
  return user.href;
}

/**
 * The overcast account also for clients on the unix socket, whom MariaDB knows as
 * `user@localhost`: same password, same grant. Idempotent, so data directories initialised
 * before this account existed get it at their next start.
 */
async function ensureSocketAccount(adminUrl: string, credentials: Credentials): Promise<void> {
  const admin = await createConnection({ uri: adminUrl });
  try {
    await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [
      USER,
      SOCKET_CLIENT_HOST,
      credentials.overcastPassword,
    ]);
    await admin.query(`GRANT ALL PRIVILEGES ON ${DATABASE}.* TO ?@?`, [USER, SOCKET_CLIENT_HOST]);
  } finally {
    await admin.end();
  }
}

function mysqlUrl(user: string, password: string, port: number, database: string): string {
  return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${CLIENT_HOST}:${port}/${database}`;
}

/** Server options shared by mariadb-install-db's bootstrap and the running server. */
function serverOptions(dataDir: string, bufferPoolMiB = TEST_BUFFER_POOL_MIB): string[] {
  const options = [
    `--datadir=${dataDir}`,
    '--skip-name-resolve',
    // Tests create many small databases; a small pool and log keep the footprint and the
    // initialisation time down (the default 96 MiB redo log alone is most of a fresh datadir).
    `--innodb-buffer-pool-size=${bufferPoolMiB}M`,
    '--innodb-log-file-size=16M',
    '--character-set-server=utf8mb4',
    // Binary collation compares strings exactly as SQLite does, so a unique name behaves the
    // same on both dialects ('Web' and 'web' are different names).
    '--collation-server=utf8mb4_bin',
  ];
  // mariadbd refuses to run as root unless told to; the state directory belongs to us, so the
  // server runs as whoever we are rather than as the `mysql` user, which could not reach it.
  if (process.getuid?.() === 0) options.push('--user=root');
  return options;
}

async function initialiseDataDir(ctx: KitContext, baseDir: string, dataDir: string): Promise<Credentials> {
  const credentialsFile = join(baseDir, 'credentials.json');
  if (await exists(join(dataDir, 'mysql'))) {
    const text = await readFile(credentialsFile, 'utf8').catch(() => undefined);
    if (text) return JSON.parse(text) as Credentials;
    throw new ComponentError(
      `MariaDB data directory ${dataDir} exists but ${credentialsFile} is missing; remove ${baseDir} to start over`,
    );
  }
  // A half-initialised directory (interrupted install) is worth nothing: start clean.
  await rm(dataDir, { recursive: true, force: true });
  const credentials: Credentials = {
    rootPassword: randomBytes(18).toString('hex'),
    overcastPassword: randomBytes(18).toString('hex'),
  };
  await writeFile(credentialsFile, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });

  // The accounts are set up during the bootstrap itself, so the server never listens with a
  // password-less root. mariadb-install-db also creates root@<hostname> and root@::1, which
  // skip-name-resolve ignores with a warning at every start; they are removed here.
  const bootstrapSql = [
    `DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '${CLIENT_HOST}');`,
    `DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';`,
    'FLUSH PRIVILEGES;',
    `ALTER USER 'root'@'localhost' IDENTIFIED BY '${credentials.rootPassword}';`,
    `ALTER USER 'root'@'${CLIENT_HOST}' IDENTIFIED BY '${credentials.rootPassword}';`,
    `CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;`,
    `CREATE USER '${USER}'@'${CLIENT_HOST}' IDENTIFIED BY '${credentials.overcastPassword}';`,
    `GRANT ALL PRIVILEGES ON ${DATABASE}.* TO '${USER}'@'${CLIENT_HOST}';`,
  ].join('\n');
  const bootstrapFile = join(baseDir, 'bootstrap.sql');
  await writeFile(bootstrapFile, `${bootstrapSql}\n`, { mode: 0o600 });
  ctx.progress(`initialising MariaDB data directory ${dataDir}`);
  try {
    await run(
      [
        'mariadb-install-db',
        '--no-defaults',
        ...serverOptions(dataDir),
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        `--extra-file=${bootstrapFile}`,
      ],
      { timeoutMs: 120_000 },
    );
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw new ComponentError(`mariadb-install-db failed: ${(err as Error).message}`);
  } finally {
    await rm(bootstrapFile, { force: true });
  }
  return credentials;
}

interface ServerPaths {
  baseDir: string;
  dataDir: string;
  socketPath: string;
  pidFile: string;
}

async function startServer(
  ctx: KitContext,
  paths: ServerPaths,
  credentials: Credentials,
  bufferPoolMiB: number,
): Promise<{ daemon: Daemon; port: number }> {
  // freePort() cannot reserve the port; if someone takes it before mariadbd binds, try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    ctx.progress(`starting MariaDB on 127.0.0.1:${port}`);
    const daemon = await startDaemon(ctx, 'mariadb', [
      'mariadbd',
      '--no-defaults',
      ...serverOptions(paths.dataDir, bufferPoolMiB),
      `--socket=${paths.socketPath}`,
      `--pid-file=${paths.pidFile}`,
      `--tmpdir=${join(paths.baseDir, 'tmp')}`,
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      // Durable enough for tests and the all-in-one: a crash of the OS (not of mariadbd) may
      // lose the last second of commits, in exchange for no fsync per commit.
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=500',
    ]);
    try {
      await waitUntil(
        `MariaDB on port ${port}`,
        async () => {
          const connection = await createConnection({
            host: CLIENT_HOST,
            port,
            user: 'root',
            password: credentials.rootPassword,
            connectTimeout: 2_000,
          });
          await connection.end();
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 100, isAlive: daemon.isAlive, logFile: daemon.logFile },
      );
      return { daemon, port };
    } catch (err) {
      await daemon.stop(5_000);
      const log = await readFile(daemon.logFile, 'utf8').catch(() => '');
      if (attempt < 3 && /Bind on TCP\/IP port|Address already in use/.test(log.slice(-4_000))) continue;
      throw err;
    }
  }
}

/**
 * A mariadbd left running on this data directory (a crashed test run, an interrupted
 * `overcast up`) holds InnoDB's file locks, and a new server would wait on them for minutes.
 * Only a process whose command line names this data directory is stopped.
 */
async function stopLeftoverServer(pidFile: string, dataDir: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!commandLine.split('\0').includes(`--datadir=${dataDir}`)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isRunning(pid) && Date.now() < deadline) await sleep(100);
  if (isRunning(pid)) process.kill(pid, 'SIGKILL');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
