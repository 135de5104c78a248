// The operator process: connects to the Kubernetes API (a kubeconfig file, $KUBECONFIG, or
// the in-cluster service account), proves it can talk to it, then runs the reconciler
// framework (operator/framework) for every kind with an actuator, behind leader election.
import { KubernetesClient, type KubernetesConfig, loadKubernetesConfig } from '../lib/kubernetes/index.js';
import type { Logger } from '../lib/log.js';
import { Manager, type ManagerOptions } from './framework/manager.js';
import { applicationCredentialActuator } from './identity/application-credential.js';
import { projectActuator } from './identity/project.js';
import { userActuator } from './identity/user.js';
import { imageActuator } from './image/actuator.js';
import { networkActuator } from './network/actuator.js';
import { floatingIPActuator } from './network/floating-ip.js';
import { portActuator } from './network/port.js';
import { routerActuator } from './network/router.js';
import { securityGroupActuator } from './network/security-group.js';
import { subnetActuator } from './network/subnet.js';

export interface OperatorOptions {
  /** Path of a kubeconfig; without it $KUBECONFIG, then the in-cluster configuration. */
  kubeconfig?: string;
  /**
   * The Lease two replicas compete for; on by default in the namespace the operator runs in
   * ($POD_NAMESPACE, else `default`). False only where one replica is certain.
   */
  leaderElection?: ManagerOptions['leaderElection'];
  /** Where /metrics, /healthz and /readyz listen; not served without it. */
  http?: ManagerOptions['http'];
  /** Settings of the framework (concurrency, resync, rate limit...) for tests and tuning. */
  framework?: Partial<Omit<ManagerOptions, 'kubernetes' | 'log' | 'actuators' | 'leaderElection' | 'http'>>;
}

export interface RunningOperator {
  serverVersion: string;
  manager: Manager;
  close(): Promise<void>;
}

export class KubernetesUnreachable extends Error {
  override name = 'KubernetesUnreachable';
}

/** Where the operator program serves /metrics, /healthz and /readyz (the chart's probes). */
export const OPERATOR_HTTP_PORT = 8081;

/** The kinds with an actuator; the others are served by their CRDs and wait for theirs. */
export const ACTUATORS = [
  networkActuator,
  subnetActuator,
  routerActuator,
  imageActuator,
  portActuator,
  securityGroupActuator,
  floatingIPActuator,
  projectActuator,
  userActuator,
  applicationCredentialActuator,
];

export function loadKubeConfig(options: OperatorOptions): KubernetesConfig {
  return loadKubernetesConfig(options.kubeconfig);
}

export async function startOperator(options: OperatorOptions, log: Logger): Promise<RunningOperator> {
  const kubernetes = new KubernetesClient(loadKubeConfig(options));
  const server = kubernetes.server;
  let serverVersion: string;
  try {
    serverVersion = (await kubernetes.get<{ gitVersion: string }>('/version')).gitVersion;
  } catch (err) {
    kubernetes.close();
    throw new KubernetesUnreachable(
      `cannot reach the Kubernetes API at ${server}: ${(err as Error).message}`,
    );
  }
  log.info({ server, serverVersion }, 'operator connected to Kubernetes');
  const manager = new Manager({
    ...options.framework,
    kubernetes,
    log,
    actuators: ACTUATORS,
    leaderElection: options.leaderElection ?? { namespace: process.env.POD_NAMESPACE ?? 'default' },
    ...(options.http ? { http: options.http } : {}),
  });
  await manager.start();
  return {
    serverVersion,
    manager,
    async close() {
      await manager.stop();
      kubernetes.close();
    },
  };
}
