// Typed configuration shared by the three programs. Sources, lowest precedence first:
// built-in defaults, a YAML/JSON file (--config or OVERCAST_CONFIG), OVERCAST_* environment
// variables, then command-line flags. Every value is validated against one schema and a bad
// one is reported with where it came from.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';

const HostPort = Type.String({ pattern: '^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$' });

export const ConfigSchema = Type.Object(
  {
    /** Everything the all-in-one keeps: SQLite database, keys, images, component state. */
    dataDir: Type.String({ minLength: 1 }),
    /** Where the api-server listens, HOST:PORT. */
    listen: HostPort,
    /** The base URL clients reach the api-server at (catalog endpoints); default http://<listen>. */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^/]+' })),
    database: Type.Object(
      {
        /** sqlite:PATH (relative to dataDir) or mysql://user:pass@host:port/db. */
        url: Type.String({ pattern: '^(sqlite:.+|mysql://.+)$' }),
      },
      { additionalProperties: false },
    ),
    bus: Type.Object(
      {
        /** memory:// for the in-process bus, amqp://user:pass@host:port/vhost for RabbitMQ. */
        url: Type.String({ pattern: '^(memory://.*|amqps?://.+)$' }),
        /** Default RPC call timeout. */
        rpcTimeoutMs: Type.Integer({ minimum: 100 }),
      },
      { additionalProperties: false },
    ),
    api: Type.Object(
      {
        /** Largest accepted request body; larger ones get 413 (Keystone's default is 112 KiB). */
        maxBodyBytes: Type.Integer({ minimum: 1024 }),
        /** How long a graceful shutdown waits for in-flight requests. */
        shutdownGraceMs: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
        ),
      },
      { additionalProperties: false },
    ),
    identity: Type.Object(
      {
        /** Lifetime of a token (Keystone's [token] expiration). */
        tokenExpirationSeconds: Type.Integer({ minimum: 60, maximum: 31_536_000 }),
        /** bcrypt cost for passwords and application credential secrets (Keystone's default 12). */
        passwordHashRounds: Type.Integer({ minimum: 4, maximum: 31 }),
        /** Fernet key repository; relative paths are inside dataDir. */
        keyRepository: Type.String({ minLength: 1 }),
        /** Keys kept by fernet-rotate: staged + primary + secondaries (Keystone's max_active_keys). */
        maxActiveKeys: Type.Integer({ minimum: 2 }),
        /** Optional oslo.policy-style YAML/JSON file overriding the default rules of every service. */
        policyFile: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    image: Type.Object(
      {
        /** Directory of the filesystem image store; relative paths are inside dataDir. */
        storeDirectory: Type.String({ minLength: 1 }),
        /** Largest image accepted (Glance's image_size_cap, 1 TiB by default). */
        maxImageSizeBytes: Type.Integer({ minimum: 1 }),
        /** Image data one project may store in all (the image_size_total limit); -1 is no limit. */
        projectQuotaBytes: Type.Integer({ minimum: -1 }),
      },
      { additionalProperties: false },
    ),
    network: Type.Object(
      {
        /** Neutron's ml2 tenant_network_types: comma-separated, tried in order (vxlan, vlan, local). */
        tenantNetworkTypes: Type.String({ pattern: '^((vxlan|vlan|local)(,(vxlan|vlan|local))*)?$' }),
        /** Neutron's vni_ranges: comma-separated MIN:MAX ranges of VXLAN ids for tenant networks. */
        vniRanges: Type.String({ pattern: '^([0-9]+:[0-9]+(,[0-9]+:[0-9]+)*)?$' }),
        /** Neutron's network_vlan_ranges: PHYSNET or PHYSNET:MIN:MAX, comma-separated. */
        networkVlanRanges: Type.String({
          pattern: '^([A-Za-z0-9_.-]+(:[0-9]+:[0-9]+)?(,[A-Za-z0-9_.-]+(:[0-9]+:[0-9]+)?)*)?$',
        }),
        /** Neutron's global_physnet_mtu: the MTU of the underlying physical networks. */
        globalPhysnetMtu: Type.Integer({ minimum: 68, maximum: 65535 }),
        /** Neutron's path_mtu: the MTU of the overlay's underlay path; 0 means globalPhysnetMtu. */
        pathMtu: Type.Integer({ minimum: 0, maximum: 65535 }),
        /** Neutron's physical_network_mtus: PHYSNET:MTU, comma-separated. */
        physicalNetworkMtus: Type.String({
          pattern: '^([A-Za-z0-9_.-]+:[0-9]+(,[A-Za-z0-9_.-]+:[0-9]+)*)?$',
        }),
        /** Neutron's base_mac: ports' MAC addresses keep its non-zero octets, the rest are random. */
        baseMac: Type.String({ pattern: '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$' }),
        /** Whether networks get a DHCP port (device_owner network:dhcp) for their DHCP subnets. */
        dhcp: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    node: Type.Object(
      {
        /** The name this node-agent serves RPC under (nova's `host`). */
        host: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' }),
        heartbeatIntervalMs: Type.Integer({ minimum: 100 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

export function defaultConfig(): Config {
  return {
    dataDir: '.overcast',
    listen: '127.0.0.1:5000',
    database: { url: 'sqlite:overcast.sqlite' },
    bus: { url: 'memory://', rpcTimeoutMs: 30_000 },
    api: { maxBodyBytes: 114_688, shutdownGraceMs: 10_000 },
    log: { level: 'info' },
    identity: {
      tokenExpirationSeconds: 3600,
      passwordHashRounds: 12,
      keyRepository: 'fernet-keys',
      maxActiveKeys: 3,
    },
    image: { storeDirectory: 'images', maxImageSizeBytes: 1_099_511_627_776, projectQuotaBytes: -1 },
    network: {
      tenantNetworkTypes: 'vxlan',
      vniRanges: '1:1000',
      networkVlanRanges: 'physnet',
      globalPhysnetMtu: 1500,
      pathMtu: 0,
      physicalNetworkMtus: '',
      baseMac: 'fa:16:3e:00:00:00',
      dhcp: true,
    },
    node: { host: hostname(), heartbeatIntervalMs: 10_000 },
  };
}

/** Environment variable → config path. Numbers are parsed; the schema decides validity. */
export const ENVIRONMENT_VARIABLES: Record<string, string> = {
  OVERCAST_DATA_DIR: 'dataDir',
  OVERCAST_LISTEN: 'listen',
  OVERCAST_PUBLIC_URL: 'publicUrl',
  OVERCAST_DATABASE_URL: 'database.url',
  OVERCAST_BUS_URL: 'bus.url',
  OVERCAST_RPC_TIMEOUT_MS: 'bus.rpcTimeoutMs',
  OVERCAST_MAX_BODY_BYTES: 'api.maxBodyBytes',
  OVERCAST_SHUTDOWN_GRACE_MS: 'api.shutdownGraceMs',
  OVERCAST_LOG_LEVEL: 'log.level',
  OVERCAST_TOKEN_EXPIRATION_SECONDS: 'identity.tokenExpirationSeconds',
  OVERCAST_PASSWORD_HASH_ROUNDS: 'identity.passwordHashRounds',
  OVERCAST_FERNET_KEY_REPOSITORY: 'identity.keyRepository',
  OVERCAST_POLICY_FILE: 'identity.policyFile',
  OVERCAST_IMAGE_STORE_DIRECTORY: 'image.storeDirectory',
  OVERCAST_IMAGE_MAX_SIZE_BYTES: 'image.maxImageSizeBytes',
  OVERCAST_IMAGE_PROJECT_QUOTA_BYTES: 'image.projectQuotaBytes',
  OVERCAST_TENANT_NETWORK_TYPES: 'network.tenantNetworkTypes',
  OVERCAST_VNI_RANGES: 'network.vniRanges',
  OVERCAST_NETWORK_VLAN_RANGES: 'network.networkVlanRanges',
  OVERCAST_GLOBAL_PHYSNET_MTU: 'network.globalPhysnetMtu',
  OVERCAST_PATH_MTU: 'network.pathMtu',
  OVERCAST_PHYSICAL_NETWORK_MTUS: 'network.physicalNetworkMtus',
  OVERCAST_BASE_MAC: 'network.baseMac',
  OVERCAST_NETWORK_DHCP: 'network.dhcp',
  OVERCAST_NODE_HOST: 'node.host',
  OVERCAST_HEARTBEAT_INTERVAL_MS: 'node.heartbeatIntervalMs',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  /** Path of a YAML or JSON file; falls back to OVERCAST_CONFIG. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, by config path ("listen", "database.url"). */
  overrides?: Record<string, string | number | undefined>;
}

type Source = string;

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const merged = defaultConfig() as unknown as Record<string, unknown>;
  const sources = new Map<string, Source>();

  const file = options.file ?? env.OVERCAST_CONFIG;
  if (file) {
    const fromFile = readConfigFile(file);
    for (const [path, value] of flatten(fromFile)) {
      setPath(merged, path, value);
      sources.set(path, `file ${file}`);
    }
  }
  for (const [variable, path] of Object.entries(ENVIRONMENT_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    setPath(merged, path, coerce(raw));
    sources.set(path, `${variable}=${JSON.stringify(raw)}`);
  }
  for (const [path, raw] of Object.entries(options.overrides ?? {})) {
    if (raw === undefined) continue;
    setPath(merged, path, typeof raw === 'string' ? coerce(raw) : raw);
    sources.set(path, `--${path.split('.').at(-1)}`);
  }

  const problems = [...Value.Errors(ConfigSchema, merged)].map((error) => {
    const path = error.path.slice(1).replaceAll('/', '.') || '(root)';
    const source = sources.get(path) ?? 'default';
    return `  ${path}: ${error.message} (got ${JSON.stringify(error.value)} from ${source})`;
  });
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n${[...new Set(problems)].join('\n')}`);
  }
  const config = merged as unknown as Config;
  config.dataDir = resolve(config.dataDir);
  return config;
}

/** The URL clients use to reach the api-server. */
export function publicBaseUrl(config: Pick<Config, 'publicUrl' | 'listen'>): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const { host, port } = splitHostPort(config.listen);
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

export function splitHostPort(value: string): { host: string; port: number } {
  const index = value.lastIndexOf(':');
  const host = value.slice(0, index).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(value.slice(index + 1)) };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping at the top level`);
  }
  return parsed as Record<string, unknown>;
}

function flatten(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, inner]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? flatten(inner as Record<string, unknown>, path)
      : [[path, inner] as [string, unknown]];
  });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function coerce(raw: string): string | number | boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return /^-?\d+$/.test(raw) ? Number(raw) : raw;
}
