// Addresses as the network API takes them: Neutron's wording for a CIDR attribute that is not
// one, the checks of explicit allocation pools, and the keys the IPAM table sorts addresses by.
// The arithmetic itself is lib/net/addresses.ts.
import {
  type AddressRange,
  blockOf,
  type Cidr,
  formatAddress,
  formatCidr,
  type IpVersion,
  parseAddress,
  parsePrefix,
  usableRange,
} from '../../../lib/net/addresses.js';
import { ApiError, BadRequest } from '../../common/errors.js';

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

/**
 * The CIDR block of a request attribute ("a.b.c.d/n"), parsed as Neutron does: anything else is
 * a 400, and host bits set are a 400 naming the network it meant.
 */
export function parseCidrAttribute(text: unknown, attribute = 'cidr'): Cidr {
  const prefix = typeof text === 'string' && text.includes('/') ? parsePrefix(text) : undefined;
  if (!prefix) {
    throw new BadRequest(
      `Invalid input for ${attribute}. Reason: '${String(text)}' is not a valid IP subnet.`,
      'HTTPBadRequest',
    );
  }
  const block = blockOf(prefix);
  if (block.network !== prefix.value) {
    throw new BadRequest(
      `Invalid input for ${attribute}. Reason: '${String(text)}' isn't a recognized IP subnet cidr, '${formatCidr(block)}' is recommended.`,
    );
  }
  return block;
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
