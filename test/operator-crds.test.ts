// The operator's CRDs and ClusterRole, applied for real to the test kube-apiserver: kubectl
// installs them, serves every kind under `kubectl get openstack` with its printer columns,
// accepts the Nebula example, and refuses bad objects with the CEL messages of the schema
// source (operator/crds) before anything could reach a cloud.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, run } from '../lib/exec.js';
import { GROUP, type KindSpec, type OpenStackKind, VERSION } from '../operator/crds/convention.js';
import { ApplicationCredential, Project } from '../operator/crds/identity.js';
import { Image } from '../operator/crds/image.js';
import { KINDS } from '../operator/crds/kinds.js';
import { Network, Port, Subnet } from '../operator/crds/network.js';
import { required } from './harness/inject.js';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'nebula-network.yaml');
const kubeconfig = required('kubeconfig');
const kubectlPath = required('kubectl');

function kubectl(args: string[], input?: string): Promise<RunResult> {
  return run([kubectlPath, `--kubeconfig=${kubeconfig}`, ...args], { input, timeoutMs: 120_000 });
}

function kubectlAllowingFailure(args: string[], input?: string): Promise<RunResult> {
  return run([kubectlPath, `--kubeconfig=${kubeconfig}`, ...args], { input, allowFailure: true });
}

const namespace = `crds-${randomBytes(3).toString('hex')}`;
const credentials = { secretName: 'cloud', cloudName: 'overcast' };

/** An object of the kind as kubectl would send it; the spec is typed by the same schemas. */
function manifest<K extends OpenStackKind>(
  kind: K,
  name: string,
  spec: Partial<KindSpec<K>>,
  inNamespace = namespace,
): string {
  return JSON.stringify({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: kind.kind,
    metadata: { name, namespace: inNamespace },
    spec: { cloudCredentialsRef: credentials, ...spec },
  });
}

/** Applies the object and returns the apiserver's refusal; fails the test if it was accepted. */
async function refusal(object: string): Promise<string> {
  const result = await kubectlAllowingFailure(['apply', '-f', '-'], object);
  expect(result.code, `accepted: ${object}`).not.toBe(0);
  return result.stderr;
}

/** The table `kubectl get` prints, as rows of columns (whitespace-separated, header first). */
async function table(args: string[]): Promise<string[][]> {
  const { stdout } = await kubectl(['get', ...args]);
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split(/\s{2,}/));
}

beforeAll(async () => {
  await kubectl(['apply', '-f', join(ROOT, 'crds')]);
  await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...KINDS.map((kind) => `crd/${kind.plural}.${GROUP}`),
  ]);
  await kubectl(['create', 'namespace', namespace]);
});

afterAll(async () => {
  // Waited for, so that a later test applying the example finds no namespace still terminating.
  await kubectl(['delete', 'namespace', namespace, 'nebula', '--ignore-not-found', '--timeout=90s']);
});

