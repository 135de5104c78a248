// The real Neutron server from Debian (neutron-server 2:21, "Zed") as a peer for benchmarks.
// Overcast itself never uses it. Each start gets a fresh private instance under
// `${stateDir}/neutron`: its own neutron.conf and ml2_conf.ini, the MariaDB database it is
// given (migrated with neutron-db-manage), served on a free loopback port by Debian's
// neutron-server with one API worker per core. It never reads /etc/neutron/neutron.conf or
// touches the packaged service. Like the neutron-anchor recipe it runs ML2 with no mechanism
// drivers, VXLAN tenant networks, no message bus (fake://), no Nova or DHCP agent
// notifications, unlimited quotas and `auth_strategy = noauth`: callers send the project in
// `X-Project-Id` / `X-Roles` headers (see NEUTRON_NOAUTH_HEADERS) instead of a token.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../exec.js';
import { freePort, type KitContext, startDaemon, waitUntil } from './common.js';
import { debianPackageVersion, ensureDebianPackages } from './debian.js';
import { debianPythonEnvironment } from './openstack.js';
import { descendantsOf, rssOf, stopLeftoverMaster, stopWithWorkers } from './processes.js';

export const NEUTRON_PACKAGES = ['neutron-server', 'python3-neutron', 'python3-pymysql'] as const;

const NEUTRON_SERVER = '/usr/bin/neutron-server';
const NEUTRON_DB_MANAGE = '/usr/bin/neutron-db-manage';
/** Debian's paste pipeline, which has the noauth variant of the v2.0 API. */
const DEBIAN_API_PASTE = '/etc/neutron/api-paste.ini';
const STARTUP_TIMEOUT_MS = 240_000;

export interface NeutronOptions {
  /** A mysql:// URL of an empty database, e.g. `startMariaDb(ctx).createDatabase('neutron')`. */
  databaseUrl: string;
  /** API worker processes (default: the number of cores). */
  workers?: number;
  /** The VXLAN range tenant networks take their VNIs from (default 1:100000, as the recipe). */
  vniRanges?: string;
}

export interface Neutron {
  /** http://127.0.0.1:<port>; the API is under /v2.0. */
  url: string;
  port: number;
  workers: number;
  /** Debian version of the neutron-server package, e.g. 2:21.0.0-7+deb12u1. */
  packageVersion: string;
  /** Headers that make a request the given project's, as an admin (noauth). */
  headersFor(projectId: string): Record<string, string>;
  /** Process ids of the server and all its workers right now. */
  pids(): Promise<number[]>;
  /** Resident memory of the server and all its workers, in bytes. */
  rssBytes(): Promise<number>;
  /** Stops exactly the server and the workers this call started; the state stays for inspection. */
  stop(): Promise<void>;
}

export async function installNeutron(ctx: KitContext): Promise<void> {
  // With debconf's non-interactive defaults the postinst configures no database; its attempt
  // to start the service is refused (policy-rc.d, or no init system at all). Nothing of the
  // packaged service is used here.
  await ensureDebianPackages(ctx, NEUTRON_PACKAGES);
}

interface Layout {
  dir: string;
  neutronConf: string;
  ml2Conf: string;
  logDir: string;
  lockDir: string;
  pidFile: string;
}

function layoutOf(stateDir: string): Layout {
  // Absolute, because the leftover-server check compares it with a process's command line.
  const dir = resolve(stateDir, 'neutron');
  return {
    dir,
    neutronConf: join(dir, 'etc', 'neutron.conf'),
    ml2Conf: join(dir, 'etc', 'ml2_conf.ini'),
    logDir: join(dir, 'log'),
    lockDir: join(dir, 'lock'),
    pidFile: join(dir, 'neutron-server.pid'),
  };
}

