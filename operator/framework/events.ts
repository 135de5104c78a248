// Kubernetes Events on the objects: every create, update, adoption and deletion done in the
// cloud, and every error, so `kubectl describe` tells the story (the leading OpenStack
// controller posts none). Posting an Event never fails a reconcile.
import { randomBytes } from 'node:crypto';
import { type KubernetesClient, resourcePath } from '../../lib/kubernetes/index.js';
import type { Logger } from '../../lib/log.js';
import type { KubeObject } from './informer.js';

export const COMPONENT = 'overcast-operator';

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  constructor(
    private readonly kubernetes: KubernetesClient,
    private readonly log: Logger,
    private readonly host = process.env.HOSTNAME ?? 'operator',
  ) {}

  /** `reason` is CamelCase (Created, Deleted, ReconcileError); `message` never holds a secret. */
  async record(object: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = object.metadata.namespace ?? 'default';
    const now = new Date().toISOString();
    try {
      await this.kubernetes.post(resourcePath({ version: 'v1', plural: 'events', namespace }), {
        metadata: { name: `${object.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.metadata.name,
          namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        reportingComponent: COMPONENT,
        reportingInstance: this.host,
        source: { component: COMPONENT, host: this.host },
      });
    } catch (error) {
      this.log.warn({ err: error, object: object.metadata.name, reason }, 'could not post an Event');
    }
  }
}
