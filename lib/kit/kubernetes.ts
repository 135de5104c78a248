// Kubernetes for the local components. These machines can fetch nothing but packages, so
// kube-apiserver, kube-controller-manager, kubectl, etcd and helm are compiled from the Go
// module proxy and cached by version; startKubernetes runs a one-node control plane
// (etcd + kube-apiserver + kube-controller-manager, no kubelet) from them on loopback.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  access,
  chmod,
  copyFile,
  link,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { commandExists, type RunOptions, type RunResult, run } from '../exec.js';
import {
  ComponentError,
  type Daemon,
  freePort,
  isRunning,
  type KitContext,
  startDaemon,
  waitUntil,
} from './common.js';
import { ensureDebianPackages } from './debian.js';

/** The k8s.io/kubernetes tag; its staging modules (k8s.io/api, ...) are tagged v0.36.3. */
export const KUBERNETES_VERSION = 'v1.36.3';
/** kube-apiserver 1.36 wants etcd 3.5.24+ or 3.6.x; Debian's 3.4 is too old. */
export const ETCD_VERSION = 'v3.6.16';
export const HELM_VERSION = 'v3.22.0';

/** Build tags Kubernetes' own release build (hack/lib/golang.sh) uses. */
const KUBERNETES_BUILD_TAGS = 'selinux,notest,grpcnotrace';
/** The first address of SERVICE_CIDR is the `kubernetes` Service; it goes into the serving cert. */
const SERVICE_CIDR = '10.0.0.0/24';
const KUBERNETES_SERVICE_IP = '10.0.0.1';

export interface KubernetesBinaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  etcd: string;
  helm: string;
}

export interface Kubernetes {
  /** Admin kubeconfig (client certificate in group system:masters). */
  kubeconfig: string;
  apiUrl: string;
  binaries: KubernetesBinaries;
  /** `${ctx.stateDir}/kubernetes`: PKI, kubeconfig, etcd data. */
  stateDir: string;
  /** Runs the cached kubectl against this control plane. */
  kubectl(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Stops kube-controller-manager, kube-apiserver and etcd, in that order; deletes nothing. */
  stop(): Promise<void>;
}

/** Where installKubernetes puts (or finds) each binary. */
export function kubernetesBinaries(cacheDir: string): KubernetesBinaries {
  const kubernetesBin = join(cacheDir, `kubernetes-${KUBERNETES_VERSION}`, 'bin');
  return {
    kubeApiserver: join(kubernetesBin, 'kube-apiserver'),
    kubeControllerManager: join(kubernetesBin, 'kube-controller-manager'),
    kubectl: join(kubernetesBin, 'kubectl'),
    etcd: join(cacheDir, `etcd-${ETCD_VERSION}`, 'bin', 'etcd'),
    helm: join(cacheDir, `helm-${HELM_VERSION}`, 'bin', 'helm'),
  };
}

/**
 * Builds whatever of the five binaries is missing from the cache; returns at once when all
 * are there. Safe to call concurrently (from several processes, too): builds are serialized
 * by a lock file in the cache directory, and each binary is re-checked under the lock.
 */
export async function installKubernetes(ctx: KitContext): Promise<KubernetesBinaries> {
  const binaries = kubernetesBinaries(ctx.cacheDir);
  // startKubernetes makes its PKI with openssl.
  await ensureDebianPackages(ctx, ['openssl']);
  if (await allExecutable(Object.values(binaries))) return binaries;

  await mkdir(ctx.cacheDir, { recursive: true });
  await withLockFile(ctx, join(ctx.cacheDir, '.kubernetes-build.lock'), async () => {
    const go = await findGo();
    if (!(await isExecutable(binaries.etcd))) await buildEtcd(ctx, go, binaries.etcd);
    if (!(await isExecutable(binaries.helm))) await buildHelm(ctx, go, binaries.helm);
    const kubernetesCommands = [
      { command: 'kube-apiserver', path: binaries.kubeApiserver },
      { command: 'kube-controller-manager', path: binaries.kubeControllerManager },
      { command: 'kubectl', path: binaries.kubectl },
    ];
    const missing: typeof kubernetesCommands = [];
    for (const entry of kubernetesCommands) if (!(await isExecutable(entry.path))) missing.push(entry);
    if (missing.length > 0) await buildKubernetes(ctx, go, missing);
  });
  return binaries;
}

// ---------------------------------------------------------------------------------------
// Building from the Go module proxy

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function allExecutable(paths: string[]): Promise<boolean> {
  const checks = await Promise.all(paths.map(isExecutable));
  return checks.every(Boolean);
}

async function findGo(): Promise<string> {
  if (await commandExists('go')) return 'go';
  // The official tarball's location, for shells whose PATH was not extended.
  if (await isExecutable('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new ComponentError(
    `building Kubernetes ${KUBERNETES_VERSION} needs the Go toolchain (go >= 1.26, the go line of ` +
      "k8s.io/kubernetes) on PATH; Debian bookworm's golang package is too old",
  );
}

/**
 * The wrapper modules must not pick up a caller's workspace or GOFLAGS (they would change
 * what is built, and GOCACHE hits with it). GOPROXY, GOSUMDB and GOTOOLCHAIN stay as the
 * site configured them. CGO_ENABLED=0: static binaries, no C compiler needed.
 */
function goEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, GOWORK: 'off', GO111MODULE: 'on', CGO_ENABLED: '0', GOFLAGS: '' };
}

