// The meaning of a security group rule's fields, checked as Neutron checks them
// (neutron/db/securitygroups_db.py and neutron-lib's converters): protocol names and numbers,
// port ranges (a range for TCP-like protocols, ICMP type and code for ICMP), remote prefixes
// of the rule's ethertype, and what makes two rules the same rule.

import { formatPrefix, normalizedCidr, parsePrefix } from '../../../lib/net/addresses.js';
import { PROTOCOL_NUMBERS } from '../../../lib/net/protocols.js';
import { BadRequest } from '../../common/errors.js';

/** Protocols whose rules take a port range: tcp, udp, dccp, sctp, udplite. */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
const ICMP_PROTOCOLS = new Set([1, 58]);
/** Protocols that exist only over IPv6. */
const IPV6_ONLY_PROTOCOLS = new Set([41, 43, 44, 58, 59, 60]);

export const DIRECTIONS = ['ingress', 'egress'] as const;
export const ETHERTYPES = ['IPv4', 'IPv6'] as const;

export interface RuleFields {
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

/** A protocol as stored: a lower-case name, a number as text, or null for any. */
export function normalizeProtocol(value: unknown): string | null {
  if (value === undefined || value === null || value === '' || value === 'any') return null;
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.toLowerCase() : undefined;
  if (text !== undefined) {
    if (Object.hasOwn(PROTOCOL_NUMBERS, text)) return text;
    if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return String(Number(text));
  }
  throw new BadRequest(
    `Security group rule protocol ${String(value)} not supported. Only protocol values ` +
      `[None, ${Object.keys(PROTOCOL_NUMBERS).join(', ')}] and integer representations [0 to 255] are supported.`,
    'SecurityGroupRuleInvalidProtocol',
  );
}

export function protocolNumber(protocol: string | null): number | null {
  if (protocol === null) return null;
  return PROTOCOL_NUMBERS[protocol] ?? Number(protocol);
}

function portValue(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw new BadRequest(`Invalid input for ${name}. Reason: '${String(value)}' is not an integer.`);
  }
  if (number < 0 || number > 65535) {
    throw new BadRequest(`Invalid value for port ${number}.`, 'SecurityGroupInvalidPortValue');
  }
  return number;
}

export function normalizeEthertype(value: unknown): string {
  if (value === undefined || value === null) return 'IPv4';
  const match =
    typeof value === 'string'
      ? ETHERTYPES.find((type) => type.toLowerCase() === value.toLowerCase())
      : undefined;
  if (!match) {
    throw new BadRequest(
      `Security group rule for ethertype '${String(value)}' not supported. Allowed values are ${ETHERTYPES.join(', ')}.`,
      'SecurityGroupRuleInvalidEtherType',
    );
  }
  return match;
}

export function normalizeDirection(value: unknown): string {
  if (typeof value !== 'string' || !(DIRECTIONS as readonly string[]).includes(value)) {
    throw new BadRequest(
      `Invalid input for direction. Reason: '${String(value)}' is not in ['ingress', 'egress'].`,
    );
  }
  return value;
}

/** A remote prefix as stored (canonical text, a bare address made a host prefix), checked against the ethertype. */
export function normalizeRemotePrefix(value: unknown, ethertype: string): string | null {
  if (value === undefined || value === null) return null;
  const prefix = typeof value === 'string' ? parsePrefix(value) : undefined;
  if (!prefix) {
    throw new BadRequest(
      `Invalid input for remote_ip_prefix. Reason: '${String(value)}' is not a valid IP prefix.`,
    );
  }
  if (`IPv${prefix.version}` !== ethertype) {
    throw new BadRequest(
      `Conflicting value ethertype ${ethertype} for CIDR ${String(value)}`,
      'SecurityGroupRuleParameterConflict',
    );
  }
  return formatPrefix(prefix);
}

/** Neutron's checks of ports against the protocol and of the protocol against the ethertype. */
export function validateRule(
  rule: Omit<RuleFields, 'port_range_min' | 'port_range_max'>,
  rawMin: unknown,
  rawMax: unknown,
): Pick<RuleFields, 'port_range_min' | 'port_range_max'> {
  const min = portValue(rawMin, 'port_range_min');
  const max = portValue(rawMax, 'port_range_max');
  const number = protocolNumber(rule.protocol);
  if (number !== null && rule.ethertype === 'IPv4' && IPV6_ONLY_PROTOCOLS.has(number)) {
    throw new BadRequest(
      `Invalid ethertype ${rule.ethertype} for protocol ${rule.protocol}.`,
      'SecurityGroupEthertypeConflictWithProtocol',
    );
  }
  if (rule.remote_ip_prefix !== null && rule.remote_group_id !== null) {
    throw new BadRequest(
      'Only remote_ip_prefix or remote_group_id may be provided.',
      'SecurityGroupRemoteGroupAndRemoteIpPrefix',
    );
  }
  if (min === null && max === null) return { port_range_min: null, port_range_max: null };
  if (number === null) {
    throw new BadRequest(
      'Must also specify protocol if port range is given.',
      'SecurityGroupProtocolRequiredWithPorts',
    );
  }
  if (PORT_PROTOCOLS.has(number)) {
    if (min === 0 || max === 0)
      throw new BadRequest('Invalid value for port 0.', 'SecurityGroupInvalidPortValue');
    if (min === null || max === null || min > max) {
      throw new BadRequest(
        'For TCP/UDP protocols, port_range_min must be <= port_range_max',
        'SecurityGroupInvalidPortRange',
      );
    }
    return { port_range_min: min, port_range_max: max };
  }
  if (ICMP_PROTOCOLS.has(number)) {
    for (const [value, attribute, field] of [
      [min, 'port_range_min', 'type'],
      [max, 'port_range_max', 'code'],
    ] as const) {
      if (value !== null && value > 255) {
        throw new BadRequest(
          `Invalid value for ICMP ${field} (${attribute}) ${value}. It must be 0 to 255.`,
          'SecurityGroupInvalidIcmpValue',
        );
      }
    }
    if (min === null && max !== null) {
      throw new BadRequest(
        `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
        'SecurityGroupMissingIcmpType',
      );
    }
    return { port_range_min: min, port_range_max: max };
  }
  throw new BadRequest(
    `Invalid protocol ${rule.protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP protocols.`,
    'SecurityGroupInvalidProtocolForPort',
  );
}

/**
 * What makes two rules of a group the same rule: every field but id and description, with the
 * protocol compared by number and an any-address prefix (0.0.0.0/0, ::/0) equal to none.
 */
export function ruleIdentity(rule: RuleFields): string {
  const cidr = normalizedCidr(rule.remote_ip_prefix);
  const remote = cidr === '0.0.0.0/0' || cidr === '::/0' ? null : cidr;
  return JSON.stringify([
    rule.direction,
    rule.ethertype,
    protocolNumber(rule.protocol),
    rule.port_range_min,
    rule.port_range_max,
    remote,
    rule.remote_group_id,
  ]);
}
