// IP address arithmetic: canonical spellings, prefixes and blocks, as the network API and the
// operator both rely on them.
import { describe, expect, it } from 'vitest';
import { blockOf, formatCidr, formatPrefix, normalizedCidr, parseCidr, parsePrefix } from './addresses.js';

describe('IP prefixes', () => {
  it('parses and writes prefixes canonically, host bits kept, and finds their network', () => {
    const cases: [string, string, string][] = [
      ['10.0.0.5/24', '10.0.0.5/24', '10.0.0.0/24'],
      ['192.0.2.7', '192.0.2.7/32', '192.0.2.7/32'],
      ['0.0.0.0/0', '0.0.0.0/0', '0.0.0.0/0'],
      ['::/0', '::/0', '::/0'],
      ['2001:DB8:0:0:0:0:0:1/64', '2001:db8::1/64', '2001:db8::/64'],
      ['::ffff:10.0.0.1/120', '::ffff:a00:1/120', '::ffff:a00:0/120'],
      ['fe80::1:0:0:1', 'fe80::1:0:0:1/128', 'fe80::1:0:0:1/128'],
      ['1:0:0:2:0:0:0:3/128', '1:0:0:2::3/128', '1:0:0:2::3/128'],
    ];
    for (const [input, canonical, network] of cases) {
      const prefix = parsePrefix(input);
      expect(prefix, input).toBeDefined();
      expect(formatPrefix(prefix!), input).toBe(canonical);
      expect(formatCidr(blockOf(prefix!)), input).toBe(network);
    }
  });

  it('refuses what is not an address with an optional length', () => {
    for (const bad of [
      '',
      '10.0.0.0/33',
      '10.0.0/8',
      '::/129',
      'fe80::1%eth0',
      '10.0.0.1/-1',
      '10.0.0.1/',
      'x',
    ]) {
      expect(parsePrefix(bad), bad).toBeUndefined();
    }
  });
});

describe('CIDR blocks', () => {
  it('takes an address with a length and no host bits, and nothing else', () => {
    expect(formatCidr(parseCidr('192.168.50.0/24')!)).toBe('192.168.50.0/24');
    expect(formatCidr(parseCidr('2001:DB8::/32')!)).toBe('2001:db8::/32');
    expect(parseCidr('10.0.0.1/24')).toBeUndefined();
    expect(parseCidr('10.0.0.0')).toBeUndefined();
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
  });

  it("normalizes a rule's remote prefix to the network it denotes, as Neutron's normalized_cidr", () => {
    expect(normalizedCidr('10.0.0.5/24')).toBe('10.0.0.0/24');
    expect(normalizedCidr(null)).toBeNull();
    expect(normalizedCidr('not a prefix')).toBe('not a prefix');
  });
});
