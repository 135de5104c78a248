// The operator's only writes to its own objects: the status (through the status subresource,
// replacing it whole with the resourceVersion it was computed from, so a stale computation
// fails with 409 instead of overwriting newer news) and its finalizer.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeObject } from './informer.js';

export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

export class ObjectWriter {
  private readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly resource: CustomResource,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  private target(object: KubeObject) {
    return { ...this.resource, namespace: object.metadata.namespace ?? '', name: object.metadata.name };
  }

  // biome-ignore lint/suspicious/noExplicitAny: a status of any kind, validated by the CRD schema
  async replaceStatus(object: KubeObject, status: any): Promise<KubeObject> {
    return (await this.api.replaceNamespacedCustomObjectStatus({
      ...this.target(object),
      body: { ...object, status },
    })) as KubeObject;
  }

  /** Sets metadata.finalizers, failing with 409 if the object changed since it was read. */
  async setFinalizers(object: KubeObject, finalizers: string[]): Promise<KubeObject> {
    return (await this.api.patchNamespacedCustomObject(
      {
        ...this.target(object),
        body: { metadata: { finalizers, resourceVersion: object.metadata.resourceVersion } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as KubeObject;
  }
}
