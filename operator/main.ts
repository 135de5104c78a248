// The operator process: connects to the Kubernetes API (a kubeconfig file, $KUBECONFIG, or
// the in-cluster service account) and proves it can talk to it before reconciling. The
// reconciler framework and the per-kind reconcilers are registered here as they land.
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';

export interface OperatorOptions {
  /** Path of a kubeconfig; without it $KUBECONFIG, then the in-cluster configuration. */
  kubeconfig?: string;
}

export interface RunningOperator {
  serverVersion: string;
  close(): Promise<void>;
}

export class KubernetesUnreachable extends Error {
  override name = 'KubernetesUnreachable';
}

export function loadKubeConfig(options: OperatorOptions): KubeConfig {
  const kubeConfig = new KubeConfig();
  const file = options.kubeconfig ?? process.env.KUBECONFIG;
  if (file) kubeConfig.loadFromFile(file);
  else kubeConfig.loadFromCluster();
  return kubeConfig;
}

export async function startOperator(options: OperatorOptions, log: Logger): Promise<RunningOperator> {
  const kubeConfig = loadKubeConfig(options);
  const server = kubeConfig.getCurrentCluster()?.server ?? '(none)';
  let serverVersion: string;
  try {
    const version = await kubeConfig.makeApiClient(VersionApi).getCode();
    serverVersion = version.gitVersion;
  } catch (err) {
    throw new KubernetesUnreachable(
      `cannot reach the Kubernetes API at ${server}: ${(err as Error).message}`,
    );
  }
  log.info({ server, serverVersion }, 'operator connected to Kubernetes');
  return { serverVersion, close: async () => {} };
}