describe('operator CRDs on a real kube-apiserver', () => {
  it('serves every kind, in the openstack category, under its short name', async () => {
    const { stdout } = await kubectl(['api-resources', `--api-group=${GROUP}`, '--output=wide']);
    for (const kind of KINDS) {
      const row = stdout.split('\n').find((line) => line.startsWith(`${kind.plural} `));
      expect(row, kind.kind).toBeDefined();
      expect(row).toContain(kind.shortNames[0]);
      expect(row).toContain(`${GROUP}/${VERSION}`);
      expect(row).toMatch(/\bopenstack\b/);
    }
  });

  it('accepts the Nebula example, and kubectl get openstack lists every kind', async () => {
    await kubectl(['apply', '-f', EXAMPLE]);
    // The two kinds the example does not use, so that the listing shows all of them.
    await kubectl(
      ['apply', '-f', '-'],
      manifest(
        Port,
        'bastion',
        {
          resource: { networkRef: 'nebula-net', fixedIPs: [{ subnetRef: 'nebula-subnet' }] },
        },
        'nebula',
      ),
    );
    await kubectl(
      ['apply', '-f', '-'],
      manifest(
        ApplicationCredential,
        'ci',
        {
          resource: { userRef: 'nebula-user', projectRef: 'nebula', secretRef: { secretName: 'ci-secret' } },
        },
        'nebula',
      ),
    );
    const { stdout } = await kubectl(['get', 'openstack', '-n', 'nebula', '-o', 'name']);
    const listed = stdout.trim().split('\n').sort();
    expect(listed).toEqual(
      [
        'applicationcredential/ci',
        'floatingip/nebula-ip',
        'image/cirros',
        'network/nebula-net',
        'network/public',
        'port/bastion',
        'project/nebula',
        'router/nebula-router',
        'securitygroup/nebula-ssh',
        'subnet/nebula-subnet',
        'user/nebula-user',
      ].map((name) => name.replace('/', `.${GROUP}/`)),
    );
    for (const kind of KINDS)
      expect(listed.some((name) => name.startsWith(`${kind.kind.toLowerCase()}.`))).toBe(true);
    // As a table, one block per kind, each with the common columns.
    const tables = (await kubectl(['get', 'openstack', '-n', 'nebula'])).stdout;
    const headers = tables.split('\n').filter((line) => line.startsWith('NAME '));
    expect(headers).toHaveLength(KINDS.length);
    for (const header of headers) expect(header).toMatch(/^NAME\s+ID\s+AVAILABLE\s+(\w+\s+)?MESSAGE\s+AGE$/);
  });

  it('fills the defaults of the schema', async () => {
    const { stdout } = await kubectl(['get', 'subnet', 'nebula-subnet', '-n', 'nebula', '-o', 'json']);
    const subnet = JSON.parse(stdout);
    expect(subnet.spec.managementPolicy).toBe('managed');
    expect(subnet.spec.resource.ipVersion).toBe(4);
    expect(subnet.spec.resource.enableDHCP).toBe(true);
  });

  it('shows ID, Available, CIDR, Message and Age, filled from the status the operator writes', async () => {
    let rows = await table(['subnets', '-n', 'nebula']);
    expect(rows[0]).toEqual(['NAME', 'ID', 'AVAILABLE', 'CIDR', 'MESSAGE', 'AGE']);
    const status = {
      id: '9d4f1a52-0d6a-4c1e-9d56-3c2b1a0f4e11',
      resource: { cidr: '10.20.0.0/24', ipVersion: 4, gatewayIP: '10.20.0.1' },
      lastSyncTime: '2026-11-23T08:00:00Z',
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'Success',
          message: 'Subnet is available',
          observedGeneration: 1,
          lastTransitionTime: '2026-11-23T08:00:00Z',
        },
        {
          type: 'Progressing',
          status: 'False',
          reason: 'Success',
          message: 'Subnet is up to date',
          observedGeneration: 1,
          lastTransitionTime: '2026-11-23T08:00:00Z',
        },
      ],
    };
    await kubectl([
      'patch',
      'subnet',
      'nebula-subnet',
      '-n',
      'nebula',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
    rows = await table(['subnets', '-n', 'nebula']);
    expect(rows[1]?.slice(0, 5)).toEqual([
      'nebula-subnet',
      status.id,
      'True',
      '10.20.0.0/24',
      'Subnet is up to date',
    ]);
    const networks = await table(['osnet', '-n', 'nebula']);
    expect(networks[0]).toEqual(['NAME', 'ID', 'AVAILABLE', 'MESSAGE', 'AGE']);
  });

  it('refuses a status reason outside the convention', async () => {
    const result = await kubectlAllowingFailure([
      'patch',
      'network',
      'nebula-net',
      '-n',
      'nebula',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          conditions: [
            {
              type: 'Available',
              status: 'False',
              reason: 'Oops',
              message: '',
              lastTransitionTime: '2026-11-23T08:00:00Z',
            },
          ],
        },
      }),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('status.conditions[0].reason: Unsupported value: "Oops"');
  });

  describe('refuses bad objects with a clear message', () => {
    it('managed without resource', async () => {
      expect(await refusal(manifest(Network, 'no-resource', {}))).toContain(
        'resource must be specified when managementPolicy is managed',
      );
    });

    it('unmanaged without import', async () => {
      expect(await refusal(manifest(Network, 'no-import', { managementPolicy: 'unmanaged' }))).toContain(
        'import must be specified when managementPolicy is unmanaged',
      );
    });

    it('import with both id and filter', async () => {
      const both = manifest(Network, 'both', {
        managementPolicy: 'unmanaged',
        import: { id: 'a5a1b7d2-1f2b-4f0e-8d8e-7f6c5b4a3921', filter: { name: 'public' } },
      });
      expect(await refusal(both)).toContain('import must have exactly one of id or filter');
    });

    it('import with an empty filter, and import of a managed object', async () => {
      const empty = manifest(Network, 'empty-filter', {
        managementPolicy: 'unmanaged',
        import: { filter: {} },
      });
      expect(await refusal(empty)).toContain(
        'spec.import.filter: Invalid value: 0: spec.import.filter in body should have at least 1 properties',
      );
      const managed = manifest(Network, 'managed-import', { import: { id: 'x' }, resource: {} });
      expect(await refusal(managed)).toContain(
        'import may not be specified when managementPolicy is managed',
      );
    });

    it('a change of managementPolicy', async () => {
      await kubectl(
        ['apply', '-f', '-'],
        manifest(Network, 'imported', { managementPolicy: 'unmanaged', import: { id: 'e2b1' } }),
      );
      const flipped = manifest(Network, 'imported', { managementPolicy: 'managed', resource: {} });
      expect(await refusal(flipped)).toContain('managementPolicy is immutable');
    });

    it('a change of an immutable field, or adding one that was left out', async () => {
      const subnet = (cidr: string) => manifest(Subnet, 'fixed', { resource: { networkRef: 'net', cidr } });
      await kubectl(['apply', '-f', '-'], subnet('10.1.0.0/24'));
      expect(await refusal(subnet('10.2.0.0/24'))).toContain('cidr is immutable');
      await kubectl(['apply', '-f', '-'], manifest(Network, 'net', { resource: {} }));
      expect(await refusal(manifest(Network, 'net', { resource: { projectRef: 'late' } }))).toContain(
        'projectRef is immutable',
      );
      // A mutable field changes freely.
      await kubectl(['apply', '-f', '-'], manifest(Network, 'net', { resource: { mtu: 1400 } }));
    });

    it('values the cloud would refuse: a host address as CIDR, the wrong family, a pool outside the CIDR, a short hash, a role binding naming two subjects', async () => {
      expect(
        await refusal(manifest(Subnet, 'host', { resource: { networkRef: 'net', cidr: '10.1.0.1/24' } })),
      ).toContain('must be a network address in CIDR notation, such as 10.0.0.0/24');
      expect(
        await refusal(
          manifest(Subnet, 'v6', { resource: { networkRef: 'net', cidr: '10.1.0.0/24', ipVersion: 6 } }),
        ),
      ).toContain('cidr must be of the family of ipVersion');
      const outside = manifest(Subnet, 'pools', {
        resource: {
          networkRef: 'net',
          cidr: '10.1.0.0/24',
          allocationPools: [{ start: '10.1.0.10', end: '10.1.1.9' }],
        },
      });
      expect(await refusal(outside)).toContain('allocationPools must lie inside cidr');
      const shortHash = manifest(Image, 'short-hash', {
        resource: {
          content: {
            url: 'https://images.example/cirros.img',
            diskFormat: 'qcow2',
            expectedHash: { algorithm: 'sha256', value: 'c8fc807773e5354afe61636071771906' },
          },
        },
      });
      expect(await refusal(shortHash)).toContain('value must be a whole hex digest of algorithm');
      const twoSubjects = manifest(Project, 'p', {
        resource: { roleBindings: [{ role: 'member', user: 'alice', group: 'devs' }] },
      });
      expect(await refusal(twoSubjects)).toContain(
        'a role binding names exactly one of userRef, user or group',
      );
    });
  });
});

