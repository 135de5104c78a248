// The SecurityGroup kind's actuator: a Neutron security group and its complete rule list.
// create makes the group (Neutron adds its two egress rules); update makes the rules exactly
// the spec's list (security-group-rules.ts), so those egress rules go unless listed.
import type { KindSpec } from '../crds/convention.js';
import { SecurityGroup } from '../crds/network.js';
import { changedFields, ifFound, referenced } from '../framework/actuator-helpers.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import { creationProjectId, listMatching, neutron as network, projectIdOf } from './neutron.js';
import { diffRules, type NeutronRule, ruleBody, type WantedRule } from './security-group-rules.js';

/** A security group as Neutron's API shows it. */
export interface NeutronSecurityGroup {
  id: string;
  name: string;
  description?: string;
  project_id?: string;
  stateful?: boolean;
  security_group_rules?: NeutronRule[];
  tags?: string[];
}

type SecurityGroupSpec = KindSpec<typeof SecurityGroup>;
type SecurityGroupResource = NonNullable<SecurityGroupSpec['resource']>;

const spec = (context: ActuatorContext) => context.object.spec as SecurityGroupSpec;
const nameOf = (context: ActuatorContext) => spec(context).resource?.name ?? context.object.metadata.name;

/**
 * The other SecurityGroup objects the rules name. A rule naming the object itself is no
 * dependency (the group would wait for itself): it is resolved to the group's own ID.
 */
function remoteGroupRefs(object: { metadata: { name: string }; spec?: unknown }): string[] {
  const rules = (object.spec as SecurityGroupSpec).resource?.rules ?? [];
  const refs = rules.flatMap((rule) =>
    rule.remoteGroupRef !== undefined && rule.remoteGroupRef !== object.metadata.name
      ? [rule.remoteGroupRef]
      : [],
  );
  return [...new Set(refs)];
}

/** The spec's rules with each remoteGroupRef as the group's ID. */
function wantedRules(context: ActuatorContext, ownId: string): WantedRule[] {
  return (spec(context).resource?.rules ?? []).map(({ remoteGroupRef, ...rule }) => {
    if (remoteGroupRef === undefined) return rule;
    const remoteGroupId =
      remoteGroupRef === context.object.metadata.name
        ? ownId
        : context.dependencyIds.get(`SecurityGroup/${remoteGroupRef}`);
    return { ...rule, remoteGroupId };
  });
}

/** The group's own fields Neutron can change, from spec.resource. */
function updatable(resource: SecurityGroupResource): Partial<NeutronSecurityGroup> {
  const fields: Partial<NeutronSecurityGroup> = {};
  if (resource.description !== undefined) fields.description = resource.description;
  if (resource.stateful !== undefined) fields.stateful = resource.stateful;
  return fields;
}

export const securityGroupActuator: Actuator<NeutronSecurityGroup> = {
  kind: SecurityGroup,

  dependencies(object) {
    const { resource, import: imported } = object.spec as SecurityGroupSpec;
    return referenced([
      ['Project', resource?.projectRef ?? imported?.filter?.projectRef],
      ...remoteGroupRefs(object).map((name): [string, string] => ['SecurityGroup', name]),
    ]);
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    const found = await ifFound(
      network(context).get<{ security_group: NeutronSecurityGroup }>(
        `/security-groups/${encodeURIComponent(id)}`,
      ),
    );
    return found?.body.security_group;
  },

  async listForAdoption(context) {
    const fields = {
      name: nameOf(context),
      project_id: await creationProjectId(context, spec(context).resource?.projectRef),
    };
    return listMatching<NeutronSecurityGroup>(context, 'security-groups', fields);
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const fields = { name: filter.name, project_id: projectIdOf(context, filter.projectRef) };
    return listMatching<NeutronSecurityGroup>(context, 'security-groups', fields, filter.tags);
  },

  async create(context) {
    const resource = spec(context).resource ?? {};
    const body: Record<string, unknown> = { name: nameOf(context), ...updatable(resource) };
    const projectId = projectIdOf(context, resource.projectRef);
    if (projectId) body.project_id = projectId;
    return (
      await network(context).post<{ security_group: NeutronSecurityGroup }>('/security-groups', {
        security_group: body,
      })
    ).body.security_group;
  },

  async update(context, current) {
    const resource = spec(context).resource ?? {};
    const desired: Partial<NeutronSecurityGroup> = { name: nameOf(context), ...updatable(resource) };
    const changes = changedFields(desired, current);
    const rules = diffRules(wantedRules(context, current.id), current.security_group_rules ?? []);
    if (Object.keys(changes).length === 0 && rules.create.length === 0 && rules.remove.length === 0)
      return undefined;
    const service = network(context);
    if (Object.keys(changes).length > 0)
      await service.put(`/security-groups/${current.id}`, { security_group: changes });
    // Added before the unlisted ones go, so traffic both lists allow is never cut meanwhile.
    for (const rule of rules.create)
      await service.post('/security-group-rules', { security_group_rule: ruleBody(current.id, rule) });
    for (const rule of rules.remove) await ifFound(service.delete(`/security-group-rules/${rule.id}`));
    return (await securityGroupActuator.getById(context, current.id)) ?? current;
  },

  async delete(context, current) {
    // A 409 (ports still use the group) is retried with backoff by the classification.
    await ifFound(network(context).delete(`/security-groups/${current.id}`));
  },

  observe(found) {
    const resource = {
      name: found.name,
      description: found.description,
      projectId: found.project_id,
      stateful: found.stateful,
      rules: found.security_group_rules?.map((rule) => ({
        id: rule.id,
        description: rule.description || undefined,
        direction: rule.direction,
        ethertype: rule.ethertype,
        protocol: rule.protocol ?? undefined,
        portRangeMin: rule.port_range_min ?? undefined,
        portRangeMax: rule.port_range_max ?? undefined,
        remoteIPPrefix: rule.remote_ip_prefix ?? undefined,
        remoteGroupId: rule.remote_group_id ?? undefined,
      })),
      tags: found.tags,
    };
    // A group has no status of its own: it can be used once it exists.
    return { resource: JSON.parse(JSON.stringify(resource)), available: true };
  },
};
