import { describe, expect, it } from 'vitest';
import { addressPairSet, fixedIPsToSet } from './port.js';

const onA = (ip: string) => ({ subnet_id: 'a', ip_address: ip });
const onB = (ip: string) => ({ subnet_id: 'b', ip_address: ip });

describe('fixedIPsToSet', () => {
  it('changes nothing when every wanted entry is held and nothing else is', () => {
    expect(
      fixedIPsToSet([{ subnet_id: 'a' }, { ip_address: '10.1.0.9' }], [onA('10.0.0.5'), onB('10.1.0.9')]),
    ).toBe(undefined);
  });

  it('keeps the address a subnet-only entry already has, so Neutron does not allocate another', () => {
    expect(fixedIPsToSet([{ subnet_id: 'a' }, { subnet_id: 'b' }], [onA('10.0.0.5')])).toEqual([
      onA('10.0.0.5'),
      { subnet_id: 'b' },
    ]);
  });

  it('drops an address no entry asks for', () => {
    expect(fixedIPsToSet([{ subnet_id: 'a' }], [onA('10.0.0.5'), onB('10.1.0.9')])).toEqual([
      onA('10.0.0.5'),
    ]);
  });

  it('asks for a named address the port does not hold, leaving the one it replaces', () => {
    expect(fixedIPsToSet([{ subnet_id: 'a', ip_address: '10.0.0.7' }], [onA('10.0.0.5')])).toEqual([
      { subnet_id: 'a', ip_address: '10.0.0.7' },
    ]);
  });

  it('matches a named address before a subnet-only entry of its subnet takes it', () => {
    expect(
      fixedIPsToSet([{ subnet_id: 'a' }, { ip_address: '10.0.0.5' }], [onA('10.0.0.5'), onA('10.0.0.6')]),
    ).toBe(undefined);
  });

  it('compares IPv6 addresses in their canonical spelling', () => {
    expect(fixedIPsToSet([{ ip_address: '2001:DB8:0::5' }], [onA('2001:db8::5')])).toBe(undefined);
  });
});

describe('addressPairSet', () => {
  it("fills in the port's MAC, spells addresses canonically and ignores order and duplicates", () => {
    const mac = 'fa:16:3e:00:00:01';
    expect(
      addressPairSet(
        [
          { ip_address: '2001:DB8::/64' },
          { ip_address: '10.0.0.9', mac_address: 'FA:16:3E:00:00:02' },
          { ip_address: '2001:db8::/64', mac_address: mac },
        ],
        mac,
      ),
    ).toEqual([
      { ip_address: '10.0.0.9', mac_address: 'fa:16:3e:00:00:02' },
      { ip_address: '2001:db8::/64', mac_address: mac },
    ]);
  });
});
