// IPAM: which address of a subnet a port gets. network_ip_allocation holds one row per address
// in use with the primary key (subnet, address), so one address can be inserted once only:
// two requests that choose the same address concurrently, on SQLite or on MariaDB and from any
// number of api-servers, end with one row and one unique violation, and the loser picks again.
//
// Choosing is cheap whatever the subnet's size: each subnet has a cursor in memory (the next
// address to try, advanced as addresses are handed out, so concurrent requests of this process
// start from different places), and the first free address at or after it is found with an
// ordered range query on the primary key that reads only the allocated rows in the way. A
// fresh cursor starts after the highest allocated address, so a restart does not walk the
// allocated start of the pools again.
import type { Transaction } from 'kysely';
import { isUniqueViolation } from '../../../lib/db/errors.js';
import {
  type AddressRange,
  cidrContains,
  formatAddress,
  type IpVersion,
  parseAddress,
} from '../../../lib/net/addresses.js';
import { type ApiError, BadRequest, Conflict } from '../../common/errors.js';
import { addressKey, keyValue, parseCidrAttribute } from './addresses.js';
import type { SubnetRecord } from './store.js';
import type { CoreTables } from './tables.js';

type Trx = Transaction<CoreTables>;

/** Allocated rows read per query while looking for a gap. */
const PAGE = 512;
/** Collisions with concurrent requests tolerated per allocation before giving up. */
const MAX_COLLISIONS = 64;

export function ipAddressGenerationFailure(networkId: string): ApiError {
  return new Conflict(
    `No more IP addresses available on network ${networkId}.`,
    'IpAddressGenerationFailure',
  );
}

