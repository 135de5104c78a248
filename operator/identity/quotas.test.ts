import { describe, expect, it } from 'vitest';
import { NEUTRON_QUOTAS, NOVA_QUOTAS, quotaChanges, serviceQuota } from './quotas.js';

describe('a Project quota in the services words', () => {
  const quota = {
    instances: 4,
    cores: 8,
    ramMegabytes: 8192,
    networks: 2,
    subnets: 3,
    ports: -1,
    routers: 1,
    floatingIPs: 0,
    securityGroups: 5,
    securityGroupRules: 40,
  };

  it("splits into Neutron's and Nova's resource names", () => {
    expect(serviceQuota(quota, NEUTRON_QUOTAS)).toEqual({
      network: 2,
      subnet: 3,
      port: -1,
      router: 1,
      floatingip: 0,
      security_group: 5,
      security_group_rule: 40,
    });
    expect(serviceQuota(quota, NOVA_QUOTAS)).toEqual({ instances: 4, cores: 8, ram: 8192 });
  });

  it('leaves out the limits not given, so they keep the cloud defaults', () => {
    expect(serviceQuota({ routers: 3 }, NEUTRON_QUOTAS)).toEqual({ router: 3 });
    expect(serviceQuota({ routers: 3 }, NOVA_QUOTAS)).toEqual({});
    expect(serviceQuota(undefined, NEUTRON_QUOTAS)).toEqual({});
  });

  it('changes only the limits that differ from what the service has', () => {
    expect(quotaChanges({ network: 2, router: 1 }, { network: 2, router: 10, port: 500 })).toEqual({
      router: 1,
    });
    expect(quotaChanges({ network: 2 }, { network: 2 })).toEqual({});
  });
});
