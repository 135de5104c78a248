// A Project's quota in the words of the services that enforce it: network limits are
// Neutron's (PUT /v2.0/quotas/{project_id}), servers, vCPUs and RAM are Nova's
// (PUT /os-quota-sets/{project_id}).
import type { KindSpec } from '../crds/convention.js';
import type { Project } from '../crds/identity.js';

export type ProjectQuota = NonNullable<NonNullable<KindSpec<typeof Project>['resource']>['quota']>;

/** Spec field → Neutron quota resource. */
export const NEUTRON_QUOTAS = {
  networks: 'network',
  subnets: 'subnet',
  ports: 'port',
  routers: 'router',
  floatingIPs: 'floatingip',
  securityGroups: 'security_group',
  securityGroupRules: 'security_group_rule',
} as const satisfies Partial<Record<keyof ProjectQuota, string>>;

/** Spec field → Nova quota resource. */
export const NOVA_QUOTAS = {
  instances: 'instances',
  cores: 'cores',
  ramMegabytes: 'ram',
} as const satisfies Partial<Record<keyof ProjectQuota, string>>;

/** The limits `quota` sets through one service, in its names; fields left out are not there. */
export function serviceQuota(
  quota: ProjectQuota | undefined,
  names: Record<string, string>,
): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const [field, name] of Object.entries(names)) {
    const value = quota?.[field as keyof ProjectQuota];
    if (value !== undefined) limits[name] = value;
  }
  return limits;
}

/** The limits of `desired` that `current` (a service's quota answer) does not have. */
export function quotaChanges(
  desired: Record<string, number>,
  current: Record<string, unknown>,
): Record<string, number> {
  return Object.fromEntries(Object.entries(desired).filter(([name, limit]) => current[name] !== limit));
}
