import { describe, expect, it } from 'vitest';
import { gatewayAddress, inCidr, type NeutronSubnet, type SubnetResource, subnetChanges } from './subnet.js';

const subnet: NeutronSubnet = {
  id: 's1',
  name: 'web',
  description: '',
  network_id: 'n1',
  ip_version: 4,
  cidr: '10.0.0.0/24',
  gateway_ip: '10.0.0.1',
  allocation_pools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
  dns_nameservers: [],
  host_routes: [],
  enable_dhcp: true,
};
const resource = (fields: Partial<SubnetResource> = {}): SubnetResource => ({
  networkRef: 'net',
  cidr: '10.0.0.0/24',
  ...fields,
});

describe('gatewayAddress', () => {
  it('is the first usable address for Automatic or none given, the IP for IP, null for None', () => {
    expect(gatewayAddress(undefined, '10.0.0.0/24')).toBe('10.0.0.1');
    expect(gatewayAddress({ type: 'Automatic' }, '2001:db8::/64')).toBe('2001:db8::1');
    expect(gatewayAddress({ type: 'IP', ip: '2001:DB8:0::FE' }, '2001:db8::/64')).toBe('2001:db8::fe');
    expect(gatewayAddress({ type: 'None' }, '10.0.0.0/24')).toBeNull();
    // A /32 has no address to spare for a gateway.
    expect(gatewayAddress(undefined, '10.0.0.7/32')).toBe('10.0.0.7');
  });
});

describe('subnetChanges', () => {
  it('is empty when the subnet is as described, whatever the order or spelling of lists', () => {
    const current = {
      ...subnet,
      dns_nameservers: ['10.0.0.53', '2001:db8::53'],
      host_routes: [
        { destination: '172.16.0.0/16', nexthop: '10.0.0.9' },
        { destination: '172.17.0.0/16', nexthop: '10.0.0.9' },
      ],
    };
    const wanted = resource({
      name: 'web',
      dnsNameservers: ['10.0.0.53', '2001:DB8::53'],
      hostRoutes: [
        { destination: '172.17.0.0/16', nextHop: '10.0.0.9' },
        { destination: '172.16.0.0/16', nextHop: '10.0.0.9' },
      ],
      allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
      enableDHCP: true,
    });
    expect(subnetChanges(wanted, 'ignored', current)).toEqual({});
  });

  it('names only the fields that differ, in the body Neutron takes', () => {
    const wanted = resource({
      description: 'web tier',
      gateway: { type: 'IP', ip: '10.0.0.254' },
      allocationPools: [{ start: '10.0.0.10', end: '10.0.0.200' }],
      dnsNameservers: ['10.0.0.53'],
      hostRoutes: [{ destination: '172.16.0.0/16', nextHop: '10.0.0.9' }],
      enableDHCP: false,
    });
    expect(subnetChanges(wanted, 'web', subnet)).toEqual({
      description: 'web tier',
      gateway_ip: '10.0.0.254',
      allocation_pools: [{ start: '10.0.0.10', end: '10.0.0.200' }],
      dns_nameservers: ['10.0.0.53'],
      host_routes: [{ destination: '172.16.0.0/16', nexthop: '10.0.0.9' }],
      enable_dhcp: false,
    });
  });

  it('takes lists and the gateway left out as Neutron defaults them, but leaves pools and description', () => {
    const drifted: NeutronSubnet = {
      ...subnet,
      name: 'renamed',
      description: 'someone wrote this',
      gateway_ip: null,
      allocation_pools: [{ start: '10.0.0.100', end: '10.0.0.110' }],
      dns_nameservers: ['8.8.8.8'],
      host_routes: [{ destination: '0.0.0.0/0', nexthop: '10.0.0.9' }],
      enable_dhcp: false,
    };
    expect(subnetChanges(resource(), 'web', drifted)).toEqual({
      name: 'web',
      gateway_ip: '10.0.0.1',
      dns_nameservers: [],
      host_routes: [],
      enable_dhcp: true,
    });
  });

  it('keeps DNS servers in their order: the first is asked first', () => {
    const current = { ...subnet, dns_nameservers: ['10.0.0.53', '10.0.0.54'] };
    expect(
      subnetChanges(resource({ name: 'web', dnsNameservers: ['10.0.0.54', '10.0.0.53'] }), 'web', current),
    ).toEqual({ dns_nameservers: ['10.0.0.54', '10.0.0.53'] });
  });
});

describe('inCidr', () => {
  it('holds for addresses of the block in either family, whatever their spelling', () => {
    expect(inCidr('10.40.0.9', '10.40.0.0/24')).toBe(true);
    expect(inCidr('10.41.0.9', '10.40.0.0/24')).toBe(false);
    expect(inCidr('2001:DB8:50::9', '2001:db8:50::/64')).toBe(true);
    expect(inCidr('10.40.0.9', '2001:db8:50::/64')).toBe(false);
  });
});
