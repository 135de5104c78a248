// A private RabbitMQ node for one run of components: its own Erlang node name, AMQP and
// distribution ports on loopback, data, logs, config and Erlang cookie, all under
// `${stateDir}/rabbitmq`. It never reads or touches the machine's own rabbitmq-server
// (/etc/rabbitmq, /var/lib/rabbitmq, the rabbitmq user), so it can run beside one.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { run } from '../exec.js';
import { ComponentError, freePort, isRunning, type KitContext, startDaemon, waitUntil } from './common.js';
import { ensureDebianPackages } from './debian.js';

export interface RabbitMq {
  /** amqp://overcast:<password>@127.0.0.1:<port>/overcast */
  url: string;
  port: number;
  /** The node's own directory (`${ctx.stateDir}/rabbitmq`); restartRabbitMqBroker takes it. */
  stateDir: string;
  /** Stops exactly this node and waits until its Erlang VM is gone. */
  stop(): Promise<void>;
}

export const RABBITMQ_VHOST = 'overcast';
export const RABBITMQ_USER = 'overcast';

// The scripts behind /usr/sbin/rabbitmq-*: those wrappers switch to the rabbitmq user and
// /var/lib/rabbitmq, which is the system instance's home; these take our environment as is.
const RABBITMQ_SCRIPTS = '/usr/lib/rabbitmq/bin';
const STARTUP_TIMEOUT_MS = 120_000;
const CTL_TIMEOUT_MS = 60_000;

/** What restartRabbitMqBroker and a later start need to find the node again. */
interface NodeRecord {
  nodeName: string;
  password: string;
  amqpPort: number;
  distPort: number;
}

interface NodeLayout {
  dir: string;
  home: string;
  mnesiaBase: string;
  logBase: string;
  pidFile: string;
  configFile: string;
  recordFile: string;
}

function layoutOf(dir: string): NodeLayout {
  return {
    dir,
    home: join(dir, 'home'),
    mnesiaBase: join(dir, 'mnesia'),
    logBase: join(dir, 'log'),
    pidFile: join(dir, 'rabbitmq.pid'),
    // The classic Erlang-term format: with a .config file the broker skips the cuttlefish
    // schema translation, which is a noticeable part of its start-up time.
    configFile: join(dir, 'rabbitmq.config'),
    recordFile: join(dir, 'node.json'),
  };
}

function amqpUrl(record: NodeRecord): string {
  return `amqp://${RABBITMQ_USER}:${encodeURIComponent(record.password)}@127.0.0.1:${record.amqpPort}/${RABBITMQ_VHOST}`;
}

export async function installRabbitMq(ctx: KitContext): Promise<void> {
  await ensureDebianPackages(ctx, ['rabbitmq-server']);
}

/**
 * Starts the private node, or hands back the one this state directory already runs. A node
 * recorded there but no longer running is started again under the same name, so its
 * durable queues and messages survive.
 */
