import { describe, expect, it } from 'vitest';
import { diffRules, type NeutronRule, ruleBody, type WantedRule } from './security-group-rules.js';

let ids = 0;
/** A rule as Neutron returns it, with every field it fills in. */
const stored = (fields: Partial<NeutronRule>): NeutronRule => ({
  id: `rule-${ids++}`,
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: null,
  port_range_min: null,
  port_range_max: null,
  remote_ip_prefix: null,
  remote_group_id: null,
  ...fields,
});

/** The two egress rules Neutron gives every new group. */
const defaultEgress = () => [
  stored({ direction: 'egress', ethertype: 'IPv4' }),
  stored({ direction: 'egress', ethertype: 'IPv6' }),
];

describe('diffRules', () => {
  it('removes the default egress rules from a group whose spec lists no rule', () => {
    const egress = defaultEgress();
    expect(diffRules([], egress)).toEqual({ create: [], remove: egress });
  });

  it('keeps the default egress rules when the spec lists them, ethertype IPv4 by default', () => {
    const egress = defaultEgress();
    const wanted: WantedRule[] = [{ direction: 'egress' }, { direction: 'egress', ethertype: 'IPv6' }];
    expect(diffRules(wanted, egress)).toEqual({ create: [], remove: [] });
  });

  it('creates the missing rules and removes the unlisted ones in one diff', () => {
    const ssh = stored({
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
    const web = stored({ protocol: 'tcp', port_range_min: 80, port_range_max: 80 });
    const wanted: WantedRule[] = [
      { direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 },
      { direction: 'ingress', protocol: 'tcp', portRangeMin: 443, portRangeMax: 443 },
    ];
    expect(diffRules(wanted, [ssh, web])).toEqual({ create: [wanted[1]], remove: [web] });
  });

  it.each([
    ['a protocol name in capitals', { protocol: 'TCP' }, { protocol: 'tcp' }],
    ['a protocol number', { protocol: '6' }, { protocol: 'tcp' }],
    ['a protocol name where Neutron stored the number', { protocol: 'udp' }, { protocol: '17' }],
    ['any protocol spelled "any"', { protocol: 'any' }, { protocol: null }],
    [
      'icmp under IPv6 (Neutron stores ipv6-icmp)',
      { ethertype: 'IPv6', protocol: 'icmp' },
      { ethertype: 'IPv6', protocol: 'ipv6-icmp' },
    ],
    [
      'the legacy icmpv6 spelling',
      { ethertype: 'IPv6', protocol: 'icmpv6' },
      { ethertype: 'IPv6', protocol: '58' },
    ],
    [
      'the whole TCP range (Neutron stores no range)',
      { protocol: 'tcp', portRangeMin: 1, portRangeMax: 65535 },
      { protocol: 'tcp' },
    ],
    ['the any-address prefix', { remoteIPPrefix: '0.0.0.0/0' }, {}],
    ['the IPv6 any-address prefix', { ethertype: 'IPv6', remoteIPPrefix: '::/0' }, { ethertype: 'IPv6' }],
    ['a prefix with host bits', { remoteIPPrefix: '10.0.0.5/24' }, { remote_ip_prefix: '10.0.0.0/24' }],
    ['a bare address', { remoteIPPrefix: '192.0.2.7' }, { remote_ip_prefix: '192.0.2.7/32' }],
  ] as [string, Partial<WantedRule>, Partial<NeutronRule>][])(
    'takes %s for the rule Neutron stored',
    (_, wanted, existing) => {
      expect(diffRules([{ direction: 'ingress', ...wanted }], [stored(existing)])).toEqual({
        create: [],
        remove: [],
      });
    },
  );

  it.each([
    ['another direction', { direction: 'egress' }],
    ['another ethertype', { ethertype: 'IPv6' }],
    ['another protocol', { protocol: 'udp' }],
    ['another port range', { protocol: 'tcp', port_range_min: 22, port_range_max: 23 }],
    ['another remote prefix', { remote_ip_prefix: '10.1.0.0/16' }],
    ['a remote group', { remote_group_id: 'other-group' }],
    ['a remote address group', { remote_address_group_id: 'address-group' }],
  ] as [string, Partial<NeutronRule>][])('tells a rule with %s apart', (_, difference) => {
    const existing = stored({
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '10.0.0.0/16',
      ...difference,
    });
    const wanted: WantedRule = {
      direction: 'ingress',
      protocol: 'tcp',
      portRangeMin: 22,
      portRangeMax: 22,
      remoteIPPrefix: '10.0.0.0/16',
    };
    if (difference.remote_group_id || difference.remote_address_group_id) existing.remote_ip_prefix = null;
    if (difference.remote_group_id || difference.remote_address_group_id) delete wanted.remoteIPPrefix;
    expect(diffRules([wanted], [existing])).toEqual({ create: [wanted], remove: [existing] });
  });

  it('ignores the description: rules are the same rule whatever they are called', () => {
    expect(
      diffRules([{ direction: 'ingress', description: 'new words' }], [stored({ description: 'old words' })]),
    ).toEqual({ create: [], remove: [] });
  });

  it('creates a rule the spec lists twice only once', () => {
    const wanted: WantedRule[] = [
      { direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 },
      { direction: 'ingress', protocol: '6', portRangeMin: 22, portRangeMax: 22 },
    ];
    expect(diffRules(wanted, [])).toEqual({ create: [wanted[0]], remove: [] });
  });

  it('keeps a protocol Neutron would refuse as it is, so that its create fails there', () => {
    const wanted: WantedRule = { direction: 'ingress', protocol: 'bogus' };
    expect(diffRules([wanted], [stored({})])).toMatchObject({ create: [wanted] });
  });
});

describe('ruleBody', () => {
  it("spells a wanted rule in Neutron's fields, IPv4 by default, leaving out what is not given", () => {
    expect(
      ruleBody('group', { direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }),
    ).toEqual({
      security_group_id: 'group',
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
    });
    expect(
      ruleBody('group', {
        direction: 'egress',
        ethertype: 'IPv6',
        remoteGroupId: 'other',
        description: 'peers',
      }),
    ).toEqual({
      security_group_id: 'group',
      direction: 'egress',
      ethertype: 'IPv6',
      remote_group_id: 'other',
      description: 'peers',
    });
  });
});
