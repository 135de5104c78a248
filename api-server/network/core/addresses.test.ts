// Address arithmetic and the segment settings: the rules subnets and networks are built on.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../lib/config.js';
import { defaultGateway, defaultPools, formatAddress, parseAddress } from '../../../lib/net/addresses.js';
import { addressKey, checkPools, formatPools, parseCidrAttribute } from './addresses.js';
import { checkProviderSegment, networkMtu, segmentSettings } from './segments.js';

describe('addresses', () => {
  it('parses and prints IPv4 and IPv6 canonically', () => {
    expect(parseAddress('10.0.0.1')).toEqual({ version: 4, value: 0x0a000001n });
    expect(parseAddress('010.0.0.1')).toBeUndefined();
    expect(parseAddress('256.0.0.1')).toBeUndefined();
    const v6 = parseAddress('2001:DB8:0:0:0:0:0:1')!;
    expect(formatAddress(6, v6.value)).toBe('2001:db8::1');
    expect(formatAddress(6, parseAddress('::ffff:192.0.2.1')!.value)).toBe('::ffff:c000:201');
    expect(formatAddress(6, parseAddress('1:0:0:2:0:0:0:3')!.value)).toBe('1:0:0:2::3');
    expect(parseAddress('1::2::3')).toBeUndefined();
    expect(addressKey(4, 1n)).toBe('00000001');
  });

  it('refuses host bits the way Neutron words it', () => {
    expect(() => parseCidrAttribute('10.0.0.1/24')).toThrow("'10.0.0.0/24' is recommended");
    expect(() => parseCidrAttribute('10.0.0.0/33')).toThrow('is not a valid IP subnet');
    expect(parseCidrAttribute('2001:db8::/64').prefix).toBe(64);
  });

  it('defaults the gateway to the first host and the pools to the rest', () => {
    const cidr = parseCidrAttribute('192.168.50.0/24');
    const gateway = defaultGateway(cidr)!;
    expect(formatAddress(4, gateway)).toBe('192.168.50.1');
    expect(formatPools(4, defaultPools(cidr, gateway))).toEqual([
      { start: '192.168.50.2', end: '192.168.50.254' },
    ]);
    // A gateway in the middle splits the range.
    const middle = parseAddress('192.168.50.100')!.value;
    expect(formatPools(4, defaultPools(cidr, middle))).toEqual([
      { start: '192.168.50.1', end: '192.168.50.99' },
      { start: '192.168.50.101', end: '192.168.50.254' },
    ]);
  });

  it('checks pools: inside the usable range, ordered, apart, without the gateway', () => {
    const cidr = parseCidrAttribute('10.0.0.0/24');
    const gateway = parseAddress('10.0.0.1')!.value;
    expect(() => checkPools(cidr, [{ start: '10.0.0.0', end: '10.0.0.5' }], gateway)).toThrow('spans beyond');
    expect(() => checkPools(cidr, [{ start: '10.0.0.9', end: '10.0.0.5' }], gateway)).toThrow();
    expect(() =>
      checkPools(
        cidr,
        [
          { start: '10.0.0.20', end: '10.0.0.30' },
          { start: '10.0.0.2', end: '10.0.0.20' },
        ],
        gateway,
      ),
    ).toThrow('overlapping');
    expect(() => checkPools(cidr, [{ start: '10.0.0.1', end: '10.0.0.5' }], gateway)).toThrow('conflicts');
    const pools = checkPools(
      cidr,
      [
        { start: '10.0.0.50', end: '10.0.0.60' },
        { start: '10.0.0.2', end: '10.0.0.9' },
      ],
      gateway,
    );
    expect(formatPools(4, pools)[0]).toEqual({ start: '10.0.0.2', end: '10.0.0.9' });
  });
});

describe('segments', () => {
  const settings = segmentSettings({
    ...defaultConfig().network,
    networkVlanRanges: 'physnet1:100:199,physnet2',
    physicalNetworkMtus: 'physnet1:9000,physnet2:1400',
  });

  it('computes the MTU as ML2: VXLAN −50 of the path, flat/VLAN capped by the physnet', () => {
    expect(networkMtu(settings, { networkType: 'vxlan', physicalNetwork: '', segmentationId: 1 })).toBe(1450);
    expect(
      networkMtu(
        { ...settings, pathMtu: 1400 },
        { networkType: 'vxlan', physicalNetwork: '', segmentationId: 1 },
      ),
    ).toBe(1350);
    expect(
      networkMtu(settings, { networkType: 'vlan', physicalNetwork: 'physnet1', segmentationId: 100 }),
    ).toBe(1500);
    expect(
      networkMtu(settings, { networkType: 'flat', physicalNetwork: 'physnet2', segmentationId: null }),
    ).toBe(1400);
    expect(
      networkMtu(settings, { networkType: 'flat', physicalNetwork: 'other', segmentationId: null }),
    ).toBe(1500);
  });

  it('validates provider segments as the type drivers do', () => {
    expect(() => checkProviderSegment(settings, { networkType: 'gre' })).toThrow('not supported');
    expect(() => checkProviderSegment(settings, { networkType: 'flat' })).toThrow(
      'physical_network required',
    );
    expect(() =>
      checkProviderSegment(settings, { networkType: 'vlan', physicalNetwork: 'physnet1' }),
    ).toThrow('segmentation_id required');
    expect(() =>
      checkProviderSegment(settings, {
        networkType: 'vlan',
        physicalNetwork: 'physnet1',
        segmentationId: 5000,
      }),
    ).toThrow('out of range');
    expect(
      checkProviderSegment(settings, { networkType: 'vlan', physicalNetwork: 'physnet2', segmentationId: 7 }),
    ).toEqual({ networkType: 'vlan', physicalNetwork: 'physnet2', segmentationId: 7 });
    expect(settings.vlanRanges.get('physnet1')).toEqual([{ min: 100, max: 199 }]);
  });
});
