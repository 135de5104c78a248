// `overcast` — one executable for the three programs and their tools.
import { mkdir } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { startApiServer } from '../../api-server/main.js';
import { SERVICE_MIGRATIONS } from '../../api-server/services.js';
import { startNodeAgent } from '../../node-agent/main.js';
import { startOperator } from '../../operator/main.js';
import { createBusFromConfig } from '../bus/index.js';
import { type Config, ConfigError, loadConfig, publicBaseUrl } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest, migrationStatus } from '../db/migrations.js';
import { defaultCacheDir, type KitContext } from '../kit/common.js';
import { KIT_COMPONENTS } from '../kit/index.js';
import { createLogger, type LogLevel } from '../log.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE } from './exit-codes.js';
import { closeOnSignal } from './lifecycle.js';
import { openrcFor } from './openrc.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Flag name (commander's camelCase) → configuration path. */
const FLAG_TO_CONFIG: Record<string, string> = {
  dataDir: 'dataDir',
  listen: 'listen',
  publicUrl: 'publicUrl',
  databaseUrl: 'database.url',
  busUrl: 'bus.url',
  host: 'node.host',
  logLevel: 'log.level',
};

class UnavailableError extends Error {}

function configFrom(command: Command): Config {
  const options = command.optsWithGlobals() as Record<string, string | undefined>;
  const overrides: Record<string, string | undefined> = {};
  for (const [flag, path] of Object.entries(FLAG_TO_CONFIG)) overrides[path] = options[flag];
  return loadConfig({ file: options.config, overrides });
}

function loggerFor(config: Config, name: string) {
  return createLogger(name, config.log.level as LogLevel);
}

const dataDirOption = () => new Option('--data-dir <dir>', 'directory holding everything Overcast keeps');
const listenOption = () => new Option('--listen <host:port>', 'address the api-server listens on');
const databaseOption = () =>
  new Option('--database-url <url>', 'sqlite:<path> or mysql://user:pass@host:port/db');
const busOption = () => new Option('--bus-url <url>', 'memory:// or amqp://user:pass@host:port/vhost');

