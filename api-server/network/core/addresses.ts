// IP address arithmetic for subnets and IPAM: addresses are bigints (IPv4 and IPv6 alike), a
// subnet is its first address and prefix length, a pool is an inclusive [first, last] range.
// Everything here is pure: no database, no policy.
import { ApiError, BadRequest } from '../../common/errors.js';

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

/**
 * A fixed-width hexadecimal key for an address: keys of one version sort as the addresses do,
 * so the IPAM table can be searched by range with an ordinary varchar index.
 */
export function addressKey(version: IpVersion, value: bigint): string {
  return value.toString(16).padStart(version === 4 ? 8 : 32, '0');
}

export function keyValue(key: string): bigint {
  return BigInt(`0x${key}`);
}

/** Parses "a.b.c.d/n" as Neutron does: host bits set is an error naming the network it meant. */
export function parseCidr(text: unknown, attribute = 'cidr'): Cidr {
  const invalid = () =>
    new BadRequest(
      `Invalid input for ${attribute}. Reason: '${String(text)}' is not a valid IP subnet.`,
      'HTTPBadRequest',
    );
  if (typeof text !== 'string') throw invalid();
  const slash = text.indexOf('/');
  if (slash < 0) throw invalid();
  const address = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^[0-9]{1,3}$/.test(prefixText)) throw invalid();
  const prefix = Number(prefixText);
  const bits = BITS[address.version];
  if (prefix > bits) throw invalid();
  const hostBits = BigInt(bits - prefix);
  const hostMask = (1n << hostBits) - 1n;
  const network = address.value & ~hostMask & ((1n << BigInt(bits)) - 1n);
  if (network !== address.value) {
    const recommended = `${formatAddress(address.version, network)}/${prefix}`;
    throw new BadRequest(
      `Invalid input for ${attribute}. Reason: '${text}' isn't a recognized IP subnet cidr, '${recommended}' is recommended.`,
    );
  }
  return { version: address.version, network, prefix, last: network | hostMask };
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

/**
 * Checks explicit allocation pools against Neutron's rules and returns them sorted: each inside
 * the subnet's usable range, start ≤ end, no two overlapping, none containing the gateway.
 */
export function checkPools(
  cidr: Cidr,
  pools: readonly { start: string; end: string }[],
  gateway: bigint | undefined,
): AddressRange[] {
  const ranges: AddressRange[] = [];
  for (const pool of pools) {
    const start = parseAddress(pool.start);
    const end = parseAddress(pool.end);
    if (!start || !end || start.version !== cidr.version || end.version !== cidr.version) {
      throw new BadRequest(
        `Invalid input for allocation_pools. Reason: '${pool.start}'-'${pool.end}' is not a valid range of IPv${cidr.version} addresses.`,
      );
    }
    if (start.value > end.value) {
      throw new BadRequest(
        `Invalid allocation pool ${pool.start}-${pool.end}: the start is after the end.`,
        'InvalidAllocationPool',
      );
    }
    const usable = usableRange(cidr);
    if (start.value < usable.first || end.value > usable.last) {
      throw new BadRequest(
        `The allocation pool ${pool.start}-${pool.end} spans beyond the subnet cidr ${formatCidr(cidr)}.`,
        'OutOfBoundsAllocationPool',
      );
    }
    if (gateway !== undefined && gateway >= start.value && gateway <= end.value) {
      throw new ApiError(
        409,
        `Gateway ip ${formatAddress(cidr.version, gateway)} conflicts with allocation pool ${pool.start}-${pool.end}.`,
        'GatewayConflictWithAllocationPools',
      );
    }
    ranges.push({ first: start.value, last: end.value });
  }
  ranges.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  for (let index = 1; index < ranges.length; index++) {
    if (ranges[index]!.first <= ranges[index - 1]!.last) {
      const a = ranges[index - 1]!;
      const b = ranges[index]!;
      throw new BadRequest(
        `Found overlapping allocation pools: ${formatAddress(cidr.version, a.first)}-${formatAddress(cidr.version, a.last)} and ${formatAddress(cidr.version, b.first)}-${formatAddress(cidr.version, b.last)}.`,
        'OverlappingAllocationPools',
      );
    }
  }
  return ranges;
}

export function formatPools(version: IpVersion, pools: readonly AddressRange[]) {
  return pools.map((pool) => ({
    start: formatAddress(version, pool.first),
    end: formatAddress(version, pool.last),
  }));
}
