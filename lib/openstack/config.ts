// Which cloud to talk to and how to authenticate, read the way openstacksdk reads it:
// clouds.yaml with secure.yaml merged over it, a cloud chosen by `--os-cloud` or OS_CLOUD,
// and the OS_* environment variables as a cloud of their own ("envvars") when no cloud is
// named. The operator calls parseCloudsYaml with a Secret's text and no environment at all.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { EndpointInterface } from './catalog.js';
import { normalizeInterface } from './catalog.js';
import { ConfigurationError } from './errors.js';

/** The Keystone v3 auth options, named as in clouds.yaml's `auth:` block. */
export interface CloudAuth {
  /** Required by every auth type but `none`. */
  auth_url?: string;
  username?: string;
  user_id?: string;
  password?: string;
  user_domain_name?: string;
  user_domain_id?: string;
  project_name?: string;
  project_id?: string;
  project_domain_name?: string;
  project_domain_id?: string;
  domain_name?: string;
  domain_id?: string;
  system_scope?: string;
  application_credential_id?: string;
  application_credential_name?: string;
  application_credential_secret?: string;
  token?: string;
}

const AUTH_KEYS: readonly (keyof CloudAuth)[] = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'user_domain_name',
  'user_domain_id',
  'project_name',
  'project_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'system_scope',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
  'token',
];

/**
 * keystoneauth's v3 plugins this client speaks, and `none`: no Keystone at all, every service at
 * its `<type>_endpoint_override` (a Neutron in noauth mode, as the benchmarks run it).
 */
export type AuthType = 'password' | 'v3applicationcredential' | 'token' | 'none';

const AUTH_TYPE_ALIASES: Record<string, AuthType> = {
  password: 'password',
  v3password: 'password',
  v3applicationcredential: 'v3applicationcredential',
  applicationcredential: 'v3applicationcredential',
  token: 'token',
  v3token: 'token',
  none: 'none',
  noauth: 'none',
};

/** Per service type (underscored, e.g. `block_storage`): what clouds.yaml's `<type>_*` keys say. */
export interface ServiceSettings {
  endpointOverride?: string;
  interface?: EndpointInterface;
  apiVersion?: string;
}

export interface CloudConfig {
  /** The cloud's name in clouds.yaml, or "envvars". */
  name: string;
  authType: AuthType;
  auth: CloudAuth;
  regionName: string | undefined;
  interface: EndpointInterface;
  /** false for `verify: false` / `insecure: true` / OS_INSECURE. */
  verify: boolean;
  /** Path of a CA bundle to trust (`cacert` / OS_CACERT). */
  cacert: string | undefined;
  apiTimeoutMs: number | undefined;
  services: Record<string, ServiceSettings>;
}

export interface CloudSelection {
  /** `--os-cloud`; overrides OS_CLOUD. */
  cloud?: string;
  /** `--os-region-name`; overrides OS_REGION_NAME and the cloud's region_name. */
  regionName?: string;
  /** The environment (process.env for loadCloudConfig when absent); the operator passes none. */
  env?: Readonly<Record<string, string | undefined>>;
}

type RawCloud = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `clouds:` map of a clouds.yaml or secure.yaml text. */
function cloudsOf(text: string, what: string): Record<string, RawCloud> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    // The YAML parser quotes the offending line, which may hold a password.
    throw new ConfigurationError(`${what} is not valid YAML (${(error as Error).name})`);
  }
  if (document === null || document === undefined) return {};
  if (!isRecord(document)) throw new ConfigurationError(`${what} is not a mapping`);
  const clouds = document.clouds ?? {};
  if (!isRecord(clouds) || !Object.values(clouds).every(isRecord)) {
    throw new ConfigurationError(`${what}: "clouds" must map cloud names to mappings`);
  }
  return clouds as Record<string, RawCloud>;
}

/** `overlay` merged into `base` key by key, mappings recursively (openstacksdk's _merge_clouds). */
function deepMerge(base: RawCloud, overlay: RawCloud): RawCloud {
  const merged: RawCloud = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const existing = merged[key];
    merged[key] = isRecord(existing) && isRecord(value) ? deepMerge(existing, value) : value;
  }
  return merged;
}

