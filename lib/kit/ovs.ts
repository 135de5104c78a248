// A private Open vSwitch: its own ovsdb-server and ovs-vswitchd with every file (database,
// sockets, pid files, logs, bridge management sockets) in one run directory, so the system
// instance (/var/run/openvswitch) is never read or touched. There is no openvswitch kernel
// module on these machines: bridges must use the userspace datapath (datapath_type=netdev).
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../exec.js';
import { ComponentError, isRunning, type KitContext, stopPidFile, waitUntil } from './common.js';
import { ensureDebianPackages } from './debian.js';
import { inNamespace } from './netns.js';

/**
 * Open vSwitch and the data-plane tools the node-agent drives next to it, plus ping, which
 * the tests and anyone debugging a network use to prove reachability.
 */
export const OVS_PACKAGES = [
  'openvswitch-switch',
  'dnsmasq-base',
  'iproute2',
  'iptables',
  'ethtool',
  'qemu-system-x86',
  'qemu-utils',
  'iputils-ping',
] as const;

export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** Client commands give up after this long instead of hanging on a dead daemon. */
const CLIENT_TIMEOUT_SECONDS = 20;

/**
 * The userspace datapath shows up as a tap device; a short-lived bridge with this name proves
 * it can be opened (see probeUserspaceDatapath).
 */
const PROBE_BRIDGE = 'ovs-dp-probe';

export async function installOvs(ctx: KitContext): Promise<void> {
  await ensureDebianPackages(ctx, OVS_PACKAGES);
}

/** The files of one private instance, all inside its run directory. */
export function ovsPaths(runDir: string) {
  return {
    database: join(runDir, 'conf.db'),
    dbSocket: join(runDir, 'db.sock'),
    ovsdbPidFile: join(runDir, 'ovsdb-server.pid'),
    ovsdbControl: join(runDir, 'ovsdb-server.ctl'),
    ovsdbLog: join(runDir, 'ovsdb-server.log'),
    vswitchdPidFile: join(runDir, 'ovs-vswitchd.pid'),
    vswitchdControl: join(runDir, 'ovs-vswitchd.ctl'),
    vswitchdLog: join(runDir, 'ovs-vswitchd.log'),
  };
}

/** Talks to one private instance. Every method resolves to the command's standard output. */
export interface OvsClient {
  runDir: string;
  /** OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR pointing at the run directory, for OVS tools run directly. */
  env: Record<string, string>;
  /** ovs-vsctl against this instance's database; waits until ovs-vswitchd applied the change. */
  vsctl(args: readonly string[]): Promise<string>;
  /** ovs-ofctl; bridge names resolve to `<runDir>/<bridge>.mgmt`. */
  ofctl(args: readonly string[]): Promise<string>;
  /** ovs-appctl addressed to this instance's ovs-vswitchd. */
  appctl(args: readonly string[]): Promise<string>;
}

export interface Ovs extends OvsClient {
  name: string;
  /** The network namespace the daemons run in; undefined for the current one. */
  netns: string | undefined;
  /** Stops exactly this instance's two daemons and removes its datapath's tap devices. */
  stop(): Promise<void>;
}

export function ovsEnv(runDir: string): Record<string, string> {
  return { OVS_RUNDIR: runDir, OVS_DBDIR: runDir, OVS_LOGDIR: runDir };
}

/**
 * Clients for an instance that is already running, given only its run directory (what
 * tests receive from the global setup). The clients work from any network namespace:
 * they only use unix sockets in the run directory.
 */
export function ovsClient(runDir: string): OvsClient {
  const paths = ovsPaths(runDir);
  const env = ovsEnv(runDir);
  const runWithEnv = (argv: string[]) => run(argv, { env: { ...process.env, ...env } });
  return {
    runDir,
    env,
    async vsctl(args) {
      const argv = [
        'ovs-vsctl',
        `--db=unix:${paths.dbSocket}`,
        `--timeout=${CLIENT_TIMEOUT_SECONDS}`,
        ...args,
      ];
      const result = await runWithEnv(argv);
      // When ovs-vswitchd cannot set up a bridge or port it was just given (no such device,
      // datapath unavailable) ovs-vsctl still exits 0 and only warns; callers must not
      // mistake that for success.
      if (result.stderr.includes('Error detected while setting up')) {
        throw new OvsSetupError(argv, await errorLines(paths.vswitchdLog));
      }
      return result.stdout.trimEnd();
    },
    ofctl: async (args) =>
      (await runWithEnv(['ovs-ofctl', `--timeout=${CLIENT_TIMEOUT_SECONDS}`, ...args])).stdout.trimEnd(),
    appctl: async (args) =>
      (
        await runWithEnv([
          'ovs-appctl',
          '-t',
          paths.vswitchdControl,
          `--timeout=${CLIENT_TIMEOUT_SECONDS}`,
          ...args,
        ])
      ).stdout.trimEnd(),
  };
}

/** ovs-vsctl committed the change, but ovs-vswitchd could not apply it. */
export class OvsSetupError extends Error {
  override name = 'OvsSetupError';
  constructor(
    readonly argv: readonly string[],
    readonly vswitchdErrors: string,
  ) {
    super(
      `${argv.join(' ')}: ovs-vswitchd could not set it up${vswitchdErrors ? `:\n${vswitchdErrors}` : ''}`,
    );
  }
}

/** The last error lines of an ovs-vswitchd log. */
async function errorLines(logFile: string): Promise<string> {
  const log = await readFile(logFile, 'utf8').catch(() => '');
  return log
    .split('\n')
    .filter((line) => /\|(ERR|WARN)\|/.test(line))
    .slice(-5)
    .join('\n');
}

