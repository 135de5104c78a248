import { describe, expect, it } from 'vitest';
import {
  desiredGateway,
  gatewayChange,
  type NeutronRouter,
  type RouterResource,
  routerChanges,
} from './router.js';

const router: NeutronRouter = {
  id: 'r1',
  name: 'edge',
  description: '',
  admin_state_up: true,
  status: 'ACTIVE',
  external_gateway_info: null,
  routes: [],
};

describe('the external gateway', () => {
  it('is set, changed, or cleared only when it differs', () => {
    const wanted: RouterResource = { externalGateway: { externalNetworkRef: 'public' } };
    const gateway = desiredGateway(wanted, 'pub1');
    expect(gateway).toEqual({ network_id: 'pub1' });
    expect(gatewayChange(gateway, router)).toEqual({ network_id: 'pub1' });
    const withGateway = { ...router, external_gateway_info: { network_id: 'pub1', enable_snat: true } };
    // enableSNAT left out is the cloud's choice: not compared.
    expect(gatewayChange(gateway, withGateway)).toBeUndefined();
    expect(gatewayChange(desiredGateway(wanted, 'pub2'), withGateway)).toEqual({ network_id: 'pub2' });
    const noSnat = desiredGateway(
      { externalGateway: { externalNetworkRef: 'public', enableSNAT: false } },
      'pub1',
    );
    expect(gatewayChange(noSnat, withGateway)).toEqual({ network_id: 'pub1', enable_snat: false });
    expect(gatewayChange(desiredGateway({}, undefined), withGateway)).toBeNull();
    expect(gatewayChange(desiredGateway({}, undefined), router)).toBeUndefined();
  });
});

describe('routerChanges', () => {
  it('is empty when the router is as described, routes compared as a set in Neutron spelling', () => {
    const current = {
      ...router,
      routes: [
        { destination: '172.16.0.0/16', nexthop: '10.0.0.9' },
        { destination: '2001:db8:1::/48', nexthop: '2001:db8::9' },
      ],
    };
    const wanted: RouterResource = {
      name: 'edge',
      adminStateUp: true,
      routes: [
        { destination: '2001:DB8:1::/48', nextHop: '2001:db8:0::9' },
        { destination: '172.16.0.0/16', nextHop: '10.0.0.9' },
      ],
    };
    expect(routerChanges(wanted, 'ignored', current)).toEqual({});
  });

  it('names the fields that differ; routes left out are none', () => {
    const current = { ...router, routes: [{ destination: '172.16.0.0/16', nexthop: '10.0.0.9' }] };
    expect(routerChanges({ description: 'edge router', adminStateUp: false }, 'edge', current)).toEqual({
      description: 'edge router',
      admin_state_up: false,
      routes: [],
    });
    expect(
      routerChanges(
        { name: 'core', routes: [{ destination: '10.9.0.0/16', nextHop: '10.0.0.8' }] },
        'edge',
        router,
      ),
    ).toEqual({ name: 'core', routes: [{ destination: '10.9.0.0/16', nexthop: '10.0.0.8' }] });
  });
});