/**
 * The OS_* variables as a cloud, or undefined when they only select things (OS_CLOUD,
 * OS_REGION_NAME, the config file paths). OS_TENANT_* and OS_ENDPOINT_TYPE are the old names.
 */
export function envvarsCloud(env: Readonly<Record<string, string | undefined>>): RawCloud | undefined {
  const selectors = new Set([
    'OS_CLOUD',
    'OS_CLOUD_NAME',
    'OS_REGION_NAME',
    'OS_CLIENT_CONFIG_FILE',
    'OS_CLIENT_SECURE_FILE',
  ]);
  const cloud: RawCloud = {};
  let describesCloud = false;
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('OS_') || value === undefined || /^OS_(TEST|STD|LOG)/.test(key)) continue;
    if (!selectors.has(key)) describesCloud = true;
    else if (key !== 'OS_REGION_NAME') continue;
    const name = key.slice(3).toLowerCase();
    const renamed: Record<string, string> = {
      tenant_name: 'project_name',
      tenant_id: 'project_id',
      endpoint_type: 'interface',
    };
    cloud[renamed[name] ?? name] = value;
  }
  return describesCloud ? cloud : undefined;
}

/** A cloud entry with '-' spelled '_' and auth options given at top level moved into `auth`. */
function normalizeKeys(raw: RawCloud): RawCloud {
  const cloud: RawCloud = {};
  for (const [key, value] of Object.entries(raw)) cloud[key.replaceAll('-', '_')] = value;
  const auth: Record<string, unknown> = {};
  if (isRecord(cloud.auth)) {
    for (const [key, value] of Object.entries(cloud.auth)) auth[key.replaceAll('-', '_')] = value;
  }
  for (const key of [...AUTH_KEYS, 'default_domain_id', 'default_domain_name', 'default_domain']) {
    if (key in cloud && !(key in auth)) auth[key] = cloud[key];
    delete cloud[key];
  }
  cloud.auth = auth;
  return cloud;
}

function optionalString(value: unknown, key: string, cloud: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new ConfigurationError(`cloud "${cloud}": ${key} must be a string`);
}

function booleanValue(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (/^(true|yes|1)$/i.test(value)) return true;
    if (/^(false|no|0)$/i.test(value)) return false;
  }
  return undefined;
}

/** The auth block, with default_domain filling in the user and project domains it leaves open. */
function authOf(raw: Record<string, unknown>, cloud: string): CloudAuth {
  const auth: CloudAuth = {};
  for (const key of AUTH_KEYS) {
    const value = optionalString(raw[key], `auth.${key}`, cloud);
    if (value !== undefined) auth[key] = value;
  }
  const defaultDomainId = optionalString(
    raw.default_domain_id ?? raw.default_domain,
    'default_domain',
    cloud,
  );
  const defaultDomainName = optionalString(raw.default_domain_name, 'default_domain_name', cloud);
  for (const prefix of ['user', 'project'] as const) {
    if (auth[`${prefix}_domain_id`] || auth[`${prefix}_domain_name`]) continue;
    if (defaultDomainId) auth[`${prefix}_domain_id`] = defaultDomainId;
    else if (defaultDomainName) auth[`${prefix}_domain_name`] = defaultDomainName;
  }
  return auth;
}

function authTypeOf(raw: RawCloud, auth: CloudAuth, cloud: string): AuthType {
  const named = optionalString(raw.auth_type, 'auth_type', cloud);
  if (named === undefined) {
    // openstacksdk defaults to password; a secret with no password can only mean an
    // application credential, which is what the operator's Secrets usually hold.
    return auth.application_credential_secret && !auth.password ? 'v3applicationcredential' : 'password';
  }
  const authType = AUTH_TYPE_ALIASES[named.toLowerCase()];
  if (!authType) {
    throw new ConfigurationError(
      `cloud "${cloud}": auth_type "${named}" is not supported (use password, v3applicationcredential, token or none)`,
    );
  }
  return authType;
}