/**
 * Starts (or adopts, when its daemons are still running) the private instance `name` with
 * run directory `${ctx.stateDir}/ovs-<name>`, inside network namespace `options.netns` when
 * given. Only one userspace Open vSwitch can work per network namespace (they would share the
 * `ovs-netdev` tap device), so a second instance needs a namespace of its own; starting one
 * where another already runs fails here with that explanation.
 */
export async function startOvs(
  ctx: KitContext,
  name: string,
  options: { netns?: string } = {},
): Promise<Ovs> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`OVS instance name '${name}': use a-z, 0-9 and -`);
  const runDir = join(ctx.stateDir, `ovs-${name}`);
  const client = ovsClient(runDir);
  const netns = options.netns;
  try {
    await startDaemons(ctx, name, client, netns);
  } catch (err) {
    // Whatever did start would otherwise outlive the caller, who never gets a stop().
    await stopOvs(client).catch(() => undefined);
    throw err;
  }
  return {
    ...client,
    name,
    netns,
    stop: () => stopOvs(client),
  };
}

async function startDaemons(ctx: KitContext, name: string, client: OvsClient, netns: string | undefined) {
  const runDir = client.runDir;
  const paths = ovsPaths(runDir);
  const daemonEnv = { ...process.env, ...client.env };
  await mkdir(runDir, { recursive: true });

  if (!(await fileExists(paths.database))) {
    await run(['ovsdb-tool', 'create', paths.database, VSWITCH_SCHEMA]);
  }

  // --detach returns once the daemon is ready (or with its error when it cannot start); the
  // daemon then lives on its own and is found again through its pid file.
  if (!(await pidFileIsLive(paths.ovsdbPidFile))) {
    ctx.progress(`starting ovsdb-server for OVS '${name}' in ${runDir}`);
    await run(
      inNamespace(netns, [
        'ovsdb-server',
        paths.database,
        `--remote=punix:${paths.dbSocket}`,
        `--pidfile=${paths.ovsdbPidFile}`,
        `--unixctl=${paths.ovsdbControl}`,
        `--log-file=${paths.ovsdbLog}`,
        '-vconsole:off',
        '--detach',
        '--no-chdir',
      ]),
      { env: daemonEnv, timeoutMs: 30_000 },
    );
  }
  // Creates the root Open_vSwitch row that ovs-vswitchd reads its configuration from.
  await client.vsctl(['--no-wait', 'init']);

  if (!(await pidFileIsLive(paths.vswitchdPidFile))) {
    ctx.progress(`starting ovs-vswitchd for OVS '${name}'${netns ? ` in namespace ${netns}` : ''}`);
    await run(
      inNamespace(netns, [
        'ovs-vswitchd',
        `unix:${paths.dbSocket}`,
        `--pidfile=${paths.vswitchdPidFile}`,
        `--unixctl=${paths.vswitchdControl}`,
        `--log-file=${paths.vswitchdLog}`,
        '-vconsole:off',
        '--detach',
        '--no-chdir',
      ]),
      { env: daemonEnv, timeoutMs: 30_000 },
    );
  }
  await waitUntil(`ovs-vswitchd of OVS '${name}'`, async () => (await client.appctl(['version'])) !== '', {
    timeoutMs: 30_000,
    logFile: paths.vswitchdLog,
  });
  await probeUserspaceDatapath(client, netns);
}

/**
 * Creates and deletes one netdev bridge. A second userspace Open vSwitch in the same network
 * namespace starts without complaint but cannot open its datapath; this turns that into an
 * error at start-up instead of a dead bridge later.
 */
async function probeUserspaceDatapath(client: OvsClient, netns: string | undefined) {
  const setUp = [
    '--may-exist',
    'add-br',
    PROBE_BRIDGE,
    '--',
    'set',
    'Bridge',
    PROBE_BRIDGE,
    'datapath_type=netdev',
  ];
  try {
    await client.vsctl(setUp);
  } catch (err) {
    if (!(err instanceof OvsSetupError)) throw err;
    throw new ComponentError(
      `the userspace datapath of the OVS in ${client.runDir} cannot be opened; is another ` +
        `ovs-vswitchd running in ${netns ? `network namespace ${netns}` : 'this network namespace'}?\n` +
        err.vswitchdErrors,
    );
  } finally {
    await client.vsctl(['--if-exists', 'del-br', PROBE_BRIDGE]).catch(() => undefined);
  }
}

/**
 * `exit --cleanup` makes ovs-vswitchd delete its tap devices (`ovs-netdev` and one per bridge),
 * which a plain SIGTERM would leave behind in the namespace. The pid files then make sure both
 * daemons are gone, by signal if they did not leave on their own.
 */
async function stopOvs(client: OvsClient): Promise<void> {
  const paths = ovsPaths(client.runDir);
  const vswitchdPid = await readPid(paths.vswitchdPidFile);
  if (vswitchdPid !== undefined && isRunning(vswitchdPid)) {
    await client.appctl(['exit', '--cleanup']).catch(() => undefined);
    // ovs-vswitchd removes its pid file on the way out, so wait on the pid read before.
    await waitUntil('ovs-vswitchd to exit', async () => !isRunning(vswitchdPid), {
      timeoutMs: 10_000,
      intervalMs: 100,
    }).catch(() => {
      if (isRunning(vswitchdPid)) process.kill(vswitchdPid, 'SIGKILL');
    });
  }
  await stopPidFile(paths.vswitchdPidFile);
  await stopPidFile(paths.ovsdbPidFile);
}

async function readPid(pidFile: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function pidFileIsLive(pidFile: string): Promise<boolean> {
  const pid = await readPid(pidFile);
  return pid !== undefined && isRunning(pid);
}

async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
