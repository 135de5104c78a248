// Puts the pieces together for a set of kinds: one informer and reconciler per kind, one work
// queue over all of them (so concurrency and the rate limit are global), the dependency index
// that queues dependents when what they wait for changes, leader election gating all of it,
// and the /metrics, /healthz and /readyz endpoints.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubernetesClient } from '../../lib/kubernetes/index.js';
import type { Logger } from '../../lib/log.js';
import { GROUP, VERSION } from '../crds/convention.js';
import type { BackoffOptions, RateLimitOptions } from './backoff.js';
import { isAvailable } from './conditions.js';
import { CloudClients } from './credentials.js';
import { DependencyIndex } from './dependencies.js';
import { classify } from './errors.js';
import { EventRecorder } from './events.js';
import {
  type ChangeType,
  customResourceSource,
  Informer,
  type KubeObject,
  keyOf,
  type ListWatchSource,
  WATCH_TIMEOUT_SECONDS,
} from './informer.js';
import { LeaderElector } from './leader.js';
import { Metrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { type Actuator, type Dependency, Reconciler, type ReconcilerOptions } from './reconciler.js';
import { type CustomResource, ObjectWriter } from './writer.js';

export interface LeaderElectionSettings {
  namespace: string;
  name?: string;
  identity?: string;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  /** The Kubernetes API; its owner closes it once the manager has stopped. */
  kubernetes: KubernetesClient;
  log: Logger;
  // biome-ignore lint/suspicious/noExplicitAny: actuators of different resource types together
  actuators: Actuator<any>[];
  /** Reconciles at once over all kinds. */
  concurrency?: number;
  rateLimit?: RateLimitOptions;
  backoff?: BackoffOptions;
  reconciler?: Partial<ReconcilerOptions>;
  /** On by default; false only where a single replica is certain (tests of one operator). */
  leaderElection: LeaderElectionSettings | false;
  /** Where /metrics, /healthz and /readyz listen; undefined: not served. */
  http?: { host: string; port: number };
  watchTimeoutSeconds?: number;
  /** Where objects of a kind are listed and watched; the Kubernetes API unless a test wraps it. */
  sourceFor?: (resource: CustomResource) => ListWatchSource;
}

/** Reconciles at once over all kinds, when not configured (the operator command does not). */
export const DEFAULT_CONCURRENCY = 8;

export const DEFAULT_RECONCILER_OPTIONS: ReconcilerOptions = {
  defaultResyncMs: 0,
  pollMs: 10_000,
  consistencyTimeoutMs: 5_000,
};

interface Served {
  kind: string;
  // biome-ignore lint/suspicious/noExplicitAny: actuators of different resource types together
  actuator: Actuator<any>;
  informer: Informer;
  reconciler: Reconciler;
}

/** The dependencies that hold their object while `object` names them. */
const heldBy = (actuator: Actuator<unknown>, object: KubeObject) =>
  actuator.dependencies(object).filter((dependency) => dependency.held !== false);

const queueKey = (kind: string, object: KubeObject) => `${kind}/${keyOf(object)}`;

export class Manager {
  readonly metrics = new Metrics();
  private readonly served = new Map<string, Served>();
  private readonly queue: WorkQueue;
  private readonly clients: CloudClients;
  private readonly events: EventRecorder;
  private readonly elector: LeaderElector | undefined;
  /** "Kind/namespace/name" of a dependency → queue keys of the objects waiting on it. */
  private readonly dependencies = new DependencyIndex();
  private server: Server | undefined;
  private controllersRunning = false;
  private stopping = false;
  private lostLease = false;

  constructor(private readonly options: ManagerOptions) {
    const { kubernetes, log } = options;
    this.clients = new CloudClients(kubernetes, log);
    this.events = new EventRecorder(kubernetes, log);
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    const reconcilerOptions = { ...DEFAULT_RECONCILER_OPTIONS, ...options.reconciler };
    const watchTimeoutSeconds = options.watchTimeoutSeconds ?? WATCH_TIMEOUT_SECONDS;
    for (const actuator of options.actuators) {
      const kind = actuator.kind.kind;
      const resource = { group: GROUP, version: VERSION, plural: actuator.kind.plural };
      const source =
        options.sourceFor?.(resource) ?? customResourceSource(kubernetes, resource, watchTimeoutSeconds);
      const informer = new Informer(source, {
        // The server closes a watch at its timeout; one still open well after that is hung.
        watchdogMs: (watchTimeoutSeconds + 30) * 1000,
        log: log.child({ kind }),
        onChange: (type, object, old) => this.changed(kind, type, object, old),
      });
      const reconciler = new Reconciler(
        {
          actuator,
          clients: this.clients,
          writer: new ObjectWriter(kubernetes, resource),
          events: this.events,
          log: log.child({ kind }),
          cached: (key) => informer.get(key),
          lookup: (dependencyKind, namespace, name) =>
            this.served.get(dependencyKind)?.informer.get(`${namespace}/${name}`),
          failed: (reason) => this.metrics.error(kind, reason),
          dependOn: (object, dependencies) => this.dependOn(queueKey(kind, object), object, dependencies),
          referrers: (object) => this.referrers(kind, object),
        },
        reconcilerOptions,
      );
      this.served.set(kind, { kind, actuator, informer, reconciler });
    }
    this.elector =
      options.leaderElection === false
        ? undefined
        : new LeaderElector(
            kubernetes,
            {
              namespace: options.leaderElection.namespace,
              name: options.leaderElection.name ?? 'overcast-operator',
              identity:
                options.leaderElection.identity ?? `${process.env.HOSTNAME ?? 'operator'}-${process.pid}`,
              leaseDurationSeconds: options.leaderElection.leaseDurationSeconds ?? 15,
              retryPeriodMs: options.leaderElection.retryPeriodMs ?? 2_000,
              onStartedLeading: () => void this.startControllers(),
              // As controller-runtime: a replica that lost the lease stops reconciling at once,
              // and reports itself unhealthy so that it is restarted to compete again.
              onStoppedLeading: () => {
                this.lostLease = true;
                void this.stopControllers();
              },
            },
            log,
          );
    this.metrics.gauge('overcast_operator_queue_depth', 'Objects ready to reconcile, not started.', () => [
      { labels: {}, value: this.queue.depth },
    ]);
    this.metrics.gauge(
      'overcast_operator_queue_waiting',
      'Objects waiting for a backoff or a resync.',
      () => [{ labels: {}, value: this.queue.waiting }],
    );
    this.metrics.gauge('overcast_operator_leader', '1 while this replica holds the leader lease.', () => [
      { labels: {}, value: this.isLeading ? 1 : 0 },
    ]);
    this.metrics.gauge('overcast_operator_watch_relists_total', 'Lists after a 410 Gone, by kind.', () =>
      [...this.served.values()].map((served) => ({
        labels: { kind: served.kind },
        value: served.informer.relists,
      })),
    );
  }

  get isLeading(): boolean {
    return this.elector ? this.elector.leading : this.controllersRunning;
  }

  /** Ready: reconciling with every cache listed, or standing by for the lease. */
  get isReady(): boolean {
    if (!this.controllersRunning) return this.elector !== undefined && !this.stopping && !this.lostLease;
    return [...this.served.values()].every((served) => served.informer.synced);
  }

  /** The informer of a served kind, for tests and the metrics. */
  informer(kind: string): Informer | undefined {
    return this.served.get(kind)?.informer;
  }

  async start(): Promise<void> {
    if (this.options.http) await this.listen(this.options.http);
    if (this.elector) this.elector.start();
    else await this.startControllers();
  }

  get httpAddress(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  private async listen(where: { host: string; port: number }): Promise<void> {
    this.server = createServer((request, response) => {
      const path = request.url?.split('?')[0];
      if (path === '/metrics') {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.metrics.render());
      } else if (path === '/healthz') {
        if (this.lostLease)
          response.writeHead(503, { 'content-type': 'text/plain' }).end('lost the leader lease\n');
        else response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const ready = this.isReady;
        response
          .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
          .end(ready ? 'ok\n' : 'not ready\n');
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server?.listen(where.port, where.host, resolve));
  }

  private async startControllers(): Promise<void> {
    if (this.controllersRunning || this.stopping || this.lostLease) return;
    this.controllersRunning = true;
    // Lists fill the caches (and queue every object) before any reconcile looks up a dependency.
    await Promise.all([...this.served.values()].map((served) => served.informer.start()));
  }

  private async stopControllers(): Promise<void> {
    this.controllersRunning = false;
    for (const served of this.served.values()) served.informer.stop();
    await this.queue.shutDown();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopControllers();
    await this.elector?.stop();
    this.clients.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private changed(kind: string, type: ChangeType, object: KubeObject, old: KubeObject | undefined): void {
    const served = this.served.get(kind);
    if (!served) return;
    const key = queueKey(kind, object);
    const ownWriteArrived = served.reconciler.observed(keyOf(object), object);
    // Status writes (ours) change neither generation nor deletion: they need no reconcile,
    // except to release a key parked until the cache showed that write.
    const worthReconciling =
      type !== 'MODIFIED' ||
      ownWriteArrived ||
      old?.metadata.generation !== object.metadata.generation ||
      old?.metadata.deletionTimestamp !== object.metadata.deletionTimestamp;
    if (type === 'DELETED') {
      served.reconciler.forget(keyOf(object));
      this.queue.forget(key);
      this.dependOn(key, object, []);
    } else if (worthReconciling) this.queue.add(key);
    if (type === 'DELETED' || old?.metadata.generation !== object.metadata.generation)
      this.letGo(served, type === 'DELETED' ? undefined : object, type === 'DELETED' ? object : old);
    // Dependents wait for Available and use status.id: queue them when either changes.
    if (
      type !== 'MODIFIED' ||
      isAvailable(object) !== (old ? isAvailable(old) : false) ||
      old?.status?.id !== object.status?.id
    ) {
      for (const dependent of this.dependencies.dependentsOf(`${kind}/${keyOf(object)}`))
        this.queue.add(dependent);
    }
  }

  /**
   * The objects that hold `object` (of `kind`) from being deleted in the cloud: those of its
   * namespace naming it in a held dependency, itself excepted (a group's rule naming its own
   * group). Read from the caches, so it is right from the first pass after a restart.
   */
  private referrers(kind: string, object: KubeObject): string[] {
    const namespace = object.metadata.namespace ?? '';
    const found: string[] = [];
    for (const served of this.served.values()) {
      for (const candidate of served.informer.list()) {
        if (candidate.metadata.namespace !== namespace) continue;
        if (served.kind === kind && candidate.metadata.name === object.metadata.name) continue;
        if (
          heldBy(served.actuator, candidate).some(
            (dependency) => dependency.kind === kind && dependency.name === object.metadata.name,
          )
        )
          found.push(`${served.kind}/${candidate.metadata.name}`);
      }
    }
    return found.sort();
  }

  /**
   * After `before` stopped naming something (deleted, or its spec changed to `after`): the
   * dependencies it held that are being deleted are queued to go on, and a credentials Secret
   * no object uses any more loses the operator's finalizer.
   */
  private letGo(served: Served, after: KubeObject | undefined, before: KubeObject | undefined): void {
    if (!before) return;
    const namespace = before.metadata.namespace ?? '';
    for (const dependency of heldBy(served.actuator, before)) {
      const held = this.served.get(dependency.kind)?.informer.get(`${namespace}/${dependency.name}`);
      if (held?.metadata.deletionTimestamp) this.queue.add(queueKey(dependency.kind, held));
    }
    const secretName = before.spec?.cloudCredentialsRef?.secretName as string | undefined;
    if (!secretName || after?.spec?.cloudCredentialsRef?.secretName === secretName) return;
    const stillUsed = [...this.served.values()].some((other) =>
      other.informer
        .list()
        .some(
          (candidate) =>
            candidate.metadata.namespace === namespace &&
            candidate.spec?.cloudCredentialsRef?.secretName === secretName,
        ),
    );
    if (stillUsed) return;
    this.clients.release(namespace, secretName).catch((error) => {
      this.options.log.warn(
        { err: error, secret: `${namespace}/${secretName}` },
        'could not take the finalizer off the credentials Secret',
      );
    });
  }

  private dependOn(key: string, object: KubeObject, dependencies: Dependency[]): void {
    this.dependencies.set(
      key,
      dependencies.map(
        (dependency) => `${dependency.kind}/${object.metadata.namespace ?? ''}/${dependency.name}`,
      ),
    );
  }

  private async reconcile(key: string) {
    const slash = key.indexOf('/');
    const kind = key.slice(0, slash);
    const served = this.served.get(kind);
    if (!served) return { kind: 'done' } as const;
    const started = performance.now();
    try {
      const result = await served.reconciler.reconcile(key.slice(slash + 1));
      this.metrics.reconciled(
        kind,
        result.kind === 'retry' ? 'retry' : 'success',
        (performance.now() - started) / 1000,
      );
      return result;
    } catch (error) {
      this.metrics.reconciled(kind, 'error', (performance.now() - started) / 1000);
      this.metrics.error(kind, classify(error).reason);
      throw error;
    }
  }
}
