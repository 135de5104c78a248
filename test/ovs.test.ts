// The private Open vSwitch the node-agent will drive: a userspace (netdev) bridge really
// switches frames between network namespaces, OpenFlow rules on it really decide, and a
// private instance stays inside its own run directory and namespace.
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/exec.js';
import { defaultCacheDir, isRunning, type KitContext, waitUntil } from '../lib/kit/common.js';
import { addAddress, inNamespace, linkExists, linkMac, ScratchNetwork } from '../lib/kit/netns.js';
import { type Ovs, type OvsClient, OvsSetupError, ovsClient, ovsPaths, startOvs } from '../lib/kit/ovs.js';
import { required } from './harness/inject.js';

/**
 * A documentation range (RFC 5737), used only inside namespaces this file creates. Not
 * 192.0.2.0/24: test machines may sit on that one themselves.
 */
const TEST_SUBNET_PREFIX = '198.51.100.';
const ADDRESS_A = `${TEST_SUBNET_PREFIX}1`;
const ADDRESS_B = `${TEST_SUBNET_PREFIX}2`;

async function pingSucceeds(namespace: string, address: string, count = 1): Promise<boolean> {
  const ping = ['ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', address];
  const result = await run(inNamespace(namespace, ping), { allowFailure: true });
  return result.code === 0;
}

/** Waits for the first reply (ARP and port set-up take a moment), then wants three in a row. */
async function expectReachable(namespace: string, address: string): Promise<void> {
  await waitUntil(`ping ${address} from ${namespace}`, () => pingSucceeds(namespace, address), {
    timeoutMs: 15_000,
    intervalMs: 200,
  });
  expect(await pingSucceeds(namespace, address, 3)).toBe(true);
}

async function ofport(ovs: OvsClient, iface: string): Promise<number> {
  return Number(await ovs.vsctl(['get', 'Interface', iface, 'ofport']));
}

/** MAC → OpenFlow port number, from `ovs-appctl fdb/show`. */
async function learnedMacs(ovs: OvsClient, bridge: string): Promise<Map<string, number>> {
  const table = await ovs.appctl(['fdb/show', bridge]);
  const learned = new Map<string, number>();
  for (const line of table.split('\n')) {
    const match = /^\s*(\d+)\s+\d+\s+([0-9a-f:]{17})\s/.exec(line);
    if (match?.[1] && match[2]) learned.set(match[2], Number(match[1]));
  }
  return learned;
}

async function readPid(pidFile: string): Promise<number> {
  return Number((await readFile(pidFile, 'utf8')).trim());
}

/** Live processes whose command line names `path` (a zombie's command line is empty). */
async function processesMentioning(path: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const found: number[] = [];
  for (const pid of pids) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').some((arg) => arg.includes(path))) found.push(Number(pid));
  }
  return found;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('two namespaces on a netdev bridge of the shared private switch', () => {
  const ovs = ovsClient(required('ovsRunDir'));
  const scratch = new ScratchNetwork();
  const bridge = `br-test-${randomBytes(2).toString('hex')}`;
  let namespaceA = '';
  let namespaceB = '';
  let portA = '';
  let portB = '';

  beforeAll(async () => {
    // With the host on the same subnet, its routes would make a broken bridge look working.
    const hostAddresses = (await run(['ip', '-4', '-o', 'address', 'show'])).stdout;
    if (hostAddresses.includes(` ${TEST_SUBNET_PREFIX}`)) {
      throw new Error(`the host itself has an address in ${TEST_SUBNET_PREFIX}0/24; pick another test range`);
    }
    namespaceA = await scratch.addNamespace('a');
    namespaceB = await scratch.addNamespace('b');
    portA = (await scratch.addVeth('pa', namespaceA)).hostEnd;
    portB = (await scratch.addVeth('pb', namespaceB)).hostEnd;
    await addAddress('eth0', `${ADDRESS_A}/24`, namespaceA);
    await addAddress('eth0', `${ADDRESS_B}/24`, namespaceB);
    // No kernel module here: the datapath type must be set in the same transaction as add-br.
    await ovs.vsctl([
      'add-br',
      bridge,
      '--',
      'set',
      'Bridge',
      bridge,
      'datapath_type=netdev',
      '--',
      'add-port',
      bridge,
      portA,
      '--',
      'add-port',
      bridge,
      portB,
    ]);
  });

  afterAll(async () => {
    const errors: unknown[] = [];
    await ovs.vsctl(['--if-exists', 'del-br', bridge]).catch((err) => errors.push(err));
    await scratch.cleanup().catch((err) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, 'ovs test cleanup failed');
  });

  it('builds the bridge on the userspace datapath with both veth ends as working ports', async () => {
    expect(await ovs.vsctl(['get', 'Bridge', bridge, 'datapath_type'])).toBe('netdev');
    expect((await ovs.vsctl(['list-ports', bridge])).split('\n').sort()).toEqual([portA, portB].sort());
    for (const port of [portA, portB]) {
      expect(await ovs.vsctl(['get', 'Interface', port, 'error'])).toBe('[]');
      expect(await ofport(ovs, port)).toBeGreaterThan(0);
    }
    // The bridge's management socket lives in the private run dir, not /var/run/openvswitch.
    expect(await exists(join(ovs.runDir, `${bridge}.mgmt`))).toBe(true);
  });

  it('reports a port whose device does not exist as an error, not as a silent success', async () => {
    const missing = scratch.name('px');
    await expect(ovs.vsctl(['add-port', bridge, missing])).rejects.toBeInstanceOf(OvsSetupError);
    await ovs.vsctl(['--if-exists', 'del-port', bridge, missing]);
    expect((await ovs.vsctl(['list-ports', bridge])).split('\n').sort()).toEqual([portA, portB].sort());
  });

  it('forwards a ping between the namespaces and learns both MACs on the right ports', async () => {
    await expectReachable(namespaceA, ADDRESS_B);
    await expectReachable(namespaceB, ADDRESS_A);

    const learned = await learnedMacs(ovs, bridge);
    expect(learned.get(await linkMac('eth0', namespaceA))).toBe(await ofport(ovs, portA));
    expect(learned.get(await linkMac('eth0', namespaceB))).toBe(await ofport(ovs, portB));
  });

  it('stops forwarding under an OpenFlow drop rule and forwards again once it is deleted', async () => {
    await expectReachable(namespaceA, ADDRESS_B);
    const dropFromA = `priority=100,in_port=${await ofport(ovs, portA)}`;
    await ovs.ofctl(['add-flow', bridge, `${dropFromA},actions=drop`]);
    try {
      expect(await pingSucceeds(namespaceA, ADDRESS_B, 3)).toBe(false);
      // The rule's counter proves it was OVS that dropped them (counters lag up to a second).
      await waitUntil(
        'drop rule counter',
        async () => {
          const flows = await ovs.ofctl(['dump-flows', bridge]);
          const rule = flows
            .split('\n')
            .find((line) => line.includes('priority=100') && line.includes('actions=drop'));
          return Number(/n_packets=(\d+)/.exec(rule ?? '')?.[1] ?? 0) >= 3;
        },
        { timeoutMs: 5_000, intervalMs: 200 },
      );
    } finally {
      await ovs.ofctl(['--strict', 'del-flows', bridge, dropFromA]);
    }
    await expectReachable(namespaceA, ADDRESS_B);
  });
});

