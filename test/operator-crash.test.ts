// Crash safety: the operator runs as its own process (`overcast operator`, leader election on)
// and is killed with SIGKILL at random moments while 100 objects (Networks and their Subnets)
// are applied at once, and again while they are deleted; each time a new process is started,
// waits out the dead one's Lease and goes on. The end states must be exact: every object
// Available with the one resource it made (no duplicate from a create whose status.id write
// was lost), then nothing left in the cloud (no leak from a delete cut short).
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GROUP, VERSION } from '../operator/crds/convention.js';
import {
  condition,
  type OpenStackObject,
  type OperatorTestbed,
  startOperatorTestbed,
} from './harness/operator.js';
import { OVERCAST } from './harness/overcast-up.js';

const PAIRS = 50;
const KILLS_WHILE_CREATING = 3;
let bed: OperatorTestbed;
let operator: { child: ChildProcess; output(): string } | undefined;
const kills: string[] = [];

function startOperatorProcess(): { child: ChildProcess; output(): string } {
  const child = spawn(
    OVERCAST,
    ['operator', '--kubeconfig', bed.kubeconfig, '--probes', '127.0.0.1:0'],
    // The Lease in the test's namespace, so nothing else competes for it.
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAMESPACE: bed.namespace } },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return { child, output: () => output };
}

/** Waits until the running process leads (a new one first waits out the killed one's Lease). */
async function leading(): Promise<void> {
  await vi.waitFor(
    () => {
      if (operator?.child.exitCode !== null) throw new Error(`operator exited:\n${operator?.output()}`);
      if (!operator.output().includes('became the leader')) throw new Error('not leading yet');
    },
    { timeout: 60_000, interval: 100 },
  );
}

/** SIGKILL after a random 0.2–2.5 s of leading, and a new process in its place. */
async function killAtRandom(during: string): Promise<void> {
  await leading();
  const delay = 200 + Math.floor(Math.random() * 2_300);
  await new Promise((resolve) => setTimeout(resolve, delay));
  const killed = operator as { child: ChildProcess };
  const exited = new Promise((resolve) => killed.child.once('exit', resolve));
  killed.child.kill('SIGKILL');
  await exited;
  kills.push(`${during}: killed ${delay} ms after it led`);
  operator = startOperatorProcess();
}

function manifest(): string {
  const credentials = { secretName: 'cloud', cloudName: 'overcast' };
  const objects = [];
  for (let index = 0; index < PAIRS; index++) {
    objects.push({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Network',
      metadata: { name: `crash-net-${index}`, namespace: bed.namespace },
      spec: { cloudCredentialsRef: credentials, resource: {} },
    });
    objects.push({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Subnet',
      metadata: { name: `crash-subnet-${index}`, namespace: bed.namespace },
      spec: {
        cloudCredentialsRef: credentials,
        resource: {
          networkRef: `crash-net-${index}`,
          cidr: `10.${100 + Math.floor(index / 250)}.${index % 250}.0/24`,
        },
      },
    });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
}

async function listed(): Promise<OpenStackObject[]> {
  const { stdout } = await bed.kubectl([
    'get',
    'networks.openstack.overcast.dev,subnets.openstack.overcast.dev',
    '-n',
    bed.namespace,
    '-o',
    'json',
  ]);
  return JSON.parse(stdout).items;
}

/** The names of the cloud's networks or subnets made for this test, with repeats. */
async function inCloud(collection: 'networks' | 'subnets'): Promise<string[]> {
  const found: string[] = [];
  for await (const item of bed.cloud.service('network').list<{ name: string }>(`/${collection}`, collection))
    if (item.name.startsWith('crash-')) found.push(item.name);
  return found.sort();
}

beforeAll(async () => {
  bed = await startOperatorTestbed('crash', { inProcess: false });
  operator = startOperatorProcess();
}, 180_000);

afterAll(async () => {
  // The operator process still runs while the testbed deletes what is left.
  await bed?.close();
  operator?.child.kill('SIGTERM');
});

describe('the operator killed at random points', () => {
  it('applying 100 objects: each ends Available with exactly one resource in the cloud', async () => {
    await bed.kubectl(['apply', '-f', '-'], manifest());
    for (let kill = 0; kill < KILLS_WHILE_CREATING; kill++) await killAtRandom('creating');
    await leading();
    await vi.waitFor(
      async () => {
        const objects = await listed();
        const pending = objects.filter((object) => condition(object, 'Available')?.status !== 'True');
        if (objects.length !== 2 * PAIRS || pending.length > 0)
          throw new Error(`${pending.length} not available yet`);
      },
      { timeout: 300_000, interval: 1_000 },
    );
    const expected = (prefix: string) =>
      Array.from({ length: PAIRS }, (_, index) => `${prefix}-${index}`).sort();
    // Duplicates would show as repeated names; leaks from adoption gone wrong as extra ones.
    expect(await inCloud('networks'), kills.join('; ')).toEqual(expected('crash-net'));
    expect(await inCloud('subnets'), kills.join('; ')).toEqual(expected('crash-subnet'));
    // And each object names the resource that is there.
    const cloudIds = new Set<string>();
    for await (const network of bed.cloud.service('network').list<{ id: string }>('/networks', 'networks'))
      cloudIds.add(network.id);
    for (const object of await listed())
      if (object.kind === 'Network') expect(cloudIds.has(object.status?.id as string)).toBe(true);
  }, 600_000);

  it('deleting them all: the objects go and nothing is left in the cloud', async () => {
    await bed.kubectl([
      'delete',
      'networks.openstack.overcast.dev,subnets.openstack.overcast.dev',
      '--all',
      '-n',
      bed.namespace,
      '--wait=false',
    ]);
    await killAtRandom('deleting');
    await leading();
    await vi.waitFor(
      async () => {
        const left = (await listed()).length;
        if (left > 0) throw new Error(`${left} objects left`);
      },
      { timeout: 300_000, interval: 1_000 },
    );
    expect(await inCloud('subnets'), kills.join('; ')).toEqual([]);
    expect(await inCloud('networks'), kills.join('; ')).toEqual([]);
  }, 600_000);
});