function checkCredentials(authType: AuthType, auth: CloudAuth, cloud: string) {
  const missing = (what: string) =>
    new ConfigurationError(`cloud "${cloud}": ${authType} auth needs ${what}`);
  if (authType === 'none') return;
  if (!auth.auth_url) throw new ConfigurationError(`cloud "${cloud}" has no auth.auth_url`);
  if (authType === 'password') {
    if (!auth.password) throw missing('auth.password');
    if (!auth.user_id && !auth.username) throw missing('auth.username or auth.user_id');
    if (auth.username && !auth.user_id && !auth.user_domain_id && !auth.user_domain_name) {
      throw missing('auth.user_domain_name or auth.user_domain_id with a username');
    }
  } else if (authType === 'v3applicationcredential') {
    if (!auth.application_credential_secret) throw missing('auth.application_credential_secret');
    if (!auth.application_credential_id) {
      if (!auth.application_credential_name) {
        throw missing('auth.application_credential_id or auth.application_credential_name');
      }
      if (!auth.user_id && !auth.username) throw missing('a user with auth.application_credential_name');
    }
  } else if (!auth.token) {
    throw missing('auth.token');
  }
}

/** The region named, checked against the cloud's `regions:` list when it has one. */
function regionOf(raw: RawCloud, selected: string | undefined, cloud: string): string | undefined {
  const regions = Array.isArray(raw.regions)
    ? raw.regions.map((region) => (isRecord(region) ? String(region.name) : String(region)))
    : [];
  const region = selected ?? optionalString(raw.region_name, 'region_name', cloud) ?? regions[0];
  if (region !== undefined && regions.length > 0 && !regions.includes(region)) {
    throw new ConfigurationError(
      `region "${region}" is not one of cloud "${cloud}"'s regions (${regions.join(', ')})`,
    );
  }
  return region;
}

/** The `values:` a cloud's `regions:` entry sets for the selected region. */
function regionValues(raw: RawCloud, region: string | undefined): RawCloud {
  if (!Array.isArray(raw.regions)) return {};
  const entry = raw.regions.find((candidate) => isRecord(candidate) && candidate.name === region);
  return isRecord(entry) && isRecord(entry.values) ? normalizeKeys(entry.values) : {};
}

const SERVICE_KEY = /^(.+)_(endpoint_override|interface|api_version)$/;

function servicesOf(raw: RawCloud, cloud: string): Record<string, ServiceSettings> {
  const services: Record<string, ServiceSettings> = {};
  for (const [key, value] of Object.entries(raw)) {
    const match = SERVICE_KEY.exec(key);
    if (!match) continue;
    const [, type, setting] = match as unknown as [string, string, string];
    const text = optionalString(value, key, cloud);
    if (text === undefined) continue;
    services[type] ??= {};
    const entry = services[type];
    if (setting === 'endpoint_override') entry.endpointOverride = text;
    else if (setting === 'interface') entry.interface = normalizeInterface(text);
    else entry.apiVersion = text;
  }
  const identityVersion = services.identity?.apiVersion;
  if (identityVersion !== undefined && !/^3(\.\d+)?$/.test(identityVersion)) {
    throw new ConfigurationError(
      `cloud "${cloud}": identity_api_version ${identityVersion} is not supported (Keystone v3 only)`,
    );
  }
  return services;
}

/** One cloud entry (already merged with its secure.yaml part) made into a CloudConfig. */
export function cloudConfigFrom(name: string, entry: RawCloud, regionName: string | undefined): CloudConfig {
  if (entry.profile !== undefined || entry.cloud !== undefined) {
    throw new ConfigurationError(`cloud "${name}": vendor profiles (profile/cloud keys) are not supported`);
  }
  const base = normalizeKeys(entry);
  const region = regionOf(base, regionName, name);
  const raw = deepMerge(base, regionValues(base, region));
  const auth = authOf(raw.auth as Record<string, unknown>, name);
  const authType = authTypeOf(raw, auth, name);
  checkCredentials(authType, auth, name);
  const insecure = booleanValue(raw.insecure);
  const timeout = optionalString(raw.api_timeout, 'api_timeout', name);
  if (timeout !== undefined && !(Number(timeout) > 0)) {
    throw new ConfigurationError(`cloud "${name}": api_timeout must be a positive number of seconds`);
  }
  return {
    name,
    authType,
    auth,
    regionName: region,
    interface: normalizeInterface(optionalString(raw.interface, 'interface', name) ?? 'public'),
    verify: insecure === true ? false : (booleanValue(raw.verify) ?? true),
    cacert: optionalString(raw.cacert, 'cacert', name),
    apiTimeoutMs: timeout === undefined ? undefined : Number(timeout) * 1000,
    services: servicesOf(raw, name),
  };
}

