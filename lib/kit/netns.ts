// Network namespaces and veth pairs: the "hosts", "guests" and "nodes" that tests and the
// one-machine setup build out of the Linux network stack. Everything goes through `ip` (and
// `ethtool`) argv; no function here touches a namespace or link it was not named.
import { randomBytes } from 'node:crypto';
import { run } from '../exec.js';

/** Every namespace and host-side link a ScratchNetwork creates starts with this. */
export const SCRATCH_PREFIX = 'ocst-';

/** The kernel keeps interface names in IFNAMSIZ (16) bytes including the terminating NUL. */
const MAX_LINK_NAME_LENGTH = 15;

/** Throws unless `name` is usable as a network interface (and namespace) name. */
export function assertLinkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.length > MAX_LINK_NAME_LENGTH) {
    throw new Error(
      `'${name}' is not a valid interface name (letters, digits, _ . -; at most 15 characters)`,
    );
  }
}

/** `argv` as run inside `namespace`, or unchanged on the host when no namespace is given. */
export function inNamespace(namespace: string | undefined, argv: readonly string[]): string[] {
  return namespace ? ['ip', 'netns', 'exec', namespace, ...argv] : [...argv];
}

function ip(namespace: string | undefined, args: readonly string[]): string[] {
  return namespace ? ['ip', '-n', namespace, ...args] : ['ip', ...args];
}

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list']);
  // Lines look like "name" or "name (id: 3)".
  return stdout
    .split('\n')
    .map((line) => line.trim().split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

export async function namespaceExists(name: string): Promise<boolean> {
  return (await listNamespaces()).includes(name);
}

/**
 * Creates a namespace with loopback up. IPv6 is switched off by default: router solicitations
 * and MLD reports would otherwise flood every switch the namespace is plugged into.
 */
export async function addNamespace(name: string, options: { ipv6?: boolean } = {}): Promise<void> {
  await run(['ip', 'netns', 'add', name]);
  await run(ip(name, ['link', 'set', 'lo', 'up']));
  if (!options.ipv6) {
    await run(inNamespace(name, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']));
    await run(inNamespace(name, ['sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']));
  }
}

/** Deletes a namespace (and with it every link inside it); no error when it is already gone. */
export async function deleteNamespace(name: string): Promise<void> {
  if (await namespaceExists(name)) await run(['ip', 'netns', 'delete', name]);
}

export async function linkExists(name: string, namespace?: string): Promise<boolean> {
  const result = await run(ip(namespace, ['link', 'show', 'dev', name]), { allowFailure: true });
  return result.code === 0;
}

/** Deletes a link (a veth takes its peer with it); no error when it is already gone. */
export async function deleteLink(name: string, namespace?: string): Promise<void> {
  if (await linkExists(name, namespace)) await run(ip(namespace, ['link', 'delete', 'dev', name]));
}

/**
 * Creates a veth pair whose `hostEnd` stays in the current namespace and whose
 * `namespaceEnd` is created directly inside `namespace`.
 */
export async function addVethPair(pair: {
  hostEnd: string;
  namespace: string;
  namespaceEnd: string;
  mtu?: number;
}): Promise<void> {
  assertLinkName(pair.hostEnd);
  assertLinkName(pair.namespaceEnd);
  const mtu = pair.mtu ? ['mtu', String(pair.mtu)] : [];
  await run([
    'ip',
    'link',
    'add',
    pair.hostEnd,
    ...mtu,
    'type',
    'veth',
    'peer',
    'name',
    pair.namespaceEnd,
    ...mtu,
    'netns',
    pair.namespace,
  ]);
}

export async function setLinkUp(dev: string, namespace?: string): Promise<void> {
  await run(ip(namespace, ['link', 'set', 'dev', dev, 'up']));
}

/**
 * Stops the kernel from answering ARP on `dev`. Needed on veth ends plugged into an Open
 * vSwitch userspace bridge: the kernel still sees every frame on them and would otherwise
 * answer ARP requests for its own addresses on behalf of the whole bridge.
 */
export async function disableArp(dev: string, namespace?: string): Promise<void> {
  await run(ip(namespace, ['link', 'set', 'dev', dev, 'arp', 'off']));
}

/** Keeps a link that carries no IPv6 of its own from sending router solicitations and MLD. */
export async function disableIpv6(dev: string, namespace?: string): Promise<void> {
  await run(inNamespace(namespace, ['sysctl', '-q', '-w', `net/ipv6/conf/${dev}/disable_ipv6=1`]));
}

/** Adds an address in CIDR form (`192.0.2.1/24`) to `dev`. */
export async function addAddress(dev: string, cidr: string, namespace?: string): Promise<void> {
  await run(ip(namespace, ['address', 'add', cidr, 'dev', dev]));
}

/** The link's MAC address, lower case. */
export async function linkMac(dev: string, namespace?: string): Promise<string> {
  const { stdout } = await run(ip(namespace, ['-json', 'link', 'show', 'dev', dev]));
  const [link] = JSON.parse(stdout) as { address?: string }[];
  if (!link?.address) throw new Error(`no MAC address reported for ${dev}`);
  return link.address.toLowerCase();
}

/**
 * Turns off transmit checksum offload (and with it TSO/GSO) on a veth end. Needed on every
 * veth whose frames the Open vSwitch userspace datapath reads: with offload on, TCP and UDP
 * leave OVS with an unfinished checksum and never connect (ICMP alone would still work).
 */
export async function disableTxOffload(dev: string, namespace?: string): Promise<void> {
  await run(inNamespace(namespace, ['ethtool', '-K', dev, 'tx', 'off']));
}

/**
 * Namespaces and veth pairs owned by one test (or one emulated topology). Every name starts
 * with a random `ocst-xxxxxx` prefix, so concurrent runs never collide and `cleanup()` deletes
 * exactly what this instance created, nothing else on the host.
 */
export class ScratchNetwork {
  readonly prefix = `${SCRATCH_PREFIX}${randomBytes(3).toString('hex')}`;
  readonly #namespaces: string[] = [];
  readonly #hostLinks: string[] = [];

  /** `<prefix>-<suffix>`, checked to fit the kernel's interface name limit. */
  name(suffix: string): string {
    const name = `${this.prefix}-${suffix}`;
    assertLinkName(name);
    return name;
  }

  /** Creates the namespace `<prefix>-<suffix>` and returns its name. */
  async addNamespace(suffix: string, options: { ipv6?: boolean } = {}): Promise<string> {
    const name = this.name(suffix);
    // Refusing an existing name keeps cleanup() from ever deleting a namespace it did not create.
    if (await namespaceExists(name)) throw new Error(`network namespace ${name} already exists`);
    this.#namespaces.push(name);
    await addNamespace(name, options);
    return name;
  }

  /**
   * Creates a veth pair with the host end `<prefix>-<hostSuffix>` and the other end named
   * `namespaceEnd` inside `namespace`; both ends have tx offload off and are up. The host end
   * is meant to be a switch port: it speaks neither ARP nor IPv6 itself, so the host never
   * answers for the namespace's neighbours nor leaks its own traffic onto the switch.
   */
  async addVeth(
    hostSuffix: string,
    namespace: string,
    namespaceEnd = 'eth0',
  ): Promise<{ hostEnd: string; namespaceEnd: string }> {
    const hostEnd = this.name(hostSuffix);
    if (await linkExists(hostEnd)) throw new Error(`link ${hostEnd} already exists`);
    this.#hostLinks.push(hostEnd);
    await addVethPair({ hostEnd, namespace, namespaceEnd });
    await disableTxOffload(hostEnd);
    await disableTxOffload(namespaceEnd, namespace);
    await disableArp(hostEnd);
    await disableIpv6(hostEnd);
    await setLinkUp(hostEnd);
    await setLinkUp(namespaceEnd, namespace);
    return { hostEnd, namespaceEnd };
  }

  /** Deletes everything this instance created; tries all of it even when one step fails. */
  async cleanup(): Promise<void> {
    // One after another: deleting a namespace also removes the peers of its veths, which would
    // race a concurrent delete of the host end.
    const errors: unknown[] = [];
    for (const link of this.#hostLinks) await deleteLink(link).catch((err) => errors.push(err));
    for (const namespace of this.#namespaces) {
      await deleteNamespace(namespace).catch((err) => errors.push(err));
    }
    if (errors.length > 0) throw new AggregateError(errors, `cleanup of ${this.prefix} failed`);
  }
}