/**
 * Builds the command tree. Every action resolves with an exit code (long-running commands
 * with the code their shutdown produced), handed to `setExitCode`.
 */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const act =
    // biome-ignore lint/suspicious/noExplicitAny: commander passes each action its own arguments
      (action: (...args: any[]) => Promise<number>) =>
      async (...args: unknown[]) =>
        setExitCode(await action(...args));
  const program = new Command('overcast')
    .description('An OpenStack-compatible cloud installed and driven as Kubernetes software')
    .option('--config <file>', 'YAML/JSON configuration file (also $OVERCAST_CONFIG)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS))
    .showHelpAfterError()
    .exitOverride();

  program
    .command('api-server')
    .description('serve the OpenStack APIs (Keystone, Glance, Nova, Neutron, Placement)')
    .addOption(listenOption())
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(busOption())
    .option('--public-url <url>', 'base URL clients reach the api-server at')
    .action(
      act(async (_options, command: Command) => {
        const config = configFrom(command);
        const log = loggerFor(config, 'api-server');
        const server = await startApiServer(config, log).catch((err: unknown) => {
          throw new UnavailableError((err as Error).message);
        });
        return closeOnSignal([{ name: 'api-server', close: server.close }], log, config.api.shutdownGraceMs);
      }),
    );

  program
    .command('operator')
    .description('reconcile Overcast custom resources against an OpenStack API')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, then in-cluster)')
    .action(
      act(async (options: { kubeconfig?: string }, command: Command) => {
        const config = configFrom(command);
        const log = loggerFor(config, 'operator');
        const operator = await startOperator(options, log).catch((err: unknown) => {
          throw new UnavailableError((err as Error).message);
        });
        return closeOnSignal([{ name: 'operator', close: operator.close }], log, config.api.shutdownGraceMs);
      }),
    );

  program
    .command('node-agent')
    .description('run the compute/network node agent (QEMU, Open vSwitch, namespaces)')
    .option('--host <name>', 'the host name this agent serves RPC under')
    .addOption(busOption())
    .action(
      act(async (_options, command: Command) => {
        const config = configFrom(command);
        const log = loggerFor(config, 'node-agent');
        const bus = await createBusFromConfig(config, log.child({ component: 'bus' })).catch(
          (err: unknown) => {
            throw new UnavailableError(`cannot connect to the message bus: ${(err as Error).message}`);
          },
        );
        const agent = await startNodeAgent(config, bus, log);
        return closeOnSignal(
          [
            { name: 'bus', close: () => bus.close() },
            { name: 'node-agent', close: agent.close },
          ],
          log,
          config.api.shutdownGraceMs,
        );
      }),
    );

  program
    .command('up')
    .description('all-in-one: api-server and node-agent in one process on the embedded defaults')
    .addOption(dataDirOption())
    .addOption(listenOption())
    .option('--public-url <url>', 'base URL clients reach the api-server at')
    .action(
      act(async (_options, command: Command) => {
        const config = configFrom(command);
        const log = loggerFor(config, 'overcast');
        await mkdir(config.dataDir, { recursive: true });
        const database = await openDatabase(config.database.url, { dataDir: config.dataDir });
        await migrateToLatest(database, SERVICE_MIGRATIONS, log);
        const bus = await createBusFromConfig(config, log.child({ component: 'bus' }));
        const agent = await startNodeAgent(config, bus, log.child({ component: 'node-agent' }));
        const server = await startApiServer(config, log.child({ component: 'api-server' }), {
          database,
          bus,
        });
        process.stderr.write(
          `Overcast is up: API at ${publicBaseUrl({ ...config, listen: new URL(server.url).host })}, data in ${config.dataDir}\n`,
        );
        return closeOnSignal(
          [
            { name: 'database', close: () => database.destroy() },
            { name: 'bus', close: () => bus.close() },
            { name: 'node-agent', close: agent.close },
            { name: 'api-server', close: server.close },
          ],
          log,
          config.api.shutdownGraceMs,
        );
      }),
    );

  const manage = program.command('manage').description('administrative tasks');
  manage
    .command('db-sync')
    .description("create or upgrade every service's database schema")
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .action(
      act(async (_options, command: Command) => {
        const config = configFrom(command);
        const log = loggerFor(config, 'manage');
        await mkdir(config.dataDir, { recursive: true });
        const database = await openDatabase(config.database.url, { dataDir: config.dataDir }).catch(
          (err: unknown) => {
            throw new UnavailableError(`cannot open the database: ${(err as Error).message}`);
          },
        );
        try {
          const applied = await migrateToLatest(database, SERVICE_MIGRATIONS, log);
          process.stdout.write(`db-sync: ${applied.length} migrations applied\n`);
        } finally {
          await database.destroy();
        }
        return EXIT_OK;
      }),
    );
  manage
    .command('db-version')
    .description('show applied and pending migrations per service')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .action(
      act(async (_options, command: Command) => {
        const config = configFrom(command);
        const database = await openDatabase(config.database.url, { dataDir: config.dataDir }).catch(
          (err: unknown) => {
            throw new UnavailableError(`cannot open the database: ${(err as Error).message}`);
          },
        );
        try {
          for (const line of await migrationStatus(database, SERVICE_MIGRATIONS))
            process.stdout.write(`${line}\n`);
        } finally {
          await database.destroy();
        }
        return EXIT_OK;
      }),
    );

  program
    .command('openrc')
    .description('print the environment for the openstack CLI (eval "$(overcast openrc)")')
    .addOption(dataDirOption())
    .addOption(listenOption())
    .option('--public-url <url>', 'base URL clients reach the api-server at')
    .action(
      act(async (_options, command: Command) => {
        const config = configFrom(command);
        process.stdout.write(await openrcFor(config));
        return EXIT_OK;
      }),
    );

  const kit = program
    .command('kit')
    .description('install the local components (MariaDB, RabbitMQ, Kubernetes, Open vSwitch, openstack CLI)');
  kit
    .command('install')
    .description('install what is missing, cached by version (all components when none are named)')
    .argument('[components...]', `any of: ${KIT_COMPONENTS.map((c) => c.name).join(', ')}`)
    .action(
      act(async (names: string[]) => {
        const unknown = names.filter((name) => !KIT_COMPONENTS.some((c) => c.name === name));
        if (unknown.length > 0) {
          throw new CommanderError(
            EXIT_USAGE,
            'overcast.unknownComponent',
            `unknown component: ${unknown.join(', ')}`,
          );
        }
        const ctx: KitContext = {
          cacheDir: defaultCacheDir(),
          stateDir: defaultCacheDir(),
          progress: (line) => process.stderr.write(`[kit] ${line}\n`),
        };
        for (const component of KIT_COMPONENTS) {
          if (names.length > 0 && !names.includes(component.name)) continue;
          ctx.progress(`${component.name}: ${component.description}`);
          await component.install(ctx);
        }
        ctx.progress('all requested components are installed');
        return EXIT_OK;
      }),
    );

  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version are not failures.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
    if (err.code === 'commander.help') return EXIT_OK;
    if (err.code === 'overcast.unknownComponent') process.stderr.write(`error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`overcast: ${err.message}\n`);
    return EXIT_CONFIG;
  }
  if (err instanceof UnavailableError) {
    process.stderr.write(`overcast: ${err.message}\n`);
    return EXIT_UNAVAILABLE;
  }
  process.stderr.write(`overcast: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT_FAILURE;
}
