// IP prefixes as security group rules take them: "10.0.0.5/24", "10.0.0.5" (a host), "::/0",
// "2001:DB8::1/64". Parsed into a family, the address as a bigint and a prefix length, so the
// rule store can tell the family (for the ethertype check) and compare prefixes by the network
// they denote (10.0.0.5/24 and 10.0.0.0/24 are the same remote).
import { isIPv4, isIPv6 } from 'node:net';

export interface IpPrefix {
  family: 4 | 6;
  address: bigint;
  length: number;
}

function parseIpv4(text: string): bigint {
  return text.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function parseIpv6(text: string): bigint {
  // An embedded IPv4 address (::ffff:10.0.0.1) stands for the last two words.
  const lastColon = text.lastIndexOf(':');
  let hex = text;
  if (text.includes('.', lastColon)) {
    const v4 = Number(parseIpv4(text.slice(lastColon + 1)));
    hex = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const words = (part: string) =>
    part === '' ? [] : part.split(':').map((word) => Number.parseInt(word, 16));
  const halves = hex.split('::');
  const left = words(halves[0] ?? '');
  const right = halves.length > 1 ? words(halves[1] ?? '') : [];
  const zeros = halves.length > 1 ? new Array<number>(8 - left.length - right.length).fill(0) : [];
  return [...left, ...zeros, ...right].reduce((value, word) => (value << 16n) | BigInt(word), 0n);
}

/** The prefix `text` denotes, or undefined when it is not an address with an optional /length. */
export function parseIpPrefix(text: string): IpPrefix | undefined {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const lengthText = slash < 0 ? undefined : text.slice(slash + 1);
  const family = isIPv4(addressText) ? 4 : isIPv6(addressText) && !addressText.includes('%') ? 6 : undefined;
  if (family === undefined) return undefined;
  const maxLength = family === 4 ? 32 : 128;
  let length = maxLength;
  if (lengthText !== undefined) {
    if (!/^\d{1,3}$/.test(lengthText)) return undefined;
    length = Number(lengthText);
    if (length > maxLength) return undefined;
  }
  const address = family === 4 ? parseIpv4(addressText) : parseIpv6(addressText);
  return { family, address, length };
}

function formatIpv4(address: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((address >> shift) & 0xffn)).join('.');
}

/** RFC 5952: lower case, no leading zeros, the longest run (two or more) of zero words as "::". */
function formatIpv6(address: bigint): string {
  const words = Array.from({ length: 8 }, (_, index) =>
    Number((address >> BigInt(112 - 16 * index)) & 0xffffn),
  );
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; ) {
    if (words[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && words[end] === 0) end++;
    if (end - start > bestLength && end - start >= 2) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = words.map((word) => word.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function formatAddress(family: 4 | 6, address: bigint): string {
  return family === 4 ? formatIpv4(address) : formatIpv6(address);
}

/** The prefix as written canonically, host bits kept: "10.0.0.5/24", "2001:db8::1/64". */
export function prefixText(prefix: IpPrefix): string {
  return `${formatAddress(prefix.family, prefix.address)}/${prefix.length}`;
}

/** The network the prefix denotes, host bits cleared: 10.0.0.5/24 → "10.0.0.0/24". */
export function networkText(prefix: IpPrefix): string {
  const bits = prefix.family === 4 ? 32n : 128n;
  const hostBits = bits - BigInt(prefix.length);
  const network = (prefix.address >> hostBits) << hostBits;
  return `${formatAddress(prefix.family, network)}/${prefix.length}`;
}
