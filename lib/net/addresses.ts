// IP address arithmetic, IPv4 and IPv6 alike: addresses are bigints, a prefix is an address
// with a length (host bits as written), a CIDR block is a network address with its length and
// last address, a range is an inclusive [first, last]. Pure: no errors of any API, no I/O. The
// api-server's subnets, IPAM and security group rules, and the operator's comparisons of what it
// asked for with what Neutron answers, are all built on these.
export type IpVersion = 4 | 6;

export interface Address {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** The network address (host bits zero). */
  network: bigint;
  prefix: number;
  /** The last address of the block (IPv4: the broadcast address). */
  last: bigint;
}

export interface AddressRange {
  first: bigint;
  last: bigint;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let groupsText = text;
  let tail: bigint[] = [];
  // An embedded IPv4 address (::ffff:192.0.2.1) stands for the last two groups.
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    groupsText = text.slice(0, lastColon + 1);
    if (!groupsText.endsWith('::')) groupsText = groupsText.slice(0, -1);
  }
  const halves = groupsText.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (part: string): bigint[] | undefined => {
    if (part === '') return [];
    const groups: bigint[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      groups.push(BigInt(`0x${group}`));
    }
    return groups;
  };
  const head = toGroups(halves[0]!);
  const rest = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const known = head.length + rest.length + tail.length;
  let groups: bigint[];
  if (halves.length === 2) {
    if (known > 7) return undefined;
    groups = [...head, ...new Array<bigint>(8 - known).fill(0n), ...rest, ...tail];
  } else {
    if (known !== 8) return undefined;
    groups = [...head, ...tail];
  }
  return groups.reduce((value, group) => (value << 16n) | group, 0n);
}

/** The address `text` denotes, or undefined when it is not a plain IPv4 or IPv6 address. */
export function parseAddress(text: string): Address | undefined {
  if (typeof text !== 'string') return undefined;
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  if (!text.includes(':')) return undefined;
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { version: 6, value: v6 };
}

/** The canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as ::). */
export function formatAddress(version: IpVersion, value: bigint): string {
  if (version === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength && end - start >= 2) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** An address with a length, host bits as written ("10.0.0.5/24"). */
export interface Prefix {
  version: IpVersion;
  value: bigint;
  length: number;
}

/**
 * `text` as an address with an optional /length (a bare address is a host prefix), or
 * undefined when it is not one.
 */
export function parsePrefix(text: string): Prefix | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const bits = BITS[address.version];
  if (slash < 0) return { version: address.version, value: address.value, length: bits };
  const lengthText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lengthText) || Number(lengthText) > bits) return undefined;
  return { version: address.version, value: address.value, length: Number(lengthText) };
}

/** The prefix as written canonically, host bits kept: "10.0.0.5/24", "2001:db8::1/64". */
export function formatPrefix(prefix: Prefix): string {
  return `${formatAddress(prefix.version, prefix.value)}/${prefix.length}`;
}

/** The block a prefix lies in: its host bits cleared (10.0.0.5/24 is in 10.0.0.0/24). */
export function blockOf(prefix: Prefix): Cidr {
  const bits = BITS[prefix.version];
  const hostMask = (1n << BigInt(bits - prefix.length)) - 1n;
  const network = prefix.value & ~hostMask & ((1n << BigInt(bits)) - 1n);
  return { version: prefix.version, network, prefix: prefix.length, last: network | hostMask };
}

/** "a.b.c.d/n" (or IPv6) with no host bits set, or undefined for anything else. */
export function parseCidr(text: string): Cidr | undefined {
  if (typeof text !== 'string' || !text.includes('/')) return undefined;
  const prefix = parsePrefix(text);
  if (!prefix) return undefined;
  const block = blockOf(prefix);
  return block.network === prefix.value ? block : undefined;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.version, cidr.network)}/${cidr.prefix}`;
}

export function cidrContains(cidr: Cidr, value: bigint): boolean {
  return value >= cidr.network && value <= cidr.last;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= b.last && b.network <= a.last;
}

/**
 * The addresses a subnet may hand out: all but the network address and, for IPv4, the
 * broadcast address (a /31 or /32 has no such reserved addresses, as RFC 3021 and Neutron).
 */
export function usableRange(cidr: Cidr): AddressRange {
  if (cidr.version === 4 && cidr.prefix >= 31) return { first: cidr.network, last: cidr.last };
  if (cidr.version === 6 && cidr.prefix >= 127) return { first: cidr.network, last: cidr.last };
  return { first: cidr.network + 1n, last: cidr.version === 4 ? cidr.last - 1n : cidr.last };
}

/** The default gateway: the first usable address, as Neutron. */
export function defaultGateway(cidr: Cidr): bigint | undefined {
  const usable = usableRange(cidr);
  return usable.first <= usable.last ? usable.first : undefined;
}

/** The usable range with the gateway cut out: Neutron's default allocation pools. */
export function defaultPools(cidr: Cidr, gateway: bigint | undefined): AddressRange[] {
  const usable = usableRange(cidr);
  if (gateway === undefined || gateway < usable.first || gateway > usable.last) return [usable];
  const pools: AddressRange[] = [];
  if (gateway > usable.first) pools.push({ first: usable.first, last: gateway - 1n });
  if (gateway < usable.last) pools.push({ first: gateway + 1n, last: usable.last });
  return pools;
}

export function rangeSize(range: AddressRange): bigint {
  return range.last - range.first + 1n;
}

export function inRanges(ranges: readonly AddressRange[], value: bigint): boolean {
  return ranges.some((range) => value >= range.first && value <= range.last);
}

/** The network a stored prefix denotes ("10.0.0.0/24" for 10.0.0.5/24), Neutron's normalized_cidr. */
export function normalizedCidr(remoteIpPrefix: string | null): string | null {
  if (remoteIpPrefix === null) return null;
  const prefix = parsePrefix(remoteIpPrefix);
  return prefix ? formatCidr(blockOf(prefix)) : remoteIpPrefix;
}
