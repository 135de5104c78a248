// What makes a SecurityGroup's rules differ from the spec's complete list: a pure diff, keyed
// by the fields Neutron uses to tell two rules apart, spelled as Neutron stores them (so a rule
// written "TCP" or "6" in the spec is the "tcp" rule Neutron shows, and is not recreated).
import { normalizedCidr } from '../../lib/net/addresses.js';
import { PROTOCOL_NUMBERS } from '../../lib/net/protocols.js';

/** A rule of the spec, its remoteGroupRef already resolved to the group's ID. */
export interface WantedRule {
  description?: string;
  direction: 'ingress' | 'egress';
  ethertype?: 'IPv4' | 'IPv6';
  protocol?: string;
  portRangeMin?: number;
  portRangeMax?: number;
  remoteIPPrefix?: string;
  remoteGroupId?: string;
}

/** A rule as Neutron's API shows it. */
export interface NeutronRule {
  id: string;
  description?: string;
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  /** Newer Neutron: a rule matching an address group, which a spec cannot name. */
  remote_address_group_id?: string | null;
}

/** Protocols whose rules take a port range (tcp, udp, dccp, sctp, udplite). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
const ICMP = 1;
const IPV6_ICMP = 58;

/**
 * A protocol as a number where it names one; null for any (left out, '', 'any'). A value
 * Neutron would refuse stays text: it matches no stored rule, and its create gets Neutron's 400.
 */
export function protocolNumber(protocol: string | null | undefined): number | string | null {
  if (protocol === undefined || protocol === null || protocol === '' || protocol === 'any') return null;
  const text = protocol.toLowerCase();
  if (Object.hasOwn(PROTOCOL_NUMBERS, text)) return PROTOCOL_NUMBERS[text] as number;
  if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return Number(text);
  return text;
}

interface RuleFields {
  direction: string;
  ethertype: string;
  protocol: string | null | undefined;
  min: number | null | undefined;
  max: number | null | undefined;
  remoteIPPrefix: string | null | undefined;
  remoteGroupId: string | null | undefined;
  remoteAddressGroupId?: string | null | undefined;
}

/**
 * The identity of a rule within its group, with Neutron's canonical forms: ethertype IPv4 by
 * default; ICMP under IPv6 is ipv6-icmp; a TCP-like range 1-65535 is no range; a remote prefix
 * compared by the network it denotes, and the any-address prefix equal to none.
 */
function ruleKey(rule: RuleFields): string {
  const ethertype = rule.ethertype;
  let protocol = protocolNumber(rule.protocol);
  if (ethertype === 'IPv6' && protocol === ICMP) protocol = IPV6_ICMP;
  let min = rule.min ?? null;
  let max = rule.max ?? null;
  if (typeof protocol === 'number' && PORT_PROTOCOLS.has(protocol) && min === 1 && max === 65535) {
    min = null;
    max = null;
  }
  const cidr = normalizedCidr(rule.remoteIPPrefix ?? null);
  const remote = cidr === '0.0.0.0/0' || cidr === '::/0' ? null : cidr;
  return JSON.stringify([
    rule.direction,
    ethertype,
    protocol,
    min,
    max,
    remote,
    rule.remoteGroupId ?? null,
    rule.remoteAddressGroupId ?? null,
  ]);
}

export const wantedKey = (rule: WantedRule) =>
  ruleKey({
    direction: rule.direction,
    ethertype: rule.ethertype ?? 'IPv4',
    protocol: rule.protocol,
    min: rule.portRangeMin,
    max: rule.portRangeMax,
    remoteIPPrefix: rule.remoteIPPrefix,
    remoteGroupId: rule.remoteGroupId,
  });

export const existingKey = (rule: NeutronRule) =>
  ruleKey({
    direction: rule.direction,
    ethertype: rule.ethertype,
    protocol: rule.protocol,
    min: rule.port_range_min,
    max: rule.port_range_max,
    remoteIPPrefix: rule.remote_ip_prefix,
    remoteGroupId: rule.remote_group_id,
    remoteAddressGroupId: rule.remote_address_group_id,
  });

export interface RuleDiff {
  /** Wanted rules the group lacks, each once (a spec listing the same rule twice makes it once). */
  create: WantedRule[];
  /** The group's rules the spec does not list (Neutron's default egress rules among them). */
  remove: NeutronRule[];
}

export function diffRules(wanted: readonly WantedRule[], existing: readonly NeutronRule[]): RuleDiff {
  const present = new Set(existing.map(existingKey));
  const wantedKeys = new Set<string>();
  const create: WantedRule[] = [];
  for (const rule of wanted) {
    const key = wantedKey(rule);
    if (wantedKeys.has(key)) continue;
    wantedKeys.add(key);
    if (!present.has(key)) create.push(rule);
  }
  return { create, remove: existing.filter((rule) => !wantedKeys.has(existingKey(rule))) };
}

/** The create body of a wanted rule, in Neutron's fields. */
export function ruleBody(groupId: string, rule: WantedRule): Record<string, unknown> {
  const body: Record<string, unknown> = {
    security_group_id: groupId,
    direction: rule.direction,
    ethertype: rule.ethertype ?? 'IPv4',
  };
  if (rule.description !== undefined) body.description = rule.description;
  if (rule.protocol !== undefined) body.protocol = rule.protocol;
  if (rule.portRangeMin !== undefined) body.port_range_min = rule.portRangeMin;
  if (rule.portRangeMax !== undefined) body.port_range_max = rule.portRangeMax;
  if (rule.remoteIPPrefix !== undefined) body.remote_ip_prefix = rule.remoteIPPrefix;
  if (rule.remoteGroupId !== undefined) body.remote_group_id = rule.remoteGroupId;
  return body;
}
