// OpenStack clients built from the credentials Secrets objects name (`clouds.yaml`, optional
// `cacert`), one per Secret and cloud, rebuilt when the Secret changes. Nothing from the
// Secret is logged or leaves this module but the client. A credentials Secret in use carries
// the operator's finalizer, so deleting it before the objects it serves cannot strand them.
import { KubernetesApiError, type KubernetesClient, resourcePath } from '../../lib/kubernetes/index.js';
import type { Logger } from '../../lib/log.js';
import { ConfigurationError, OpenStackClient, parseCloudsYaml } from '../../lib/openstack/index.js';
import { DependencyNotReady } from './errors.js';
import { FINALIZER } from './finalizer.js';

export interface CloudCredentialsRef {
  secretName: string;
  cloudName: string;
}

/** The fields of a Secret the operator reads; `data` values are base64. */
interface Secret {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  data?: Record<string, string>;
}

const isNotFound = (error: unknown) => error instanceof KubernetesApiError && error.statusCode === 404;

const secretPath = (namespace: string, name: string) =>
  resourcePath({ version: 'v1', plural: 'secrets', namespace, name });

export class CloudClients {
  private readonly clients = new Map<string, { secretVersion: string; client: OpenStackClient }>();
  /** The finalizer patch in flight per Secret ("namespace/name"). */
  private readonly holding = new Map<string, Promise<Secret>>();

  constructor(
    private readonly kubernetes: KubernetesClient,
    private readonly log: Logger,
  ) {}

  private async read(namespace: string, secretName: string): Promise<Secret> {
    try {
      return await this.kubernetes.get<Secret>(secretPath(namespace, secretName));
    } catch (error) {
      if (isNotFound(error)) throw new DependencyNotReady(`Waiting for Secret/${secretName} to exist`, true);
      throw error;
    }
  }

  /** One key of a Secret, decoded; waits while the Secret or the key is missing. */
  async readSecret(namespace: string, secretName: string, key: string): Promise<string> {
    const value = (await this.read(namespace, secretName)).data?.[key];
    if (value === undefined)
      throw new DependencyNotReady(`Waiting for Secret/${secretName} to have the key ${key}`, true);
    return Buffer.from(value, 'base64').toString('utf8');
  }

  /**
   * The client for the cloud `ref` names, and the Secret held by the operator's finalizer
   * from then on (a Secret already being deleted cannot take one, and is still readable
   * until the operator lets go).
   */
  async forObject(namespace: string, ref: CloudCredentialsRef): Promise<OpenStackClient> {
    let secret = await this.read(namespace, ref.secretName);
    const finalizers = secret.metadata?.finalizers ?? [];
    if (!finalizers.includes(FINALIZER) && !secret.metadata?.deletionTimestamp)
      secret = await this.hold(secret, finalizers);
    const key = `${namespace}/${ref.secretName}/${ref.cloudName}`;
    const secretVersion = secret.metadata?.resourceVersion ?? '';
    const cached = this.clients.get(key);
    if (cached?.secretVersion === secretVersion) return cached.client;
    cached?.client.close();
    this.clients.delete(key);
    const read = (name: string) => {
      const value = secret.data?.[name];
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
    };
    const cloudsYaml = read('clouds.yaml');
    if (cloudsYaml === undefined)
      throw new ConfigurationError(`Secret/${ref.secretName} has no clouds.yaml key`);
    const cacert = read('cacert');
    const cloud = parseCloudsYaml(cloudsYaml, ref.cloudName);
    const client = new OpenStackClient(cloud, { log: this.log, ...(cacert ? { ca: cacert } : {}) });
    this.clients.set(key, { secretVersion, client });
    return client;
  }

  /**
   * Puts the finalizer on; the objects applied together all find the Secret without it at
   * once, so one patch is shared by all of them (separate ones would conflict, 409, and retry).
   */
  private hold(secret: Secret, finalizers: string[]): Promise<Secret> {
    const key = `${secret.metadata?.namespace}/${secret.metadata?.name}`;
    let pending = this.holding.get(key);
    if (!pending) {
      pending = this.setFinalizers(secret, [...finalizers, FINALIZER]).finally(() =>
        this.holding.delete(key),
      );
      this.holding.set(key, pending);
    }
    return pending;
  }

  /** Takes the operator's finalizer off a Secret no object uses any more; other finalizers stay. */
  async release(namespace: string, secretName: string): Promise<void> {
    let secret: Secret;
    try {
      secret = await this.kubernetes.get<Secret>(secretPath(namespace, secretName));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    const finalizers = secret.metadata?.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return;
    await this.setFinalizers(
      secret,
      finalizers.filter((finalizer) => finalizer !== FINALIZER),
    );
  }

  /** With the resourceVersion read, so that a concurrent change fails (409) instead of being lost. */
  private async setFinalizers(secret: Secret, finalizers: string[]): Promise<Secret> {
    return this.kubernetes.mergePatch<Secret>(
      secretPath(secret.metadata?.namespace ?? '', secret.metadata?.name ?? ''),
      { metadata: { finalizers, resourceVersion: secret.metadata?.resourceVersion } },
    );
  }

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}
