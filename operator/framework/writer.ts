// The operator's only writes to its own objects: the status (through the status subresource,
// replacing it whole with the resourceVersion it was computed from, so a stale computation
// fails with 409 instead of overwriting newer news) and its finalizer.
import { type KubernetesClient, resourcePath } from '../../lib/kubernetes/index.js';
import type { KubeObject } from './informer.js';

export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

export class ObjectWriter {
  constructor(
    private readonly kubernetes: KubernetesClient,
    private readonly resource: CustomResource,
  ) {}

  private path(object: KubeObject, subresource?: string): string {
    return resourcePath({
      ...this.resource,
      namespace: object.metadata.namespace ?? '',
      name: object.metadata.name,
      ...(subresource ? { subresource } : {}),
    });
  }

  // biome-ignore lint/suspicious/noExplicitAny: a status of any kind, validated by the CRD schema
  async replaceStatus(object: KubeObject, status: any): Promise<KubeObject> {
    return this.kubernetes.put<KubeObject>(this.path(object, 'status'), { ...object, status });
  }

  /** Sets metadata.finalizers, failing with 409 if the object changed since it was read. */
  async setFinalizers(object: KubeObject, finalizers: string[]): Promise<KubeObject> {
    return this.kubernetes.mergePatch<KubeObject>(this.path(object), {
      metadata: { finalizers, resourceVersion: object.metadata.resourceVersion },
    });
  }
}