describe('operator ClusterRole', () => {
  const account = `system:serviceaccount:${namespace}:operator`;
  const can = async (...args: string[]) =>
    (await kubectlAllowingFailure(['auth', 'can-i', ...args, `--as=${account}`])).stdout.trim();

  it('grants what the operator needs and nothing more', async () => {
    await kubectl(['create', 'serviceaccount', 'operator', '-n', namespace]);
    await kubectl([
      'create',
      'clusterrolebinding',
      `overcast-operator-${namespace}`,
      '--clusterrole=overcast-operator',
      `--serviceaccount=${namespace}:operator`,
    ]);
    try {
      expect(await can('watch', `networks.${GROUP}`)).toBe('yes');
      expect(await can('patch', `floatingips.${GROUP}`, '--subresource=status')).toBe('yes');
      expect(await can('update', `subnets.${GROUP}`, '--subresource=finalizers')).toBe('yes');
      expect(await can('update', 'secrets', '-n', 'nebula')).toBe('yes');
      expect(await can('create', 'events', '-n', 'nebula')).toBe('yes');
      expect(await can('update', 'leases.coordination.k8s.io', '-n', namespace)).toBe('yes');
      // Users create and delete the objects; the operator never does, nor touches other Secrets' data.
      expect(await can('create', `networks.${GROUP}`)).toBe('no');
      expect(await can('delete', `networks.${GROUP}`)).toBe('no');
      expect(await can('delete', 'secrets')).toBe('no');
      expect(await can('create', 'secrets')).toBe('no');
      expect(await can('delete', 'leases.coordination.k8s.io')).toBe('no');
    } finally {
      await kubectl(['delete', 'clusterrolebinding', `overcast-operator-${namespace}`]);
    }
  });
});
