// The operator's tests share this bed: the harness's real kube-apiserver with the CRDs
// installed, a namespace of their own, the real api-server on loopback (startLiveCloud) with
// admin credentials in the Secret `cloud`, and the operator running in the test's process.
// Objects are applied and read with the real kubectl, as a user would.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { run } from '../../lib/exec.js';
import { createLogger } from '../../lib/log.js';
import { OpenStackClient, parseCloudsYaml, type ServiceClient } from '../../lib/openstack/index.js';
import { type LiveCloud, startLiveCloud } from '../../lib/openstack/live-cloud.suite.js';
import { GROUP, VERSION } from '../../operator/crds/convention.js';
import { KINDS } from '../../operator/crds/kinds.js';
import { type OperatorOptions, type RunningOperator, startOperator } from '../../operator/main.js';
import { required } from './inject.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface OpenStackObject {
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    finalizers?: string[];
    generation: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec: Record<string, unknown>;
  status?: {
    id?: string;
    // biome-ignore lint/suspicious/noExplicitAny: each kind's observed fields
    resource?: Record<string, any>;
    lastSyncTime?: string;
    conditions?: Condition[];
  };
}

export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
}

export const condition = (object: OpenStackObject | undefined, type: string) =>
  object?.status?.conditions?.find((found) => found.type === type);

