// Installs (or updates) every CRD the operator serves on a cluster, rendered from the source
// in this folder, and waits until the apiserver serves them.
import type { RunOptions, RunResult } from '../../lib/exec.js';
import { CATEGORY, GROUP } from './convention.js';
import { KINDS } from './kinds.js';
import { customResourceDefinition } from './render.js';

export type Kubectl = (args: string[], options?: RunOptions) => Promise<RunResult>;

export async function installCustomResourceDefinitions(kubectl: Kubectl): Promise<void> {
  const list = { apiVersion: 'v1', kind: 'List', items: KINDS.map(customResourceDefinition) };
  await kubectl(['apply', '--server-side', '--field-manager=overcast', '-f', '-'], {
    input: JSON.stringify(list),
  });
  await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...KINDS.map((kind) => `crd/${kind.plural}.${GROUP}`),
  ]);
  // Established is not yet discoverable: the category answers a moment later, and a user's
  // first `kubectl get openstack` should not be the one to find that out.
  for (let attempt = 0; ; attempt++) {
    const listed = await kubectl(['get', CATEGORY, '--all-namespaces'], { allowFailure: true });
    if (listed.code === 0) return;
    if (attempt === 60) throw new Error(`the CRDs are installed but not served: ${listed.stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
