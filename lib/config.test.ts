import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, publicBaseUrl } from './config.js';

const scratch = mkdtempSync(join(tmpdir(), 'overcast-config-'));
let files = 0;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function configFile(text: string): string {
  const file = join(scratch, `overcast-${files++}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const config = loadConfig({ env: {} });
    expect(config.database.url).toBe('sqlite:overcast.sqlite');
    expect(config.bus.url).toBe('memory://');
    expect(config.listen).toBe('127.0.0.1:5000');
    expect(config.dataDir).toMatch(/^\//);
  });

  it('layers file < environment < flags', () => {
    const file = configFile('listen: 127.0.0.1:6000\nlog:\n  level: debug\nbus:\n  rpcTimeoutMs: 5000\n');
    const env = { OVERCAST_LISTEN: '127.0.0.1:7000', OVERCAST_RPC_TIMEOUT_MS: '2500' };
    expect(loadConfig({ file, env }).listen).toBe('127.0.0.1:7000');
    expect(loadConfig({ file, env }).bus.rpcTimeoutMs).toBe(2500);
    expect(loadConfig({ file, env }).log.level).toBe('debug');
    expect(loadConfig({ file, env, overrides: { listen: '0.0.0.0:8000' } }).listen).toBe('0.0.0.0:8000');
  });

  it('reads JSON files too, and OVERCAST_CONFIG names the file', () => {
    const file = configFile('{"database": {"url": "mysql://u:p@db:3306/overcast"}}');
    expect(loadConfig({ env: { OVERCAST_CONFIG: file } }).database.url).toBe('mysql://u:p@db:3306/overcast');
  });

  it('reports a bad value with its path and where it came from', () => {
    expect(() => loadConfig({ env: { OVERCAST_LISTEN: 'not-an-address' } })).toThrow(
      /listen: .*not-an-address.*OVERCAST_LISTEN/,
    );
    expect(() => loadConfig({ env: { OVERCAST_DATABASE_URL: 'postgres://x' } })).toThrow(/database\.url/);
    expect(() => loadConfig({ env: { OVERCAST_LOG_LEVEL: 'loud' } })).toThrow(ConfigError);
  });

  it('rejects unknown keys and non-numbers where numbers belong', () => {
    expect(() => loadConfig({ file: configFile('lisen: 1.2.3.4:5\n'), env: {} })).toThrow(
      /lisen: Unexpected property .*from file .*overcast-\d+\.yaml/,
    );
    expect(() => loadConfig({ env: { OVERCAST_MAX_BODY_BYTES: 'lots' } })).toThrow(/api\.maxBodyBytes/);
  });

  it('fails clearly on a missing or malformed file', () => {
    expect(() => loadConfig({ file: '/nonexistent/overcast.yaml', env: {} })).toThrow(
      /cannot read config file/,
    );
    expect(() => loadConfig({ file: configFile('listen: [unclosed\n'), env: {} })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ file: configFile('- a list\n'), env: {} })).toThrow(/mapping/);
  });

  it('derives the public URL from the listen address unless one is given', () => {
    expect(publicBaseUrl({ listen: '0.0.0.0:5000' })).toBe('http://127.0.0.1:5000');
    expect(publicBaseUrl({ listen: '[::1]:5000' })).toBe('http://[::1]:5000');
    expect(publicBaseUrl({ listen: '127.0.0.1:1', publicUrl: 'https://cloud.example/' })).toBe(
      'https://cloud.example',
    );
  });
});