/**
 * Turns go's output (thousands of "go: downloading" lines and, with -v, package names) into a
 * progress line every 20 seconds, so a first build that takes 10+ minutes shows life without
 * flooding the log.
 */
function goProgress(ctx: KitContext, what: string) {
  const startedAt = Date.now();
  let downloaded = 0;
  let compiled = 0;
  let latest = '';
  let partialLine = '';
  const report = (state: string) => {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    const counts = `${downloaded} modules downloaded, ${compiled} packages compiled`;
    ctx.progress(`${what}: ${state} after ${seconds}s (${counts}${latest ? `; latest ${latest}` : ''})`);
  };
  ctx.progress(`${what}: started`);
  const timer = setInterval(() => report('working'), 20_000);
  return {
    onOutput(chunk: string) {
      const lines = (partialLine + chunk).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        const download = /^go: downloading (\S+)/.exec(line);
        if (download?.[1]) {
          downloaded += 1;
          latest = download[1];
        } else if (/^[\w.~+/-]+$/.test(line)) {
          // `go build -v` prints the import path of each package it compiles.
          compiled += 1;
          latest = line;
        }
      }
    },
    finish(state: 'done' | 'failed') {
      clearInterval(timer);
      report(state);
    },
  };
}

/** Runs one go command in `cwd`, failing with a ComponentError that names the step and the command. */
async function runGo(
  ctx: KitContext,
  go: string,
  what: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  const progress = goProgress(ctx, what);
  try {
    const result = await run([go, ...args], {
      cwd: options.cwd,
      env: options.env ?? goEnvironment(),
      onOutput: progress.onOutput,
    });
    progress.finish('done');
    return result;
  } catch (err) {
    progress.finish('failed');
    throw new ComponentError(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Copies a freshly built binary into the cache under a temporary name, then renames it into place. */
async function installBinary(built: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.tmp.${process.pid}`;
  await copyFile(built, temporary);
  await chmod(temporary, 0o755);
  await rename(temporary, target);
}

/** Runs `argv` and checks that its output names `version`: the cache holds what its path claims. */
async function checkVersion(argv: string[], version: string): Promise<void> {
  let output: string;
  try {
    const result = await run(argv);
    output = result.stdout + result.stderr;
  } catch (err) {
    throw new ComponentError(`freshly built ${argv[0]} does not run: ${(err as Error).message}`);
  }
  if (!output.includes(version)) {
    throw new ComponentError(`${argv.join(' ')} reports "${output.trim()}", expected ${version}`);
  }
}

async function withWorkDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * etcd's server module has replace directives (api/v3 => ../api, ...), so
 * `go install go.etcd.io/etcd/server/v3@v` is refused; a throw-away main module that requires
 * it builds the same binary from the published modules.
 */
async function buildEtcd(ctx: KitContext, go: string, target: string): Promise<void> {
  await withWorkDir('overcast-etcd-build-', async (work) => {
    await writeFile(join(work, 'go.mod'), 'module overcast.local/etcd-build\n\ngo 1.25.0\n');
    await runGo(
      ctx,
      go,
      `etcd ${ETCD_VERSION}: resolving modules`,
      ['get', `go.etcd.io/etcd/server/v3@${ETCD_VERSION}`],
      {
        cwd: work,
      },
    );
    const built = join(work, 'etcd');
    await runGo(
      ctx,
      go,
      `etcd ${ETCD_VERSION}: compiling`,
      ['build', '-v', '-mod=mod', '-trimpath', '-ldflags=-s -w', '-o', built, 'go.etcd.io/etcd/server/v3'],
      { cwd: work },
    );
    await checkVersion([built, '--version'], ETCD_VERSION.slice(1));
    await installBinary(built, target);
  });
}

/** helm's go.mod has no replace directives, so plain `go install module@version` builds it. */
async function buildHelm(ctx: KitContext, go: string, target: string): Promise<void> {
  await withWorkDir('overcast-helm-build-', async (work) => {
    // Stamped as helm's release build does, so `helm version` reports the exact release.
    const versionPackage = 'helm.sh/helm/v3/internal/version';
    const ldflags = `-s -w -X ${versionPackage}.version=${HELM_VERSION} -X ${versionPackage}.gitTreeState=clean`;
    await runGo(
      ctx,
      go,
      `helm ${HELM_VERSION}: building`,
      ['install', '-v', '-trimpath', `-ldflags=${ldflags}`, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`],
      { cwd: work, env: { ...goEnvironment(), GOBIN: work } },
    );
    const built = join(work, 'helm');
    await checkVersion([built, 'version', '--short'], HELM_VERSION);
    await installBinary(built, target);
  });
}