export interface OperatorTestbed {
  namespace: string;
  kubeconfig: string;
  live: LiveCloud;
  /** The admin of the live cloud, to look at (and tamper with) what the operator made. */
  cloud: OpenStackClient;
  /** clouds.yaml of the live cloud for a user (the admin's is in the Secret `cloud`). */
  cloudsYaml(user: { username: string; password: string; project: string }): string;
  operator: RunningOperator;
  kubectl(args: string[], input?: string): ReturnType<typeof run>;
  /** kubectl apply of one object of `kind` in the namespace; the credentials default to `cloud`. */
  apply(kind: string, name: string, spec: Record<string, unknown>): Promise<void>;
  get(kind: string, name: string): Promise<OpenStackObject | undefined>;
  /** The object once its Progressing condition is False (done, or stuck) for its generation. */
  settled(kind: string, name: string, timeoutMs?: number): Promise<OpenStackObject>;
  /** The object once Available with its generation observed. */
  available(kind: string, name: string, timeoutMs?: number): Promise<OpenStackObject>;
  /** kubectl delete, waiting until the object is gone. */
  remove(kind: string, name: string, timeoutSeconds?: number): Promise<void>;
  eventsOf(name: string): Promise<KubeEvent[]>;
  /** The reasons of the object's Events, oldest first. */
  reasonsOf(name: string): Promise<string[]>;
  /** The value `check` returns once it passes on the object (it throws while it does not). */
  until<T>(kind: string, name: string, check: (object: OpenStackObject) => T, timeoutMs?: number): Promise<T>;
  /** The object once its Progressing condition has `reason` and `status` (False by default). */
  progressing(kind: string, name: string, reason: string, status?: string): Promise<OpenStackObject>;
  /** Starts the operator again (after `operator.close()`), with the same options. */
  restartOperator(): Promise<RunningOperator>;
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: an OpenStack API's JSON, as tests index into it
export type Json = any;

/**
 * Calls on one OpenStack service, as the tests use them to look at or tamper with the cloud:
 * the `key` member of the answer, undefined for a 404 on show, every page of a list.
 */
export function resourceCalls(service: () => ServiceClient) {
  return {
    async post(path: string, key: string, body: Record<string, unknown>): Promise<Json> {
      return (await service().post<Json>(path, { [key]: body })).body[key];
    },
    async show(path: string, key: string): Promise<Json | undefined> {
      const response = await service()
        .get<Json>(path)
        .catch((error: { status?: number }) => {
          if (error.status === 404) return undefined;
          throw error;
        });
      return response?.body[key];
    },
    async list(path: string, key: string, query: Record<string, string>): Promise<Json[]> {
      const found: Json[] = [];
      for await (const item of service().list<Json>(path, key, { query })) found.push(item);
      return found;
    },
  };
}

const resourceOf = (kind: string) => {
  const found = KINDS.find((candidate) => candidate.kind === kind);
  if (!found) throw new Error(`no kind ${kind}`);
  return `${found.plural}.${GROUP}`;
};

export type TestbedOperatorOptions = Partial<OperatorOptions> & {
  /** False: no operator in this process; the test runs its own (as a process it can kill). */
  inProcess?: boolean;
};

/**
 * Everything up, with the operator started from `options`, or from what `options` gives for
 * the namespace made (leader election is off unless given: one replica per test file, each in
 * its own namespace).
 */
export async function startOperatorTestbed(
  prefix: string,
  optionsFor: TestbedOperatorOptions | ((namespace: string) => TestbedOperatorOptions) = {},
  /** A namespace of a fixed name (one an example file names) instead of `<prefix>-<random>`. */
  fixedNamespace?: string,
): Promise<OperatorTestbed> {
  const kubeconfig = required('kubeconfig');
  const kubectlPath = required('kubectl');
  const namespace = fixedNamespace ?? `${prefix}-${randomBytes(3).toString('hex')}`;
  const kubectl = (args: string[], input?: string) =>
    run([kubectlPath, `--kubeconfig=${kubeconfig}`, ...args], { input, timeoutMs: 180_000 });

  await kubectl(['apply', '-f', join(ROOT, 'crds')]);
  await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...KINDS.map((kind) => `crd/${kind.plural}.${GROUP}`),
  ]);
  await kubectl(['create', 'namespace', namespace]);
  const live = await startLiveCloud();
  const cloudsYaml: OperatorTestbed['cloudsYaml'] = ({ username, password, project }) =>
    `clouds: {overcast: {auth: {auth_url: '${live.front.url}/identity', username: '${username}', password: '${password}', user_domain_id: default, project_name: '${project}', project_domain_id: default}}}`;
  const adminYaml = cloudsYaml({ username: 'admin', password: 'admin-secret', project: 'admin' });
  const cloud = new OpenStackClient(parseCloudsYaml(adminYaml, 'overcast'));
  await kubectl([
    'create',
    'secret',
    'generic',
    'cloud',
    '-n',
    namespace,
    `--from-literal=clouds.yaml=${adminYaml}`,
  ]);
  const options = typeof optionsFor === 'function' ? optionsFor(namespace) : optionsFor;
  const operatorOptions: OperatorOptions = {
    kubeconfig,
    leaderElection: false,
    ...options,
    framework: {
      reconciler: { pollMs: 1_000 },
      backoff: { baseMs: 200, maxMs: 2_000 },
      ...options.framework,
    },
  };
  const log = createLogger(`operator-${prefix}`, 'silent');
  let operator: RunningOperator | undefined =
    options.inProcess === false ? undefined : await startOperator(operatorOptions, log);
  const bed: OperatorTestbed = {
    namespace,
    kubeconfig,
    live,
    cloud,
    cloudsYaml,
    get operator() {
      if (!operator) throw new Error('this testbed runs no operator in process');
      return operator;
    },
    set operator(replacement) {
      operator = replacement;
    },
    kubectl,
    async apply(kind, name, spec) {
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: `${GROUP}/${VERSION}`,
          kind,
          metadata: { name, namespace },
          spec: { cloudCredentialsRef: { secretName: 'cloud', cloudName: 'overcast' }, ...spec },
        }),
      );
    },
    async get(kind, name) {
      const result = await run(
        [
          kubectlPath,
          `--kubeconfig=${kubeconfig}`,
          'get',
          resourceOf(kind),
          name,
          '-n',
          namespace,
          '-o',
          'json',
        ],
        { allowFailure: true },
      );
      return result.code === 0 ? (JSON.parse(result.stdout) as OpenStackObject) : undefined;
    },
    settled(kind, name, timeoutMs = 60_000) {
      return vi.waitFor(
        async () => {
          const object = await bed.get(kind, name);
          const progressing = condition(object, 'Progressing');
          if (
            !object ||
            progressing?.status !== 'False' ||
            progressing.observedGeneration !== object.metadata.generation
          )
            throw new Error(`${kind}/${name} not settled: ${JSON.stringify(object?.status)}`);
          return object;
        },
        { timeout: timeoutMs, interval: 250 },
      );
    },
    available(kind, name, timeoutMs = 60_000) {
      return vi.waitFor(
        async () => {
          const object = await bed.get(kind, name);
          const availability = condition(object, 'Available');
          if (
            !object ||
            availability?.status !== 'True' ||
            availability.observedGeneration !== object.metadata.generation
          )
            throw new Error(`${kind}/${name} not available: ${JSON.stringify(object?.status)}`);
          return object;
        },
        { timeout: timeoutMs, interval: 250 },
      );
    },
    async remove(kind, name, timeoutSeconds = 60) {
      await kubectl(['delete', resourceOf(kind), name, '-n', namespace, `--timeout=${timeoutSeconds}s`]);
    },
    async eventsOf(name) {
      const { stdout } = await kubectl([
        'get',
        'events',
        '-n',
        namespace,
        '--field-selector',
        `involvedObject.name=${name}`,
        '-o',
        'json',
      ]);
      return JSON.parse(stdout).items;
    },
    async reasonsOf(name) {
      return (await bed.eventsOf(name)).map((event) => event.reason);
    },
    until(kind, name, check, timeoutMs = 30_000) {
      return vi.waitFor(
        async () => {
          const object = await bed.get(kind, name);
          if (!object) throw new Error(`${kind}/${name} not there`);
          return check(object);
        },
        { timeout: timeoutMs, interval: 250 },
      );
    },
    progressing(kind, name, reason, status = 'False') {
      return bed.until(kind, name, (object) => {
        expect(condition(object, 'Progressing')).toMatchObject({ status, reason });
        return object;
      });
    },
    async restartOperator() {
      operator = await startOperator(operatorOptions, log);
      return operator;
    },
    async close() {
      // With the operator still running, so that it deletes in dependency order and lets go
      // of its finalizers (the credentials Secret's too), and the namespace can go.
      await kubectl(['delete', 'openstack', '--all', '-n', namespace, '--timeout=120s']);
      await operator?.close();
      await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
      cloud.close();
      await live.close();
    },
  };
  return bed;
}
