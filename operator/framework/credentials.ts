// OpenStack clients built from the credentials Secrets objects name (`clouds.yaml`, optional
// `cacert`), one per Secret and cloud, rebuilt when the Secret changes. Nothing from the
// Secret is logged or leaves this module but the client.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.js';
import { ConfigurationError, OpenStackClient, parseCloudsYaml } from '../../lib/openstack/index.js';
import { DependencyNotReady } from './errors.js';

export interface CloudCredentialsRef {
  secretName: string;
  cloudName: string;
}

function statusCodeOf(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

export class CloudClients {
  private readonly api: CoreV1Api;
  private readonly clients = new Map<string, { secretVersion: string; client: OpenStackClient }>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly log: Logger,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  async forObject(namespace: string, ref: CloudCredentialsRef): Promise<OpenStackClient> {
    let secret: Awaited<ReturnType<CoreV1Api['readNamespacedSecret']>>;
    try {
      secret = await this.api.readNamespacedSecret({ name: ref.secretName, namespace });
    } catch (error) {
      if (statusCodeOf(error) === 404)
        throw new DependencyNotReady(`Waiting for Secret/${ref.secretName} to exist`, true);
      throw error;
    }
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

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}