export async function startNeutron(ctx: KitContext, options: NeutronOptions): Promise<Neutron> {
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`workers must be a positive integer, got ${workers}`);
  const layout = layoutOf(ctx.stateDir);
  await stopLeftoverServer(layout);
  await rm(layout.dir, { recursive: true, force: true });
  await mkdir(join(layout.dir, 'etc'), { recursive: true, mode: 0o700 });
  await mkdir(layout.logDir, { recursive: true });
  await mkdir(layout.lockDir, { recursive: true });
  const packageVersion = await debianPackageVersion('neutron-server');
  const connection = sqlAlchemyMysqlUrl(options.databaseUrl);
  await writeFile(layout.ml2Conf, ml2Conf(options.vniRanges ?? '1:100000'));
  const configArgs = ['--config-file', layout.neutronConf, '--config-file', layout.ml2Conf];

  // freePort() cannot reserve the port; if someone takes it before the server binds, try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(layout.neutronConf, neutronConf(layout, connection, port, workers));
    if (attempt === 1) {
      ctx.progress(`neutron: migrating its database (neutron-db-manage upgrade heads)`);
      await run([NEUTRON_DB_MANAGE, ...configArgs, 'upgrade', 'heads'], {
        env: debianPythonEnvironment(),
        timeoutMs: 600_000,
      });
    }
    ctx.progress(`neutron: starting neutron-server on 127.0.0.1:${port} (${workers} API workers)`);
    const started = Date.now();
    const daemon = await startDaemon(ctx, 'neutron-server', [NEUTRON_SERVER, ...configArgs], {
      env: debianPythonEnvironment(),
      cwd: layout.dir,
    });
    await writeFile(layout.pidFile, `${daemon.pid}\n`);
    const url = `http://127.0.0.1:${port}`;
    const pids = async () =>
      daemon.isAlive() ? [daemon.pid, ...(await descendantsOf(daemon.pid)).map((p) => p.pid)] : [];
    let stopping: Promise<void> | undefined;
    const handle: Neutron = {
      url,
      port,
      workers,
      packageVersion,
      headersFor: (projectId) => noauthHeaders(projectId),
      pids,
      async rssBytes() {
        let total = 0;
        for (const pid of await pids()) total += await rssOf(pid);
        return total;
      },
      stop() {
        // oslo.service's launcher stops its workers on SIGTERM.
        stopping ??= stopWithWorkers(daemon, 30_000).then(() => rm(layout.pidFile, { force: true }));
        return stopping;
      },
    };
    try {
      await waitUntil(
        `neutron-server on port ${port}`,
        // Every worker must have loaded the plugin and be accepting before anything is measured.
        async () => (await answersNetworkList(url)) && (await pids()).length > workers,
        { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 500, isAlive: daemon.isAlive, logFile: daemon.logFile },
      );
    } catch (err) {
      await handle.stop();
      const log = await readFile(join(layout.logDir, 'neutron-server.log'), 'utf8').catch(() => '');
      if (attempt < 3 && /Address already in use/.test(log.slice(-4_000))) continue;
      throw err;
    }
    ctx.progress(`neutron: serving in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return handle;
  }
}

/** What noauth reads instead of a token: the project, and the admin role (as the recipe sends). */
function noauthHeaders(projectId: string): Record<string, string> {
  return { 'x-project-id': projectId, 'x-tenant-id': projectId, 'x-roles': 'admin' };
}

async function answersNetworkList(url: string): Promise<boolean> {
  const response = await fetch(`${url}/v2.0/networks?limit=1`, {
    headers: noauthHeaders('00000000000000000000000000000000'),
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status === 200;
}

/**
 * mysql://user:pw@host:port/db[?socket=PATH] → SQLAlchemy's PyMySQL form, which python3-neutron
 * depends on (PyMySQL calls the socket `unix_socket`).
 */
function sqlAlchemyMysqlUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'mysql:')
    throw new Error(`databaseUrl must be a mysql:// URL, got ${parsed.protocol}`);
  const socket = parsed.searchParams.get('socket');
  if (socket) {
    parsed.searchParams.delete('socket');
    parsed.searchParams.set('unix_socket', socket);
  }
  parsed.searchParams.set('charset', 'utf8mb4');
  return `mysql+pymysql:${parsed.href.slice('mysql:'.length)}`;
}

/**
 * The neutron-anchor recipe's neutron.conf (../shared/recipes/neutron-anchor/configs): ML2,
 * the router service plugin, noauth, no bus, no notifications, quotas off; paths and the port
 * are this instance's. Zed refuses `rpc_workers = 0` as "no RPC workers" only with a real bus,
 * so it still starts one RPC and one periodic worker; the API workers are what is measured.
 */
function neutronConf(layout: Layout, connection: string, port: number, workers: number): string {
  return `# Private Neutron written by lib/kit/neutron.ts.
[DEFAULT]
auth_strategy = noauth
core_plugin = ml2
service_plugins = router
bind_host = 127.0.0.1
bind_port = ${port}
api_workers = ${workers}
rpc_workers = 0
rpc_state_report_workers = 0
transport_url = fake://
notify_nova_on_port_status_changes = False
notify_nova_on_port_data_changes = False
dhcp_agent_notification = False
api_paste_config = ${DEBIAN_API_PASTE}
state_path = ${layout.dir}
debug = False
log_dir = ${layout.logDir}
log_file = neutron-server.log

[database]
connection = ${connection}
max_pool_size = 20
max_overflow = 40

[oslo_concurrency]
lock_path = ${layout.lockDir}

[oslo_messaging_notifications]
driver = noop

[quotas]
quota_network = -1
quota_subnet = -1
quota_port = -1
quota_router = -1
quota_floatingip = -1
quota_security_group = -1
quota_security_group_rule = -1
`;
}

function ml2Conf(vniRanges: string): string {
  return `[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers =
extension_drivers =

[ml2_type_vxlan]
vni_ranges = ${vniRanges}

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges =
`;
}

/**
 * A neutron-server left running on this state directory (an interrupted benchmark) would keep
 * serving from the database we are about to recreate. Only a process whose command line names
 * this directory's neutron.conf is stopped, with its workers.
 */
function stopLeftoverServer(layout: Layout): Promise<void> {
  return stopLeftoverMaster(layout.pidFile, layout.neutronConf);
}