export async function startRabbitMq(ctx: KitContext): Promise<RabbitMq> {
  const layout = layoutOf(join(ctx.stateDir, 'rabbitmq'));
  const previous = await readRecord(layout);
  if (previous && (await acceptsConnections(amqpUrl(previous)))) {
    ctx.progress(`rabbitmq: reusing running node ${previous.nodeName}`);
    return handleFor(layout, previous);
  }

  const record: NodeRecord = previous
    ? {
        ...previous,
        amqpPort: (await portIsFree(previous.amqpPort)) ? previous.amqpPort : await freePort(),
        distPort: (await portIsFree(previous.distPort)) ? previous.distPort : await freePort(),
      }
    : {
        nodeName: `overcast-${randomBytes(4).toString('hex')}@localhost`,
        password: randomBytes(18).toString('base64url'),
        amqpPort: await freePort(),
        distPort: await freePort(),
      };
  await prepareNodeDirectory(layout, record);

  ctx.progress(`rabbitmq: starting node ${record.nodeName} on 127.0.0.1:${record.amqpPort}`);
  const started = Date.now();
  const daemon = await startDaemon(ctx, 'rabbitmq', [join(RABBITMQ_SCRIPTS, 'rabbitmq-server')], {
    env: nodeEnvironment(layout, record),
  });
  const handle = handleFor(layout, record, daemon);
  try {
    await waitUntil(`rabbitmq node ${record.nodeName}`, () => acceptsConnections(amqpUrl(record)), {
      timeoutMs: STARTUP_TIMEOUT_MS,
      intervalMs: 200,
      isAlive: daemon.isAlive,
      logFile: daemon.logFile,
    });
  } catch (err) {
    await handle.stop().catch(() => undefined);
    throw err;
  }
  ctx.progress(`rabbitmq: node ${record.nodeName} ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return handle;
}

/**
 * Restarts the broker application (not the Erlang VM) of the node recorded in `stateDir`
 * (the `stateDir` of a RabbitMq, or the kit state directory holding it), and resolves once
 * it accepts AMQP connections again. Every client connection is closed by the broker on
 * the way down, exactly as in a real broker restart; durable queues and persistent
 * messages survive it, transient queues do not.
 */
export async function restartRabbitMqBroker(stateDir: string): Promise<void> {
  const layout = (await readRecord(layoutOf(stateDir)))
    ? layoutOf(stateDir)
    : layoutOf(join(stateDir, 'rabbitmq'));
  const record = await readRecord(layout);
  if (!record) throw new ComponentError(`no RabbitMQ node is recorded in ${stateDir}`);
  await rabbitmqctl(layout, record, ['stop_app']);
  await rabbitmqctl(layout, record, ['start_app']);
  await waitUntil(
    `rabbitmq node ${record.nodeName} after restart`,
    () => acceptsConnections(amqpUrl(record)),
    {
      timeoutMs: STARTUP_TIMEOUT_MS,
      intervalMs: 100,
    },
  );
}

function handleFor(
  layout: NodeLayout,
  record: NodeRecord,
  daemon?: { stop(graceMs?: number): Promise<void> },
): RabbitMq {
  let stopping: Promise<void> | undefined;
  const stopNode = async () => {
    const beamPid = await readPid(layout.pidFile);
    if (beamPid !== undefined && isRunning(beamPid)) {
      // `stop <pidfile>` returns only once that OS process has exited.
      await rabbitmqctl(layout, record, ['stop', layout.pidFile], { allowFailure: true });
    }
    // The VM must be gone even if rabbitmqctl could not reach it (a wedged node).
    if (beamPid !== undefined && isRunning(beamPid)) {
      process.kill(beamPid, 'SIGKILL');
      while (isRunning(beamPid)) await sleep(50);
    }
    // The rabbitmq-server shell that waited on the VM exits with it; stop() just reaps it.
    await daemon?.stop(5_000);
  };
  return {
    url: amqpUrl(record),
    port: record.amqpPort,
    stateDir: layout.dir,
    stop() {
      stopping ??= stopNode();
      return stopping;
    },
  };
}

async function prepareNodeDirectory(layout: NodeLayout, record: NodeRecord): Promise<void> {
  await mkdir(layout.home, { recursive: true, mode: 0o700 });
  await chmod(layout.dir, 0o700);
  await mkdir(layout.mnesiaBase, { recursive: true });
  await mkdir(layout.logBase, { recursive: true });
  // A cookie of our own in a HOME of our own: the server and our rabbitmqctl calls agree on
  // it, and nothing else on the machine (root's ~/.erlang.cookie included) is read or created.
  const cookieFile = join(layout.home, '.erlang.cookie');
  if (!(await readFile(cookieFile, 'utf8').catch(() => ''))) {
    await writeFile(cookieFile, randomBytes(24).toString('hex').toUpperCase(), { mode: 0o400 });
  }
  // The machine's rabbitmq-env.conf and plugin list are replaced by empty ones of ours: no
  // management plugin, no settings inherited from the system instance.
  await writeFile(join(layout.dir, 'rabbitmq-env.conf'), '# private node: no overrides\n');
  await writeFile(join(layout.dir, 'enabled_plugins'), '[].\n');
  // The user, password and vhost are created by the broker itself on its first boot, which
  // is much faster than a rabbitmqctl call per item after start-up.
  const config = `[
 {rabbit, [
   {tcp_listeners, [{"127.0.0.1", ${record.amqpPort}}]},
   {default_vhost, <<"${RABBITMQ_VHOST}">>},
   {default_user, <<"${RABBITMQ_USER}">>},
   {default_pass, <<"${record.password}">>},
   {default_permissions, [<<".*">>, <<".*">>, <<".*">>]},
   {default_user_tags, [administrator]}
 ]}
].
`;
  await writeFile(layout.configFile, config, { mode: 0o600 });
  await writeFile(layout.recordFile, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

function nodeEnvironment(layout: NodeLayout, record: NodeRecord): NodeJS.ProcessEnv {
  // Inherited RABBITMQ_* / ERL_* settings belong to somebody else's node.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('RABBITMQ_') && !name.startsWith('ERL_')),
  );
  return {
    ...inherited,
    HOME: layout.home,
    RABBITMQ_CONF_ENV_FILE: join(layout.dir, 'rabbitmq-env.conf'),
    RABBITMQ_NODENAME: record.nodeName,
    RABBITMQ_USE_LONGNAME: 'false',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(record.amqpPort),
    RABBITMQ_DIST_PORT: String(record.distPort),
    RABBITMQ_MNESIA_BASE: layout.mnesiaBase,
    RABBITMQ_LOG_BASE: layout.logBase,
    RABBITMQ_PID_FILE: layout.pidFile,
    RABBITMQ_CONFIG_FILE: layout.configFile,
    RABBITMQ_ADVANCED_CONFIG_FILE: join(layout.dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(layout.dir, 'enabled_plugins'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(layout.dir, 'plugins-expand'),
    // Erlang distribution (node ↔ rabbitmqctl) on loopback only. epmd is shared by every
    // Erlang node on the machine; if we are the first, it too listens on loopback only.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
}

async function rabbitmqctl(
  layout: NodeLayout,
  record: NodeRecord,
  args: readonly string[],
  options: { allowFailure?: boolean } = {},
): Promise<void> {
  await run([join(RABBITMQ_SCRIPTS, 'rabbitmqctl'), '-n', record.nodeName, ...args], {
    env: nodeEnvironment(layout, record),
    timeoutMs: CTL_TIMEOUT_MS,
    allowFailure: options.allowFailure,
  });
}

/** True once the broker has booted far enough to log our user into our vhost. */
async function acceptsConnections(url: string): Promise<boolean> {
  const connection = await amqp.connect(url, { timeout: 2_000 }).catch(() => undefined);
  if (!connection) return false;
  // A broker going down can drop the connection before we close it; that is not our error.
  connection.on('error', () => undefined);
  await connection.close().catch(() => undefined);
  return true;
}

async function readRecord(layout: NodeLayout): Promise<NodeRecord | undefined> {
  const text = await readFile(layout.recordFile, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const record = JSON.parse(text) as NodeRecord;
  return typeof record.nodeName === 'string' && typeof record.password === 'string' ? record : undefined;
}

async function readPid(pidFile: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
