// Where the Kubernetes API is and how to prove who we are: from a kubeconfig file (its
// current context) or, inside a pod, from the service account Kubernetes mounts. Only what
// our operator's deployments use is read: a server with its CA (or none verified), and a
// client certificate, a bearer token (inline or in a file) or basic credentials.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface KubernetesConfig {
  /** Base URL of the API, without a trailing slash: https://10.0.0.1:6443 */
  server: string;
  /** PEM of the CA that signed the server's certificate; the system's CAs without it. */
  ca?: string;
  /** Do not verify the server's certificate at all (kubeconfig insecure-skip-tls-verify). */
  insecureSkipTlsVerify?: boolean;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  /** A bearer token as is. */
  token?: string;
  /** A file holding the bearer token, read again as it rotates (the service account's). */
  tokenFile?: string;
  username?: string;
  password?: string;
  /** The namespace of the context, or the pod's own in the cluster. */
  namespace?: string;
}

/** The kubeconfig or the in-cluster files are missing, malformed or ask for what we do not do. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

/** Where Kubernetes mounts a pod's service account. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface KubeconfigCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
}

interface KubeconfigUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
}

interface KubeconfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

function entry<T>(list: unknown, field: string, name: string | undefined, what: string): T {
  const found = Array.isArray(list)
    ? (list as Record<string, unknown>[]).find((item) => item?.name === name)
    : undefined;
  if (!found?.[field]) throw new KubeConfigError(`the kubeconfig has no ${what} named "${name ?? ''}"`);
  return found[field] as T;
}

/**
 * The current context of a kubeconfig's text. `baseDir` resolves the relative file paths in
 * it, which kubeconfig takes as relative to the file itself.
 */
export function parseKubeconfig(text: string, baseDir: string): KubernetesConfig {
  let document: Record<string, unknown>;
  try {
    document = (parseYaml(text) ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new KubeConfigError(`the kubeconfig is not valid YAML: ${(error as Error).message}`);
  }
  const contextName = document['current-context'] as string | undefined;
  if (!contextName) throw new KubeConfigError('the kubeconfig has no current-context');
  const context = entry<KubeconfigContext>(document.contexts, 'context', contextName, 'context');
  const cluster = entry<KubeconfigCluster>(document.clusters, 'cluster', context.cluster, 'cluster');
  const user: KubeconfigUser = context.user
    ? entry<KubeconfigUser>(document.users, 'user', context.user, 'user')
    : {};
  if (!cluster.server)
    throw new KubeConfigError(`the kubeconfig's cluster "${context.cluster}" has no server`);
  if (user.exec || user['auth-provider'])
    throw new KubeConfigError(
      `the kubeconfig's user "${context.user}" authenticates with a plugin (exec or auth-provider), which is not supported; use a certificate or a token`,
    );
  const file = (path: string) => readFileSync(isAbsolute(path) ? path : join(baseDir, path), 'utf8');
  const inlineOrFile = (data: string | undefined, path: string | undefined) =>
    data ? Buffer.from(data, 'base64').toString('utf8') : path ? file(path) : undefined;
  const tokenFile =
    user.tokenFile && (isAbsolute(user.tokenFile) ? user.tokenFile : join(baseDir, user.tokenFile));
  return withoutUndefined({
    server: cluster.server.replace(/\/+$/, ''),
    ca: inlineOrFile(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] || undefined,
    cert: inlineOrFile(user['client-certificate-data'], user['client-certificate']),
    key: inlineOrFile(user['client-key-data'], user['client-key']),
    token: user.token,
    tokenFile: user.token ? undefined : tokenFile,
    username: user.username,
    password: user.password,
    namespace: context.namespace,
  });
}

export function loadKubeconfigFile(path: string): KubernetesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KubeConfigError(`cannot read the kubeconfig ${path}: ${(error as Error).message}`);
  }
  return parseKubeconfig(text, dirname(path));
}

/**
 * The pod's own service account: the API at the `kubernetes` Service the kubelet announces in
 * the environment, its CA, and its token, which the kubelet rotates in place (so it is named
 * by file and read again).
 */
export function inClusterConfig(env = process.env, dir = SERVICE_ACCOUNT_DIR): KubernetesConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new KubeConfigError(
      'no kubeconfig given and not in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset)',
    );
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return undefined;
    }
  };
  const tokenFile = join(dir, 'token');
  if (read('token') === undefined)
    throw new KubeConfigError(`in a cluster but without a service account token at ${tokenFile}`);
  // An IPv6 address goes in brackets in a URL.
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return withoutUndefined({
    server: `https://${hostPart}:${port}`,
    ca: read('ca.crt'),
    tokenFile,
    namespace: read('namespace')?.trim(),
  });
}

/** The file named, else the one $KUBECONFIG names, else the cluster's own. */
export function loadKubernetesConfig(file?: string, env = process.env): KubernetesConfig {
  const path = file ?? env.KUBECONFIG;
  return path ? loadKubeconfigFile(path) : inClusterConfig(env);
}

function withoutUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}
