import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { inClusterConfig, KubeConfigError, loadKubernetesConfig, parseKubeconfig } from './config.js';

const base64 = (text: string) => Buffer.from(text).toString('base64');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}) {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'work',
    clusters: [
      { name: 'other', cluster: { server: 'https://other:6443' } },
      { name: 'k', cluster: { server: 'https://10.0.0.1:6443/', ...cluster } },
    ],
    users: [{ name: 'admin', user }],
    contexts: [
      { name: 'home', context: { cluster: 'other', user: 'admin' } },
      { name: 'work', context: { cluster: 'k', user: 'admin', namespace: 'team' } },
    ],
  });
}

describe('kubeconfig', () => {
  it('reads the current context: server, inline CA, client certificate and key', () => {
    const config = parseKubeconfig(
      kubeconfig(
        { 'client-certificate-data': base64('CERT PEM'), 'client-key-data': base64('KEY PEM') },
        { 'certificate-authority-data': base64('CA PEM') },
      ),
      '/nowhere',
    );
    expect(config).toEqual({
      server: 'https://10.0.0.1:6443',
      ca: 'CA PEM',
      cert: 'CERT PEM',
      key: 'KEY PEM',
      namespace: 'team',
    });
  });

  it('reads files named in it relative to the kubeconfig, and a token file by name only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA FROM FILE');
    writeFileSync(join(dir, 'admin.crt'), 'CERT FROM FILE');
    writeFileSync(join(dir, 'admin.key'), 'KEY FROM FILE');
    const path = join(dir, 'config');
    writeFileSync(
      path,
      kubeconfig(
        { 'client-certificate': 'admin.crt', 'client-key': join(dir, 'admin.key'), tokenFile: 'token' },
        { 'certificate-authority': 'ca.crt' },
      ),
    );
    expect(loadKubernetesConfig(path, {})).toMatchObject({
      ca: 'CA FROM FILE',
      cert: 'CERT FROM FILE',
      key: 'KEY FROM FILE',
      tokenFile: join(dir, 'token'),
    });
    // $KUBECONFIG when no file is given.
    expect(loadKubernetesConfig(undefined, { KUBECONFIG: path }).cert).toBe('CERT FROM FILE');
  });

  it('reads a token, basic credentials, and a cluster whose certificate is not verified', () => {
    expect(parseKubeconfig(kubeconfig({ token: 'abc' }, { 'insecure-skip-tls-verify': true }), '/')).toEqual({
      server: 'https://10.0.0.1:6443',
      insecureSkipTlsVerify: true,
      token: 'abc',
      namespace: 'team',
    });
    expect(parseKubeconfig(kubeconfig({ username: 'u', password: 'p' }), '/')).toMatchObject({
      username: 'u',
      password: 'p',
    });
  });

  it('refuses in plain words what it cannot use', () => {
    const refused = (text: string) => () => parseKubeconfig(text, '/');
    expect(refused(kubeconfig({ exec: { command: 'aws' } }))).toThrow(/plugin \(exec or auth-provider\)/);
    expect(refused('current-context: nowhere\ncontexts: []\n')).toThrow(
      'the kubeconfig has no context named "nowhere"',
    );
    expect(refused('clusters: []\n')).toThrow('the kubeconfig has no current-context');
    expect(refused('a: [\n')).toThrow(KubeConfigError);
    expect(() => loadKubernetesConfig('/nonexistent/kubeconfig', {})).toThrow(/cannot read the kubeconfig/);
  });
});

describe('in-cluster configuration', () => {
  it("uses the kubernetes Service's address and the mounted service account", () => {
    const dir = mkdtempSync(join(tmpdir(), 'serviceaccount-'));
    writeFileSync(join(dir, 'token'), 'token-1');
    writeFileSync(join(dir, 'ca.crt'), 'CLUSTER CA');
    writeFileSync(join(dir, 'namespace'), 'overcast\n');
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    expect(inClusterConfig(env, dir)).toEqual({
      server: 'https://[fd00::1]:443',
      ca: 'CLUSTER CA',
      tokenFile: join(dir, 'token'),
      namespace: 'overcast',
    });
  });

  it('says why it is not in a cluster', () => {
    expect(() => loadKubernetesConfig(undefined, {})).toThrow(/not in a cluster/);
    const empty = mkdtempSync(join(tmpdir(), 'serviceaccount-'));
    expect(() =>
      inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, empty),
    ).toThrow(/without a service account token/);
  });
});
