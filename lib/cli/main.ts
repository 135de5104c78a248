// `overcast` — one executable for the three programs and their tools. Each command loads
// its implementation only when it runs, so `--help` and short commands start quickly.
import { Command, CommanderError, Option } from 'commander';
import { type Config, ConfigError, loadConfig, splitHostPort } from '../config.js';
import { createLogger, type LogLevel } from '../log.js';
import {
  DependencyUnavailable,
  EXIT_CONFIG,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  UsageError,
} from './exit-codes.js';
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
const publicUrlOption = () => new Option('--public-url <url>', 'base URL clients reach the api-server at');
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
    .addOption(publicUrlOption())
    .action(
      act(async (_options, command: Command) => {
        const config = configFrom(command);
        const { runApiServer } = await import('./commands/programs.js');
        return runApiServer(config, loggerFor(config, 'api-server'));
      }),
    );

  program
    .command('operator')
    .description('reconcile Overcast custom resources against an OpenStack API')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, then in-cluster)')
    .option('--probes <host:port>', 'where /metrics, /healthz and /readyz listen (default: 0.0.0.0:8081)')
    .option(
      '--resync-period <duration>',
      'compare objects naming no resyncPeriod with the cloud this often, such as 10m (default: 0s, never)',
    )
    .action(
      act(
        async (
          options: { kubeconfig?: string; probes?: string; resyncPeriod?: string },
          command: Command,
        ) => {
          const config = configFrom(command);
          const { runOperator } = await import('./commands/programs.js');
          return runOperator(config, loggerFor(config, 'operator'), {
            kubeconfig: options.kubeconfig,
            probes: options.probes === undefined ? undefined : splitHostPort(options.probes),
            resyncPeriod: options.resyncPeriod,
          });
        },
      ),
    );

  program
    .command('node-agent')
    .description('run the compute/network node agent (QEMU, Open vSwitch, namespaces)')
    .option('--host <name>', 'the host name this agent serves RPC under')
    .addOption(busOption())
    .action(
      act(async (_options, command: Command) => {
        const config = configFrom(command);
        const { runNodeAgent } = await import('./commands/programs.js');
        return runNodeAgent(config, loggerFor(config, 'node-agent'));
      }),
    );

  program
    .command('up')
    .description('all-in-one: api-server and node-agent in one process, on SQLite and the in-process bus')
    .addOption(dataDirOption())
    .addOption(listenOption())
    .addOption(publicUrlOption())
    .option(
      '--with <components>',
      'also start real components from the kit, kept in DIR/components: mariadb,rabbitmq,kubernetes',
    )
    .action(
      act(async (options: { with?: string }, command: Command) => {
        const config = configFrom(command);
        const { parseUpComponents, runUp } = await import('./commands/up.js');
        return runUp(config, loggerFor(config, 'overcast'), parseUpComponents(options.with));
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
        const { dbSync } = await import('./commands/manage.js');
        return dbSync(config, loggerFor(config, 'manage'));
      }),
    );
  manage
    .command('db-version')
    .description('show applied and pending migrations per service')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .action(
      act(async (_options, command: Command) => {
        const { dbVersion } = await import('./commands/manage.js');
        return dbVersion(configFrom(command));
      }),
    );

  manage
    .command('bootstrap')
    .description(
      'create the Default domain, admin project/user, default roles, region and catalog (idempotent)',
    )
    .option('--password <password>', 'admin password (default: the stored one, else a new random one)')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(listenOption())
    .addOption(publicUrlOption())
    .action(
      act(async (options: { password?: string }, command: Command) => {
        const config = configFrom(command);
        const { bootstrap } = await import('./commands/manage.js');
        return bootstrap(config, loggerFor(config, 'manage'), options.password);
      }),
    );
  manage
    .command('fernet-setup')
    .description('create the Fernet key repository (staged and primary key) if it is empty')
    .addOption(dataDirOption())
    .action(
      act(async (_options, command: Command) => {
        const { fernetSetup } = await import('./commands/manage.js');
        return fernetSetup(configFrom(command));
      }),
    );
  manage
    .command('fernet-rotate')
    .description('promote the staged Fernet key to primary; tokens of the previous primary stay valid')
    .addOption(dataDirOption())
    .action(
      act(async (_options, command: Command) => {
        const { fernetRotate } = await import('./commands/manage.js');
        return fernetRotate(configFrom(command));
      }),
    );

  program
    .command('openrc')
    .description('print the environment for the openstack CLI (eval "$(overcast openrc)")')
    .addOption(dataDirOption())
    .addOption(listenOption())
    .addOption(publicUrlOption())
    .action(
      act(async (_options, command: Command) => {
        process.stdout.write(await openrcFor(configFrom(command)));
        return EXIT_OK;
      }),
    );

  const kit = program
    .command('kit')
    .description('install the local components (MariaDB, RabbitMQ, Kubernetes, Open vSwitch, openstack CLI)');
  kit
    .command('install')
    .description('install what is missing, cached by version (all components when none are named)')
    .argument('[components...]', 'any of: mariadb, rabbitmq, ovs, openstack, kubernetes')
    .action(
      act(async (names: string[]) => {
        const { kitInstall } = await import('./commands/kit.js');
        return kitInstall(names);
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
    // --help is not a failure; commander has already printed what was wrong otherwise.
    return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code)
      ? EXIT_OK
      : EXIT_USAGE;
  }
  const known: [new (...args: never[]) => Error, number][] = [
    [UsageError, EXIT_USAGE],
    [ConfigError, EXIT_CONFIG],
    [DependencyUnavailable, EXIT_UNAVAILABLE],
  ];
  for (const [type, code] of known) {
    if (err instanceof type) {
      process.stderr.write(`overcast: ${err.message}\n`);
      return code;
    }
  }
  process.stderr.write(`overcast: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT_FAILURE;
}