export interface CloudsTexts {
  /** clouds.yaml's text. */
  clouds: string;
  /** secure.yaml's text, merged over it. */
  secure?: string;
}

/**
 * The cloud chosen by `selection` from clouds.yaml/secure.yaml texts and the environment:
 * `selection.cloud`, else OS_CLOUD, else the OS_* variables as the "envvars" cloud. The region
 * is `selection.regionName`, else OS_REGION_NAME, else the cloud's own.
 */
export function resolveCloud(texts: CloudsTexts | undefined, selection: CloudSelection = {}): CloudConfig {
  const env = selection.env ?? {};
  const clouds = texts ? cloudsOf(texts.clouds, 'clouds.yaml') : {};
  const secure = texts?.secure ? cloudsOf(texts.secure, 'secure.yaml') : {};
  const envvarsName = env.OS_CLOUD_NAME || 'envvars';
  const fromEnv = envvarsCloud(env);
  const name = selection.cloud || env.OS_CLOUD || (fromEnv ? envvarsName : undefined);
  if (!name) {
    throw new ConfigurationError(
      'no cloud selected: name one with --os-cloud or OS_CLOUD, or set OS_AUTH_URL',
    );
  }
  const region = selection.regionName || env.OS_REGION_NAME || undefined;
  if (name === envvarsName && fromEnv && !clouds[name]) return cloudConfigFrom(name, fromEnv, region);
  const entry = clouds[name];
  if (!entry) {
    const known = Object.keys(clouds);
    throw new ConfigurationError(
      `cloud "${name}" is not in clouds.yaml${known.length ? ` (it has ${known.join(', ')})` : ''}`,
    );
  }
  return cloudConfigFrom(name, deepMerge(entry, secure[name] ?? {}), region);
}

/** For the operator: a Secret's clouds.yaml text and the cloud it names; no environment. */
export function parseCloudsYaml(cloudsYaml: string, cloudName: string, secureYaml?: string): CloudConfig {
  return resolveCloud(
    { clouds: cloudsYaml, ...(secureYaml === undefined ? {} : { secure: secureYaml }) },
    { cloud: cloudName },
  );
}

export interface SearchLocations {
  cwd: string;
  home: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * openstacksdk's search order for `<base>.yaml|yml|json`: the file an environment variable
 * names, then the working directory, the user's config directory, /etc/openstack.
 */
export function findConfigFile(base: 'clouds' | 'secure', where: SearchLocations): string | undefined {
  const named = where.env[base === 'clouds' ? 'OS_CLIENT_CONFIG_FILE' : 'OS_CLIENT_SECURE_FILE'];
  const userDir = join(where.env.XDG_CONFIG_HOME || join(where.home, '.config'), 'openstack');
  const candidates = [
    ...(named ? [named] : []),
    ...[where.cwd, userDir, '/etc/openstack'].flatMap((dir) =>
      ['yaml', 'yml', 'json'].map((ext) => join(dir, `${base}.${ext}`)),
    ),
  ];
  return candidates.find((path) => existsSync(path));
}

/** As `openstack --os-cloud <cloud>` finds its cloud: config files searched, the environment read. */
export function loadCloudConfig(
  selection: CloudSelection = {},
  where: Partial<Pick<SearchLocations, 'cwd' | 'home'>> = {},
): CloudConfig {
  const locations: SearchLocations = {
    cwd: where.cwd ?? process.cwd(),
    home: where.home ?? homedir(),
    env: selection.env ?? process.env,
  };
  const cloudsPath = findConfigFile('clouds', locations);
  const securePath = findConfigFile('secure', locations);
  const texts = cloudsPath
    ? {
        clouds: readFileSync(cloudsPath, 'utf8'),
        ...(securePath ? { secure: readFileSync(securePath, 'utf8') } : {}),
      }
    : undefined;
  return resolveCloud(texts, { ...selection, env: locations.env });
}
