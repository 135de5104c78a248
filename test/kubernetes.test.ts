// Proves the control plane the kit builds and starts is a real one: kubectl, @kubernetes/client-node
// and helm all talk to it, custom resources behave as the operator will rely on (watch events,
// the status subresource), and kube-controller-manager does its part (namespace deletion,
// owner-reference garbage collection).
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1CustomResourceDefinition,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, run } from '../lib/exec.js';
import { HELM_VERSION, KUBERNETES_VERSION } from '../lib/kit/kubernetes.js';
import { required } from './harness/inject.js';

const kubeconfig = required('kubeconfig');
const kubectlPath = required('kubectl');
const helmPath = required('helm');

const WIDGET_CRD = fileURLToPath(new URL('./fixtures/widget-crd.yaml', import.meta.url));
const GROUP = 'proof.overcast.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'widgets';
const WIDGETS = `${PLURAL}.${GROUP}`;

function kubectl(args: string[], input?: string): Promise<RunResult> {
  return run([kubectlPath, `--kubeconfig=${kubeconfig}`, ...args], { input });
}

function kubectlAllowingFailure(args: string[]): Promise<RunResult> {
  return run([kubectlPath, `--kubeconfig=${kubeconfig}`, ...args], { allowFailure: true });
}

interface Widget {
  metadata: { name: string; generation: number };
  spec: { size?: number; color?: string };
  status?: { phase?: string; observedGeneration?: number };
}

async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse((await kubectl([...args, '-o', 'json'])).stdout) as T;
}

function widgetManifest(namespace: string, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Widget',
    metadata: { name, namespace },
    spec,
  });
}