function poolRanges(subnet: SubnetRecord): AddressRange[] {
  return subnet.allocationPools
    .map((pool) => ({ first: parseAddress(pool.start)!.value, last: parseAddress(pool.end)!.value }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
}

function inRanges(ranges: readonly AddressRange[], value: bigint): boolean {
  return ranges.some((range) => range.first <= value && value <= range.last);
}

export class Ipam {
  /** Next address to try, per subnet id. */
  private readonly cursors = new Map<string, bigint>();

  /** Takes the address `address` on `subnet` for the port (409 when another has it). */
  async allocateSpecific(trx: Trx, subnet: SubnetRecord, portId: string, address: string): Promise<string> {
    const parsed = parseAddress(address);
    const cidr = parseCidrAttribute(subnet.cidr);
    if (!parsed || parsed.version !== subnet.ipVersion || !cidrContains(cidr, parsed.value)) {
      throw new BadRequest(
        `IP address ${address} is not a valid IP for the specified subnet.`,
        'InvalidIpForSubnet',
      );
    }
    if (
      subnet.ipVersion === 4 &&
      cidr.prefix < 31 &&
      (parsed.value === cidr.network || parsed.value === cidr.last)
    ) {
      throw new BadRequest(
        `IP address ${address} is not a valid IP for the specified subnet.`,
        'InvalidIpForSubnet',
      );
    }
    const text = formatAddress(parsed.version, parsed.value);
    if (!(await this.tryInsert(trx, subnet, portId, parsed.version, parsed.value))) {
      throw new Conflict(
        `Unable to complete operation for network ${subnet.networkId}. The IP address ${text} is in use.`,
        'IpAddressInUse',
      );
    }
    return text;
  }

  /** Takes a free address of the subnet's pools for the port; 409 IpAddressGenerationFailure when none. */
  async allocateAny(trx: Trx, subnet: SubnetRecord, portId: string): Promise<string> {
    const ranges = poolRanges(subnet);
    if (ranges.length === 0) throw ipAddressGenerationFailure(subnet.networkId);
    const version = subnet.ipVersion;
    const end = ranges[ranges.length - 1]!.last;
    let hint = this.cursors.get(subnet.id) ?? (await this.initialCursor(trx, subnet, ranges));
    for (let collisions = 0; collisions <= MAX_COLLISIONS; collisions++) {
      // Claim the starting point before awaiting anything, so that the next request of this
      // process starts past this one instead of racing it for the same address.
      const start = this.claim(subnet.id, hint);
      // The cursor is past every address this process handed out, so the address under it is
      // usually free: it is inserted at once, and a search (one query more) follows only when
      // another request or process holds it.
      const direct = inRanges(ranges, start);
      if (direct && (await this.tryInsert(trx, subnet, portId, version, start))) {
        this.advance(subnet.id, start + 1n, end);
        return formatAddress(version, start);
      }
      const from = direct ? start + 1n : start;
      const candidate =
        (await this.searchFree(trx, subnet, ranges, from, end)) ??
        (await this.searchFree(trx, subnet, ranges, ranges[0]!.first, from - 1n));
      if (candidate === undefined) throw ipAddressGenerationFailure(subnet.networkId);
      this.advance(subnet.id, candidate + 1n, end);
      if (await this.tryInsert(trx, subnet, portId, version, candidate)) {
        return formatAddress(version, candidate);
      }
      hint = candidate + 1n;
    }
    throw ipAddressGenerationFailure(subnet.networkId);
  }

  /** Forgets a subnet's cursor (the subnet is gone or its pools changed). */
  forget(subnetId: string): void {
    this.cursors.delete(subnetId);
  }

  private claim(subnetId: string, hint: bigint): bigint {
    const current = this.cursors.get(subnetId);
    const start = current !== undefined && current > hint ? current : hint;
    this.cursors.set(subnetId, start + 1n);
    return start;
  }

  /** Moves the cursor forward to `next`, or back to it when the cursor ran past the pools. */
  private advance(subnetId: string, next: bigint, end: bigint): void {
    const current = this.cursors.get(subnetId);
    if (current === undefined || next > current || current > end + 1n) this.cursors.set(subnetId, next);
  }

  private async initialCursor(trx: Trx, subnet: SubnetRecord, ranges: AddressRange[]): Promise<bigint> {
    const row = await trx
      .selectFrom('network_ip_allocation')
      .select((eb) => eb.fn.max('ip_key').as('highest'))
      .where('subnet_id', '=', subnet.id)
      .executeTakeFirst();
    const next = row?.highest ? keyValue(String(row.highest)) + 1n : ranges[0]!.first;
    return next;
  }

  /**
   * The lowest address of the pools within [from, upTo] that no row holds (as this
   * transaction sees the table), or undefined.
   */
  private async searchFree(
    trx: Trx,
    subnet: SubnetRecord,
    ranges: AddressRange[],
    from: bigint,
    upTo: bigint,
  ): Promise<bigint | undefined> {
    const version = subnet.ipVersion;
    for (const range of ranges) {
      const low = range.first > from ? range.first : from;
      const high = range.last < upTo ? range.last : upTo;
      let expected = low;
      while (expected <= high) {
        const taken = await trx
          .selectFrom('network_ip_allocation')
          .select('ip_key')
          .where('subnet_id', '=', subnet.id)
          .where('ip_key', '>=', addressKey(version, expected))
          .where('ip_key', '<=', addressKey(version, high))
          .orderBy('ip_key')
          .limit(PAGE)
          .execute();
        for (const row of taken) {
          const value = keyValue(row.ip_key);
          if (value > expected) return expected;
          expected = value + 1n;
        }
        if (taken.length < PAGE) return expected <= high ? expected : undefined;
      }
    }
    return undefined;
  }

  private async tryInsert(
    trx: Trx,
    subnet: SubnetRecord,
    portId: string,
    version: IpVersion,
    value: bigint,
  ): Promise<boolean> {
    try {
      await trx
        .insertInto('network_ip_allocation')
        .values({
          subnet_id: subnet.id,
          ip_key: addressKey(version, value),
          ip_address: formatAddress(version, value),
          port_id: portId,
          network_id: subnet.networkId,
        })
        .execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }
}

/** Frees addresses of a port (all of them, or those of the given subnets). */
export async function releaseAddresses(
  trx: Trx,
  portId: string,
  subnetIds?: readonly string[],
): Promise<void> {
  let query = trx.deleteFrom('network_ip_allocation').where('port_id', '=', portId);
  if (subnetIds) {
    if (subnetIds.length === 0) return;
    query = query.where('subnet_id', 'in', subnetIds);
  }
  await query.execute();
}

/** Frees one address of a port. */
export async function releaseAddress(
  trx: Trx,
  portId: string,
  subnetId: string,
  address: string,
): Promise<void> {
  const parsed = parseAddress(address);
  if (!parsed) return;
  await trx
    .deleteFrom('network_ip_allocation')
    .where('port_id', '=', portId)
    .where('subnet_id', '=', subnetId)
    .where('ip_key', '=', addressKey(parsed.version, parsed.value))
    .execute();
}
