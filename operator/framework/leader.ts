// Leader election with a coordination.k8s.io Lease, as client-go's leaderelection: the holder
// renews it every retry period; another replica takes it over only once it has not been
// renewed for the lease duration. Writes carry the resourceVersion they read, so two replicas
// taking an expired lease at once cannot both win.
import { KubernetesApiError, type KubernetesClient, resourcePath } from '../../lib/kubernetes/index.js';
import type { Logger } from '../../lib/log.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  retryPeriodMs: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** The fields of a coordination.k8s.io/v1 Lease the election uses; the rest goes back as read. */
interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const statusOf = (error: unknown) => (error instanceof KubernetesApiError ? error.statusCode : undefined);

/** A Lease's times are MicroTime, which the apiserver parses only with six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private lastRenewed = 0;
  private stopped = false;
  leading = false;

  constructor(
    private readonly kubernetes: KubernetesClient,
    private readonly options: LeaderElectionOptions,
    private readonly log: Logger,
  ) {}

  private path(name?: string): string {
    const { namespace } = this.options;
    return resourcePath({
      group: 'coordination.k8s.io',
      version: 'v1',
      plural: 'leases',
      namespace,
      ...(name ? { name } : {}),
    });
  }

  start(): void {
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const held = await this.tryAcquireOrRenew();
      if (held) this.lastRenewed = Date.now();
      if (held && !this.leading) {
        this.leading = true;
        this.log.info({ lease: this.options.name, identity: this.options.identity }, 'became the leader');
        this.options.onStartedLeading();
      }
    } catch (error) {
      this.log.warn({ err: error }, 'could not renew the leader lease');
    }
    // A leader that could not renew within the lease duration must assume another took over.
    if (this.leading && Date.now() - this.lastRenewed > this.options.leaseDurationSeconds * 1000) {
      this.leading = false;
      this.log.warn({ lease: this.options.name }, 'lost the leader lease');
      this.options.onStoppedLeading();
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    const nowDate = new Date();
    const now = microTime(nowDate);
    let lease: Lease;
    try {
      lease = await this.kubernetes.get<Lease>(this.path(name));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await this.kubernetes.post(this.path(), {
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired =
      renewedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < nowDate.getTime();
    const mine = spec.holderIdentity === identity;
    if (!mine && spec.holderIdentity && !expired) return false;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      ...(mine ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
    };
    try {
      await this.kubernetes.put(this.path(name), lease);
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
    return true;
  }

  /** Stops renewing and, when leading, gives the lease up so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.kubernetes.get<Lease>(this.path(this.options.name));
      if (lease.spec?.holderIdentity === this.options.identity) {
        lease.spec = { ...lease.spec, holderIdentity: undefined, renewTime: undefined };
        await this.kubernetes.put(this.path(this.options.name), lease);
      }
    } catch (error) {
      this.log.warn({ err: error }, 'could not release the leader lease');
    }
  }
}