async function eventually(
  what: string | (() => string),
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Opens a client-node watch, retrying while the server answers 429: for a resource whose CRD
 * was just established the apiserver refuses watches until its watch cache is initialized,
 * and real clients (client-go's reflector) retry the same way.
 */
async function openWatch(
  kubeConfig: KubeConfig,
  path: string,
  query: Record<string, string>,
  onEvent: (type: string, object: Widget) => void,
  onEnd: (err: unknown) => void,
): Promise<AbortController> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let refusal: (Error & { statusCode?: number }) | undefined;
    let opened = false;
    const controller = await new Watch(kubeConfig).watch(path, query, onEvent, (err) => {
      if (opened) onEnd(err);
      else refusal = err ?? new Error(`watch on ${path} closed before it opened`);
    });
    if (!refusal) {
      opened = true;
      return controller;
    }
    if (refusal.statusCode !== 429 || Date.now() > deadline) throw refusal;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const uniqueName = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

describe('the local Kubernetes control plane', () => {
  const namespace = uniqueName('proof');

  beforeAll(async () => {
    await kubectl(['apply', '-f', WIDGET_CRD]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${WIDGETS}`]);
    await kubectl(['create', 'namespace', namespace]);
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--timeout=90s']);
    await kubectl(['delete', '-f', WIDGET_CRD, '--ignore-not-found', '--timeout=90s']);
  });

  it('reports the Kubernetes version it was built as', async () => {
    const versions = JSON.parse((await kubectl(['version', '--output=json'])).stdout);
    expect(versions.serverVersion.gitVersion).toBe(KUBERNETES_VERSION);
    expect(versions.clientVersion.gitVersion).toBe(KUBERNETES_VERSION);
  });

  it('serves a custom resource definition applied with kubectl once it is Established', async () => {
    const crd = await getJson<V1CustomResourceDefinition>(['get', 'crd', WIDGETS]);
    const established = crd.status?.conditions?.find((condition) => condition.type === 'Established');
    expect(established?.status).toBe('True');
    const resources = await kubectl(['api-resources', `--api-group=${GROUP}`, '--output=name']);
    expect(resources.stdout.trim()).toBe(WIDGETS);
  });

  it('streams ADDED, MODIFIED and DELETED to a client-node watch as kubectl applies, patches and deletes', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfig);
    const events: { type: string; size: unknown }[] = [];
    let watchEnded: unknown;
    const watch = await openWatch(
      kubeConfig,
      `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
      { fieldSelector: 'metadata.name=watched' },
      (type, object) => events.push({ type, size: object?.spec?.size }),
      (err) => {
        watchEnded = err ?? 'closed by the server';
      },
    );
    try {
      await kubectl(['apply', '-f', '-'], widgetManifest(namespace, 'watched', { size: 1 }));
      await kubectl([
        'patch',
        WIDGETS,
        'watched',
        '-n',
        namespace,
        '--type=merge',
        '-p',
        '{"spec":{"size":3}}',
      ]);
      await kubectl(['delete', WIDGETS, 'watched', '-n', namespace]);
      await eventually(
        () =>
          `DELETED on the watch (seen so far: ${JSON.stringify(events)}, watch ended: ${String(watchEnded)})`,
        () => events.some((event) => event.type === 'DELETED'),
      );
    } finally {
      watch.abort();
    }
    expect(events).toEqual([
      { type: 'ADDED', size: 1 },
      { type: 'MODIFIED', size: 3 },
      { type: 'DELETED', size: 3 },
    ]);
  });

  it('keeps status behind the status subresource: client-node writes it, kubectl reads it, spec writes cannot touch it', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfig);
    const customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const name = 'statusful';
    const target = { group: GROUP, version: VERSION, namespace, plural: PLURAL, name };
    await kubectl(['apply', '-f', '-'], widgetManifest(namespace, name, { size: 2, color: 'blue' }));

    await customObjects.patchNamespacedCustomObjectStatus(
      { ...target, body: { status: { phase: 'Ready', observedGeneration: 1 } } },
      mergePatch,
    );
    let widget = await getJson<Widget>(['get', WIDGETS, name, '-n', namespace]);
    expect(widget.status).toEqual({ phase: 'Ready', observedGeneration: 1 });
    expect(widget.metadata.generation).toBe(1); // status writes do not bump the generation

    // Through the main endpoint the spec changes and the status in the same patch is dropped.
    await kubectl([
      'patch',
      WIDGETS,
      name,
      '-n',
      namespace,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { size: 5 }, status: { phase: 'Overwritten' } }),
    ]);
    widget = await getJson<Widget>(['get', WIDGETS, name, '-n', namespace]);
    expect(widget.spec).toEqual({ size: 5, color: 'blue' });
    expect(widget.status?.phase).toBe('Ready');
    expect(widget.metadata.generation).toBe(2);

    // Through the status endpoint it is the other way round.
    const written = await customObjects.patchNamespacedCustomObjectStatus(
      { ...target, body: { spec: { size: 9 }, status: { phase: 'Degraded', observedGeneration: 2 } } },
      mergePatch,
    );
    expect(written.spec.size).toBe(5);
    widget = await getJson<Widget>(['get', WIDGETS, name, '-n', namespace]);
    expect(widget.spec.size).toBe(5);
    expect(widget.status).toEqual({ phase: 'Degraded', observedGeneration: 2 });

    await kubectl(['delete', WIDGETS, name, '-n', namespace]);
  });

  it('finishes deleting a namespace together with the custom resources in it', async () => {
    const doomed = uniqueName('proof-doomed');
    await kubectl(['create', 'namespace', doomed]);
    await kubectl(['apply', '-f', '-'], widgetManifest(doomed, 'inside', { size: 1 }));
    // kubectl waits for the namespace to be gone; without kube-controller-manager it would stay
    // Terminating until the timeout and this call would fail.
    await kubectl(['delete', 'namespace', doomed, '--timeout=90s']);
    const lookup = await kubectlAllowingFailure(['get', 'namespace', doomed]);
    expect(lookup.code).not.toBe(0);
    expect(lookup.stderr).toContain('NotFound');
  });

  it('garbage-collects an object whose owner was deleted', async () => {
    await kubectl(['create', 'configmap', 'owner', '-n', namespace, '--from-literal=role=owner']);
    const ownerUid = (
      await kubectl(['get', 'configmap', 'owner', '-n', namespace, '-o', 'jsonpath={.metadata.uid}'])
    ).stdout;
    expect(ownerUid).not.toBe('');
    const dependent = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'dependent',
        namespace,
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: ownerUid }],
      },
      data: { role: 'dependent' },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(dependent));
    await kubectl(['delete', 'configmap', 'owner', '-n', namespace, '--cascade=background']);
    await eventually(
      'the garbage collector to delete configmap dependent',
      async () => {
        const lookup = await kubectlAllowingFailure(['get', 'configmap', 'dependent', '-n', namespace]);
        return lookup.code !== 0 && lookup.stderr.includes('NotFound');
      },
      90_000,
    );
  });

  it('runs helm, which reaches the cluster through the same kubeconfig', async () => {
    const version = await run([helmPath, 'version', '--short']);
    expect(version.stdout.trim()).toBe(HELM_VERSION);
    const releases = await run([
      helmPath,
      'list',
      '--all-namespaces',
      '--output=json',
      `--kubeconfig=${kubeconfig}`,
    ]);
    expect(JSON.parse(releases.stdout)).toEqual([]);
  });
});
