// The Helm chart, installed for real into the test kube-apiserver: helm lints it, renders it
// with and without external database/bus, and the API server accepts every object. (There is
// no kubelet here, so pods are not started; what is proved is the chart's validity.)
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { run } from '../lib/exec.js';
import { GROUP } from '../operator/crds/convention.js';
import { KINDS } from '../operator/crds/kinds.js';
import { operatorRules } from '../operator/crds/render.js';
import { required } from './harness/inject.js';

const CHART = join(import.meta.dirname, '..', 'charts', 'overcast');
const namespace = `chart-${randomBytes(4).toString('hex')}`;

const helm = (args: string[]) =>
  run([required('helm'), '--kubeconfig', required('kubeconfig'), ...args], { timeoutMs: 120_000 });
const kubectl = (args: string[]) =>
  run([required('kubectl'), '--kubeconfig', required('kubeconfig'), ...args], { timeoutMs: 60_000 });

function kinds(manifest: string): string[] {
  return parseAllDocuments(manifest)
    .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((doc) => doc?.kind)
    .map((doc) => `${doc!.kind}/${doc!.metadata?.name}`);
}

afterAll(async () => {
  await helm(['uninstall', 'oc', '--namespace', namespace]).catch(() => undefined);
  await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
});

describe('Helm chart', () => {
  it('passes helm lint', async () => {
    const result = await helm(['lint', CHART]);
    expect(result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders the embedded single-replica layout by default', async () => {
    const { stdout } = await helm(['template', 'oc', CHART]);
    const objects = kinds(stdout);
    expect(objects).toEqual(
      expect.arrayContaining([
        'Deployment/oc-overcast-api',
        'Service/oc-overcast-api',
        'PersistentVolumeClaim/oc-overcast-api-data',
        'Deployment/oc-overcast-operator',
        'DaemonSet/oc-overcast-node-agent',
        'ClusterRole/oc-overcast-operator',
      ]),
    );
    expect(objects.some((o) => o.startsWith('Secret/'))).toBe(false);
    expect(stdout).toMatch(/strategy: \{ type: Recreate \}/);
  });

  it('ships the operator CRDs and gives the operator the generated ClusterRole rules', async () => {
    const { stdout } = await helm(['template', 'oc', CHART, '--include-crds']);
    expect(kinds(stdout)).toEqual(
      expect.arrayContaining(KINDS.map((kind) => `CustomResourceDefinition/${kind.plural}.${GROUP}`)),
    );
    const role = parseAllDocuments(stdout)
      .map((doc) => doc.toJS() as { kind?: string; rules?: unknown })
      .find((doc) => doc?.kind === 'ClusterRole');
    expect(role?.rules).toEqual(operatorRules());
  });

  it('puts external database and bus URLs in a Secret, never in plain env', async () => {
    const { stdout } = await helm([
      'template',
      'oc',
      CHART,
      '--set',
      'database.url=mysql://overcast:pw@mariadb:3306/overcast',
      '--set',
      'bus.url=amqp://overcast:pw@rabbitmq:5672/overcast',
      '--set',
      'apiServer.replicas=3',
    ]);
    expect(kinds(stdout)).toContain('Secret/oc-overcast-connections');
    expect(kinds(stdout)).not.toContain('PersistentVolumeClaim/oc-overcast-api-data');
    const deployment = stdout
      .split('---')
      .find((doc) => doc.includes('name: oc-overcast-api\n') && doc.includes('kind: Deployment'));
    expect(deployment).toMatch(/replicas: 3/);
    expect(deployment).toMatch(/secretKeyRef:/);
    expect(deployment).not.toContain('mysql://');
  });

  it('installs into a real kube-apiserver, which accepts every object', async () => {
    await kubectl(['create', 'namespace', namespace]);
    await helm([
      'install',
      'oc',
      CHART,
      '--namespace',
      namespace,
      '--set',
      'bus.url=amqp://u:p@rabbitmq/overcast',
    ]);
    const { stdout } = await kubectl([
      'get',
      'deployments,daemonsets,services,secrets,pvc',
      '-n',
      namespace,
      '-o',
      'name',
    ]);
    expect(stdout).toContain('deployment.apps/oc-overcast-api');
    expect(stdout).toContain('deployment.apps/oc-overcast-operator');
    expect(stdout).toContain('daemonset.apps/oc-overcast-node-agent');
    expect(stdout).toContain('service/oc-overcast-api');
    expect(stdout).toContain('secret/oc-overcast-connections');
    const status = await helm(['status', 'oc', '--namespace', namespace, '-o', 'json']);
    expect(JSON.parse(status.stdout).info.status).toBe('deployed');
  });
});
