import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCloudConfig, parseCloudsYaml, resolveCloud } from './config.js';
import { ConfigurationError } from './errors.js';

const CLOUDS = `
clouds:
  overcast:
    auth:
      auth_url: https://cloud.example/identity
      username: alice
      project_name: nebula
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
    network_endpoint_override: https://neutron.example:9696
    block-storage_api_version: '3'
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://cloud.example/identity/v3
      application_credential_id: 0123abcd
  regions:
    auth:
      auth_url: https://cloud.example/identity
      user_id: u-1
      project_id: p-1
    regions:
      - RegionOne
      - name: RegionTwo
        values:
          interface: admin
`;

const SECURE = `
clouds:
  overcast:
    auth:
      password: s3cret-password
  appcred:
    auth:
      application_credential_secret: app-cred-secret
  regions:
    auth:
      password: other-password
`;

describe('clouds.yaml and secure.yaml', () => {
  it('merges the secure.yaml password into the named cloud and reads its settings', () => {
    const cloud = parseCloudsYaml(CLOUDS, 'overcast', SECURE);
    expect(cloud).toMatchObject({
      name: 'overcast',
      authType: 'password',
      auth: {
        auth_url: 'https://cloud.example/identity',
        username: 'alice',
        password: 's3cret-password',
        project_name: 'nebula',
        user_domain_name: 'Default',
        project_domain_name: 'Default',
      },
      regionName: 'RegionOne',
      interface: 'internal',
      verify: true,
      services: {
        network: { endpointOverride: 'https://neutron.example:9696' },
        block_storage: { apiVersion: '3' },
      },
    });
  });

  it('reads an application credential cloud, its secret from secure.yaml', () => {
    const cloud = parseCloudsYaml(CLOUDS, 'appcred', SECURE);
    expect(cloud.authType).toBe('v3applicationcredential');
    expect(cloud.auth).toEqual({
      auth_url: 'https://cloud.example/identity/v3',
      application_credential_id: '0123abcd',
      application_credential_secret: 'app-cred-secret',
    });
  });

  it('takes an application credential without auth_type for what it is', () => {
    const yaml = `
clouds:
  op:
    auth: {auth_url: 'http://c/identity', application_credential_id: x, application_credential_secret: y}
`;
    expect(parseCloudsYaml(yaml, 'op').authType).toBe('v3applicationcredential');
  });

  it('defaults the region to the first of regions, checks a named one, and applies its values', () => {
    expect(parseCloudsYaml(CLOUDS, 'regions', SECURE)).toMatchObject({
      regionName: 'RegionOne',
      interface: 'public',
    });
    expect(
      resolveCloud({ clouds: CLOUDS, secure: SECURE }, { cloud: 'regions', regionName: 'RegionTwo' }),
    ).toMatchObject({ regionName: 'RegionTwo', interface: 'admin' });
    expect(() =>
      resolveCloud({ clouds: CLOUDS, secure: SECURE }, { cloud: 'regions', regionName: 'Nowhere' }),
    ).toThrow(/"Nowhere" is not one of cloud "regions"'s regions \(RegionOne, RegionTwo\)/);
  });

  it('moves auth options written at the top level or with dashes into auth, and applies default_domain', () => {
    const yaml = `
clouds:
  flat:
    auth_url: http://c/identity
    username: bob
    password: pw-of-bob
    project-name: demo
    default_domain: default
    insecure: true
    api_timeout: 30
`;
    const cloud = parseCloudsYaml(yaml, 'flat');
    expect(cloud.auth).toEqual({
      auth_url: 'http://c/identity',
      username: 'bob',
      password: 'pw-of-bob',
      project_name: 'demo',
      user_domain_id: 'default',
      project_domain_id: 'default',
    });
    expect(cloud).toMatchObject({ verify: false, apiTimeoutMs: 30_000 });
  });

  it('takes auth_type none without Keystone, the services at their overrides', () => {
    const cloud = parseCloudsYaml(
      'clouds: {peer: {auth_type: noauth, network_endpoint_override: "http://127.0.0.1:9696"}}',
      'peer',
    );
    expect(cloud).toMatchObject({
      authType: 'none',
      auth: {},
      services: { network: { endpointOverride: 'http://127.0.0.1:9696' } },
    });
    expect(() => parseCloudsYaml('clouds: {k: {auth: {username: u, password: p}}}', 'k')).toThrow(
      'cloud "k" has no auth.auth_url',
    );
  });

  it('says which cloud is missing and which exist, and what a cloud lacks, without printing secrets', () => {
    expect(() => parseCloudsYaml(CLOUDS, 'nope', SECURE)).toThrow(
      new ConfigurationError('cloud "nope" is not in clouds.yaml (it has overcast, appcred, regions)'),
    );
    const failure = (() => {
      try {
        parseCloudsYaml(
          CLOUDS.replace('username: alice', 'username: alice\n      password: leaked-pw'),
          'overcast',
          'clouds: {overcast: {auth: {user_domain_name: null}}}',
        );
      } catch (error) {
        return error as Error;
      }
    })();
    expect(failure?.message).toMatch(/user_domain_name or auth.user_domain_id/);
    expect(failure?.message).not.toContain('leaked-pw');
    expect(() =>
      parseCloudsYaml('clouds:\n  x:\n    auth: {auth_url: http://c, password: "pw: [unclosed', 'x'),
    ).toThrow(/not valid YAML \(YAMLParseError\)$/);
    expect(() => parseCloudsYaml(CLOUDS, 'appcred')).toThrow(/needs auth.application_credential_secret/);
    expect(() => parseCloudsYaml('clouds: {v: {profile: vexxhost}}', 'v')).toThrow(/vendor profiles/);
    expect(() =>
      parseCloudsYaml(
        'clouds: {o: {identity_api_version: 2, auth: {auth_url: u, token: t}, auth_type: token}}',
        'o',
      ),
    ).toThrow(/identity_api_version 2 is not supported/);
  });
});

describe('the OS_* environment', () => {
  const ENV = {
    OS_AUTH_URL: 'http://env.example/identity',
    OS_USERNAME: 'envuser',
    OS_PASSWORD: 'env-pw',
    OS_TENANT_NAME: 'envproject',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_ID: 'default',
    OS_ENDPOINT_TYPE: 'internalURL',
    OS_REGION_NAME: 'RegionEnv',
    OS_CACERT: '/etc/ssl/cloud.pem',
  };

  it('is the "envvars" cloud when no cloud is named, old names included', () => {
    expect(resolveCloud(undefined, { env: ENV })).toMatchObject({
      name: 'envvars',
      authType: 'password',
      auth: {
        auth_url: 'http://env.example/identity',
        username: 'envuser',
        password: 'env-pw',
        project_name: 'envproject',
        user_domain_name: 'Default',
        project_domain_id: 'default',
      },
      interface: 'internal',
      regionName: 'RegionEnv',
      cacert: '/etc/ssl/cloud.pem',
    });
  });

  it('gives way to OS_CLOUD, which gives way to --os-cloud; OS_REGION_NAME applies to a named cloud', () => {
    const texts = { clouds: CLOUDS, secure: SECURE };
    expect(resolveCloud(texts, { env: { ...ENV, OS_CLOUD: 'appcred' } }).name).toBe('appcred');
    const chosen = resolveCloud(texts, { cloud: 'overcast', env: { ...ENV, OS_CLOUD: 'appcred' } });
    expect(chosen).toMatchObject({ name: 'overcast', regionName: 'RegionEnv', auth: { username: 'alice' } });
    expect(resolveCloud(texts, { cloud: 'overcast', regionName: 'RegionArg', env: ENV }).regionName).toBe(
      'RegionArg',
    );
  });

  it('selectors alone do not make a cloud', () => {
    expect(() => resolveCloud(undefined, { env: { OS_REGION_NAME: 'R', OS_CLOUD_NAME: 'x' } })).toThrow(
      /no cloud selected/,
    );
  });
});

describe('finding clouds.yaml and secure.yaml', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-clouds-'));
    dirs.push(dir);
    return dir;
  };

  it('prefers the working directory over the user config directory, and merges the secure.yaml found', () => {
    const cwd = tempDir();
    const home = tempDir();
    mkdirSync(join(home, '.config', 'openstack'), { recursive: true });
    writeFileSync(
      join(home, '.config', 'openstack', 'clouds.yaml'),
      'clouds: {home: {auth_type: token, auth: {auth_url: h, token: t}}}',
    );
    writeFileSync(join(home, '.config', 'openstack', 'secure.yaml'), SECURE);
    expect(loadCloudConfig({ cloud: 'home', env: {} }, { cwd, home }).authType).toBe('token');
    writeFileSync(join(cwd, 'clouds.yml'), CLOUDS);
    expect(loadCloudConfig({ cloud: 'overcast', env: {} }, { cwd, home }).auth.password).toBe(
      's3cret-password',
    );
  });

  it('reads the files OS_CLIENT_CONFIG_FILE and OS_CLIENT_SECURE_FILE name, and XDG_CONFIG_HOME', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mine.yaml'), CLOUDS);
    writeFileSync(join(dir, 'mine-secure.yaml'), SECURE);
    const env = {
      OS_CLIENT_CONFIG_FILE: join(dir, 'mine.yaml'),
      OS_CLIENT_SECURE_FILE: join(dir, 'mine-secure.yaml'),
      OS_CLOUD: 'appcred',
    };
    expect(
      loadCloudConfig({ env }, { cwd: tempDir(), home: tempDir() }).auth.application_credential_secret,
    ).toBe('app-cred-secret');
    const xdg = tempDir();
    mkdirSync(join(xdg, 'openstack'));
    writeFileSync(
      join(xdg, 'openstack', 'clouds.json'),
      JSON.stringify({ clouds: { j: { auth: { auth_url: 'u', token: 't' }, auth_type: 'token' } } }),
    );
    expect(
      loadCloudConfig({ cloud: 'j', env: { XDG_CONFIG_HOME: xdg } }, { cwd: tempDir(), home: tempDir() })
        .authType,
    ).toBe('token');
  });
});