/**
 * `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.36.3` is refused: that module replaces
 * every k8s.io/* staging module with ./staging/... and requires them at v0.0.0. Replace
 * directives only apply in the main module, so a throw-away main module that requires
 * k8s.io/kubernetes and replaces each staging module with its published v0.36.3 tag builds
 * the release's sources from the module proxy alone.
 */
async function buildKubernetes(
  ctx: KitContext,
  go: string,
  commands: { command: string; path: string }[],
): Promise<void> {
  const [, minor, patch] = /^v1\.(\d+)\.(\d+)$/.exec(KUBERNETES_VERSION) ?? [];
  const stagingVersion = `v0.${minor}.${patch}`;
  const names = commands.map((entry) => entry.command).join(', ');
  await withWorkDir('overcast-kubernetes-build-', async (work) => {
    const download = await runGo(
      ctx,
      go,
      `k8s.io/kubernetes ${KUBERNETES_VERSION}: fetching its go.mod`,
      ['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`],
      { cwd: work },
    );
    const module = JSON.parse(download.stdout) as { GoMod?: string; Origin?: { Hash?: string } };
    if (!module.GoMod)
      throw new ComponentError(`go mod download gave no go.mod for k8s.io/kubernetes@${KUBERNETES_VERSION}`);
    const upstreamGoMod = await readFile(module.GoMod, 'utf8');
    const staging = stagingModules(upstreamGoMod);
    if (staging.length === 0) {
      throw new ComponentError(
        `no k8s.io/* v0.0.0 staging requirements in ${module.GoMod}: cannot build ${names}`,
      );
    }
    await writeFile(join(work, 'go.mod'), wrapperGoMod(upstreamGoMod, staging, stagingVersion));

    // Records go.sum for exactly the packages built. Never `go mod tidy` here: nothing in the
    // wrapper imports k8s.io/kubernetes, so tidy would drop the requirement.
    const packages = commands.map((entry) => `k8s.io/kubernetes/cmd/${entry.command}`);
    await runGo(
      ctx,
      go,
      `${names} ${KUBERNETES_VERSION}: resolving modules`,
      ['get', ...packages.map((pkg) => `${pkg}@${KUBERNETES_VERSION}`)],
      { cwd: work },
    );

    const out = join(work, 'out');
    await mkdir(out);
    await runGo(
      ctx,
      go,
      `${names} ${KUBERNETES_VERSION}: compiling (10+ minutes the first time on 2 cores)`,
      [
        'build',
        '-v',
        '-mod=mod',
        '-trimpath',
        `-tags=${KUBERNETES_BUILD_TAGS}`,
        `-ldflags=${kubernetesLdflags(minor ?? '', module.Origin?.Hash)}`,
        '-o',
        `${out}/`,
        ...packages,
      ],
      { cwd: work },
    );
    for (const { command, path } of commands) {
      const built = join(out, command);
      await checkVersion(
        command === 'kubectl' ? [built, 'version', '--client'] : [built, '--version'],
        KUBERNETES_VERSION,
      );
      await installBinary(built, path);
    }
    // What was built from, for whoever wonders later.
    await copyFile(
      join(work, 'go.mod'),
      join(ctx.cacheDir, `kubernetes-${KUBERNETES_VERSION}`, 'wrapper-go.mod'),
    );
  });
}

/** Every `k8s.io/<name> v0.0.0` requirement of k8s.io/kubernetes' go.mod: its staging modules. */
function stagingModules(goMod: string): string[] {
  const found = new Set<string>();
  for (const match of goMod.matchAll(/^\s*(?:require\s+)?(k8s\.io\/[\w.-]+)\s+v0\.0\.0\s*(?:\/\/.*)?$/gm)) {
    if (match[1]) found.add(match[1]);
  }
  return [...found].sort();
}

/**
 * The wrapper's go.mod: upstream's go line and GODEBUG defaults (both only take effect in the
 * main module), the k8s.io/kubernetes requirement and one replace per staging module.
 */
function wrapperGoMod(upstreamGoMod: string, staging: string[], stagingVersion: string): string {
  const goLine = /^go\s+(\S+)\s*$/m.exec(upstreamGoMod)?.[1] ?? '1.26.0';
  const godebug = /^godebug\s+(default=go[\d.]+)\s*$/m.exec(upstreamGoMod)?.[1];
  const lines = ['module overcast.local/kubernetes-build', '', `go ${goLine}`, ''];
  if (godebug) lines.push(`godebug ${godebug}`, '');
  lines.push(`require k8s.io/kubernetes ${KUBERNETES_VERSION}`, '', 'replace (');
  for (const module of staging) lines.push(`\t${module} => ${module} ${stagingVersion}`);
  lines.push(')', '');
  return lines.join('\n');
}

/**
 * The version stamp hack/lib/version.sh applies. Without it /version reports
 * v0.0.0-master, which breaks helm's kubeVersion checks and kubectl's version-skew logic.
 * Only the link step sees -X, so a different buildDate still reuses every compiled package.
 */
function kubernetesLdflags(minor: string, commit: string | undefined): string {
  const buildDate = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const flags = ['-s', '-w'];
  for (const pkg of ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version']) {
    flags.push(
      `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
      `-X ${pkg}.gitMajor=1`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=${buildDate}`,
    );
    // The proxy rarely records the commit; an empty one beats the "$Format:%H$" placeholder.
    flags.push(`-X ${pkg}.gitCommit=${commit ?? ''}`);
  }
  return flags.join(' ');
}

/**
 * Holds `lockFile` while `work` runs. The lock is taken by hard-linking a file that already
 * holds "pid token" onto the lock path: link() is atomic and fails when the path exists, so
 * the lock never exists without its owner written in it. A lock whose pid is gone (a build
 * killed halfway) is taken over.
 */
async function withLockFile<T>(ctx: KitContext, lockFile: string, work: () => Promise<T>): Promise<T> {
  const owner = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  const candidate = `${lockFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(candidate, owner);
  try {
    let reportedWaitingFor = '';
    for (;;) {
      try {
        await link(candidate, lockFile);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readFile(lockFile, 'utf8').catch(() => '');
      const holderPid = Number(holder.split(' ')[0]);
      if (holder && !isRunning(holderPid)) {
        // Re-read right before removing, so a lock someone else just took over is left alone.
        if ((await readFile(lockFile, 'utf8').catch(() => '')) === holder)
          await unlink(lockFile).catch(() => {});
        continue;
      }
      if (holder !== reportedWaitingFor) {
        ctx.progress(`waiting for another Kubernetes build (pid ${holderPid}) holding ${lockFile}`);
        reportedWaitingFor = holder;
      }
      await sleep(1000);
    }
  } finally {
    await unlink(candidate).catch(() => {});
  }
  try {
    return await work();
  } finally {
    if ((await readFile(lockFile, 'utf8').catch(() => '')) === owner) await unlink(lockFile);
  }
}

// ---------------------------------------------------------------------------------------
// Running a control plane

interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on loopback with a fresh PKI under
 * `${ctx.stateDir}/kubernetes`, and returns once the API is ready and the controllers run
 * (the `default` ServiceAccount exists). Installs the binaries first when they are missing.
 */
export async function startKubernetes(ctx: KitContext): Promise<Kubernetes> {
  const binaries = await installKubernetes(ctx);
  const stateDir = join(ctx.stateDir, 'kubernetes');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const pki = await writePki(join(stateDir, 'pki'));

  const [etcdPort, etcdPeerPort, apiPort, controllerManagerPort] = await distinctFreePorts(4);
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const apiUrl = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = join(stateDir, 'kubeconfig');
  await writeAdminKubeconfig(kubeconfig, apiUrl, pki);
  const tls = {
    ca: await readFile(pki.caCert),
    cert: await readFile(pki.adminCert),
    key: await readFile(pki.adminKey),
  };

  const started: Daemon[] = [];
  const stop = async () => {
    const failures: unknown[] = [];
    for (const daemon of started.splice(0).reverse()) {
      await daemon.stop().catch((err: unknown) => failures.push(err));
    }
    if (failures.length > 0)
      throw new ComponentError(`stopping Kubernetes: ${failures.map(String).join('; ')}`);
  };

  try {
    ctx.progress(`kubernetes: starting etcd ${ETCD_VERSION} on ${etcdUrl}`);
    const etcd = await startDaemon(ctx, 'etcd', [
      binaries.etcd,
      '--name=overcast',
      `--data-dir=${join(stateDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=overcast=http://127.0.0.1:${etcdPeerPort}`,
      '--initial-cluster-state=new',
      // Throw-away data: durability is not worth an fsync per write on a test machine.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    started.push(etcd);
    await waitUntil('etcd', () => etcdHealthy(etcdUrl), {
      timeoutMs: 30_000,
      isAlive: etcd.isAlive,
      logFile: etcd.logFile,
    });

    ctx.progress(`kubernetes: starting kube-apiserver ${KUBERNETES_VERSION} on ${apiUrl}`);
    // The flags controller-runtime's envtest uses, plus what a host without a default route needs.
    const apiserver = await startDaemon(ctx, 'kube-apiserver', [
      binaries.kubeApiserver,
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      // Without it the apiserver looks for an address on the default route, which these hosts lack.
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${pki.dir}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-issuer=${apiUrl}`,
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=RBAC',
      // As envtest: a pod created in a brand-new namespace would otherwise be refused until the
      // controller manager has created that namespace's default ServiceAccount.
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      // The endpoint reconciler refuses a loopback advertise address; nothing here needs the
      // `kubernetes` Service's endpoints.
      '--endpoint-reconciler-type=none',
    ]);
    started.push(apiserver);
    await waitUntil(
      'kube-apiserver /readyz',
      async () => (await httpsStatus(`${apiUrl}/readyz`, tls)) === 200,
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        isAlive: apiserver.isAlive,
        logFile: apiserver.logFile,
      },
    );
    // Created by a post-start hook, which /readyz does not wait for.
    await waitUntil(
      'namespace default',
      async () => (await httpsStatus(`${apiUrl}/api/v1/namespaces/default`, tls)) === 200,
      { timeoutMs: 60_000, isAlive: apiserver.isAlive, logFile: apiserver.logFile },
    );

    ctx.progress('kubernetes: starting kube-controller-manager');
    const controllerManager = await startDaemon(ctx, 'kube-controller-manager', [
      binaries.kubeControllerManager,
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      // Its own port: the default 10257 would collide between two control planes on one host.
      `--secure-port=${controllerManagerPort}`,
      `--cert-dir=${join(stateDir, 'controller-manager-certs')}`,
      '--leader-elect=false',
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--use-service-account-credentials=false',
    ]);
    started.push(controllerManager);
    // The serviceaccount controller creating default/default proves the controllers are running.
    await waitUntil(
      'kube-controller-manager (default ServiceAccount)',
      async () =>
        (await httpsStatus(`${apiUrl}/api/v1/namespaces/default/serviceaccounts/default`, tls)) === 200,
      {
        timeoutMs: 90_000,
        intervalMs: 500,
        isAlive: controllerManager.isAlive,
        logFile: controllerManager.logFile,
      },
    );
    ctx.progress(`kubernetes: ready at ${apiUrl} (kubeconfig ${kubeconfig})`);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }

  return {
    kubeconfig,
    apiUrl,
    binaries,
    stateDir,
    kubectl: (args, options) => run([binaries.kubectl, `--kubeconfig=${kubeconfig}`, ...args], options),
    stop,
  };
}

/** freePort() can hand out the same port twice when asked back to back; the four must differ. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function etcdHealthy(etcdUrl: string): Promise<boolean> {
  const response = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) return false;
  const body = (await response.json()) as { health?: string };
  return body.health === 'true';
}

/** Status code of a GET over TLS verified against our CA, authenticated by the admin client cert. */
function httpsStatus(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, method: 'GET', timeout: 5000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A CA, the kube-apiserver serving certificate (valid for every name a client inside or
 * outside the cluster might use), an admin client certificate in group system:masters
 * (superuser, bypasses RBAC) and the service-account token signing key pair.
 */
async function writePki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const config = join(dir, 'openssl.cnf');
  const subjectAltNames = [
    'IP:127.0.0.1',
    `IP:${KUBERNETES_SERVICE_IP}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  await writeFile(
    config,
    [
      '[ req ]',
      'distinguished_name = dn',
      'prompt = no',
      '[ dn ]',
      'CN = unused',
      '[ v3_ca ]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
      '[ v3_server ]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      `subjectAltName = ${subjectAltNames.join(', ')}`,
      '[ v3_client ]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = clientAuth',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  const openssl = (args: string[]) => run(['openssl', ...args], { cwd: dir });
  const pki: Pki = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'service-account.key'),
    serviceAccountPublicKey: join(dir, 'service-account.pub'),
  };
  await Promise.all(
    [pki.caKey, pki.serverKey, pki.adminKey, pki.serviceAccountKey].map((key) =>
      openssl(['genrsa', '-out', key, '2048']),
    ),
  );
  await openssl(['rsa', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPublicKey]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    pki.caKey,
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/CN=overcast-kubernetes-ca',
    '-config',
    config,
    '-extensions',
    'v3_ca',
    '-out',
    pki.caCert,
  ]);
  const sign = async (key: string, cert: string, subject: string, extensions: string) => {
    const csr = `${cert}.csr`;
    await openssl(['req', '-new', '-key', key, '-subj', subject, '-config', config, '-out', csr]);
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      pki.caCert,
      '-CAkey',
      pki.caKey,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      '3650',
      '-sha256',
      '-extfile',
      config,
      '-extensions',
      extensions,
      '-out',
      cert,
    ]);
    await rm(csr);
  };
  await sign(pki.serverKey, pki.serverCert, '/CN=kube-apiserver', 'v3_server');
  await sign(pki.adminKey, pki.adminCert, '/O=system:masters/CN=overcast-admin', 'v3_client');
  for (const key of [pki.caKey, pki.serverKey, pki.adminKey, pki.serviceAccountKey]) await chmod(key, 0o600);
  return pki;
}

async function writeAdminKubeconfig(path: string, apiUrl: string, pki: Pki): Promise<void> {
  const base64 = async (file: string) => (await readFile(file)).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'overcast',
        cluster: { server: apiUrl, 'certificate-authority-data': await base64(pki.caCert) },
      },
    ],
    users: [
      {
        name: 'overcast-admin',
        user: {
          'client-certificate-data': await base64(pki.adminCert),
          'client-key-data': await base64(pki.adminKey),
        },
      },
    ],
    contexts: [{ name: 'overcast', context: { cluster: 'overcast', user: 'overcast-admin' } }],
    'current-context': 'overcast',
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
}