describe('a second private switch', () => {
  const shared = ovsClient(required('ovsRunDir'));
  const scratch = new ScratchNetwork();
  let ctx: KitContext;
  let namespace = '';
  let second: Ovs | undefined;

  beforeAll(async () => {
    ctx = {
      cacheDir: defaultCacheDir(),
      stateDir: await mkdtemp(join(tmpdir(), 'overcast-ovs-test-')),
      progress: () => {},
    };
    namespace = await scratch.addNamespace('n');
    second = await startOvs(ctx, 'second', { netns: namespace });
  });

  afterAll(async () => {
    const errors: unknown[] = [];
    await second?.stop().catch((err) => errors.push(err));
    await scratch.cleanup().catch((err) => errors.push(err));
    await rm(ctx.stateDir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'second switch cleanup failed');
  });

  it('runs in its own namespace and run dir, and its bridges appear only there', async () => {
    const ovs = second!;
    expect(ovs.runDir).toBe(join(ctx.stateDir, 'ovs-second'));
    expect(ovs.runDir).not.toBe(shared.runDir);
    await ovs.vsctl(['add-br', 'br-second', '--', 'set', 'Bridge', 'br-second', 'datapath_type=netdev']);
    expect(await linkExists('br-second', namespace)).toBe(true);
    expect(await linkExists('br-second')).toBe(false);
    expect(await shared.vsctl(['list-br'])).not.toContain('br-second');
  });

  it('is refused in a namespace whose userspace datapath is taken, leaving the owner working', async () => {
    await expect(startOvs(ctx, 'intruder', { netns: namespace })).rejects.toThrow(/another ovs-vswitchd/);
    // The refused instance's daemons were stopped, not left to retry in the background.
    expect(await processesMentioning(join(ctx.stateDir, 'ovs-intruder'))).toEqual([]);

    const ovs = second!;
    await ovs.vsctl(['add-br', 'br-after', '--', 'set', 'Bridge', 'br-after', 'datapath_type=netdev']);
    expect(await ovs.vsctl(['get', 'Interface', 'br-after', 'error'])).toBe('[]');
    expect(await linkExists('br-after', namespace)).toBe(true);
  });

  it('stops exactly its own daemons and removes its tap devices', async () => {
    const ovs = second!;
    expect(await processesMentioning(ovs.runDir)).toHaveLength(2);
    const sharedPid = await readPid(ovsPaths(shared.runDir).vswitchdPidFile);

    await ovs.stop();

    expect(await processesMentioning(ovs.runDir)).toEqual([]);
    for (const tap of ['ovs-netdev', 'br-second', 'br-after']) {
      expect(await linkExists(tap, namespace)).toBe(false);
    }
    expect(isRunning(sharedPid)).toBe(true);
    expect(await shared.appctl(['version'])).toContain('Open vSwitch');
  });
});
