// A small client of the Kubernetes API for the operator: kubeconfig and in-cluster
// configuration, JSON requests, watches.
export {
  KubernetesClient,
  MERGE_PATCH_TYPE,
  type OpenWatch,
  type Query,
  type WatchEventHandler,
} from './client.js';
export {
  inClusterConfig,
  KubeConfigError,
  type KubernetesConfig,
  loadKubeconfigFile,
  loadKubernetesConfig,
  parseKubeconfig,
} from './config.js';
export { KubernetesApiError } from './errors.js';
export { type ResourceLocation, resourcePath } from './paths.js';
