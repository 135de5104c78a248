// The Project kind's actuator: a Keystone v3 project, the roles its bindings grant on it, and
// its quota (Neutron's network limits, Nova's compute limits). The generic reconciler
// (operator/framework/reconciler.ts) calls it; every method keeps that contract.
import { EndpointNotFound, NotFound } from '../../lib/openstack/index.js';
import type { KindSpec } from '../crds/convention.js';
import { Project } from '../crds/identity.js';
import { changedFields, dependencyId, ifFound, matchesFilter } from '../framework/actuator-helpers.js';
import { TerminalError } from '../framework/errors.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import {
  credentialsDomainId,
  groupIdNamed,
  type KeystoneProject,
  keystone,
  roleIdNamed,
  userIdNamed,
} from './keystone.js';
import { NEUTRON_QUOTAS, NOVA_QUOTAS, quotaChanges, serviceQuota } from './quotas.js';
import {
  GRANTS_RECORD_KEY,
  type Grant,
  grantSet,
  grantsOf,
  grantsRecord,
  planGrants,
  type RoleAssignment,
  recordedGrants,
} from './role-grants.js';

type ProjectSpec = KindSpec<typeof Project>;
type ProjectResource = NonNullable<ProjectSpec['resource']>;

const spec = (context: ActuatorContext) => context.object.spec as ProjectSpec;
const resourceOf = (context: ActuatorContext): ProjectResource => spec(context).resource ?? {};
const projectPath = (id: string) => `/projects/${encodeURIComponent(id)}`;

/** The project's own attributes as spec.resource wants them (undefined: left as they are). */
function attributes(context: ActuatorContext): Partial<KeystoneProject> {
  const resource = resourceOf(context);
  const fields: Partial<KeystoneProject> = { name: resource.name ?? context.object.metadata.name };
  if (resource.description !== undefined) fields.description = resource.description;
  if (resource.enabled !== undefined) fields.enabled = resource.enabled;
  if (resource.tags !== undefined) fields.tags = resource.tags;
  return fields;
}

async function patchProject(
  context: ActuatorContext,
  id: string,
  fields: Record<string, unknown>,
): Promise<KeystoneProject> {
  return (await keystone(context).patch<{ project: KeystoneProject }>(projectPath(id), { project: fields }))
    .body.project;
}

/** The grants the role bindings ask for, by IDs (a name nothing has is a terminal error). */
async function desiredGrants(context: ActuatorContext, project: KeystoneProject): Promise<Grant[]> {
  const roleIds = new Map<string, string>();
  const grants: Grant[] = [];
  for (const binding of resourceOf(context).roleBindings ?? []) {
    let roleId = roleIds.get(binding.role);
    if (roleId === undefined) {
      roleId = await roleIdNamed(context, binding.role);
      roleIds.set(binding.role, roleId);
    }
    if (binding.group !== undefined) {
      grants.push({
        roleId,
        subject: 'group',
        subjectId: await groupIdNamed(context, binding.group, project.domain_id),
      });
      continue;
    }
    // The reconciler resolved userRef (a dependency) before calling: it is there.
    const userId =
      binding.userRef !== undefined
        ? (dependencyId(context, 'User', binding.userRef) as string)
        : await userIdNamed(context, binding.user as string, project.domain_id);
    grants.push({ roleId, subject: 'user', subjectId: userId });
  }
  return grantSet(grants);
}

const grantPath = (projectId: string, grant: Grant) =>
  `${projectPath(projectId)}/${grant.subject}s/${encodeURIComponent(grant.subjectId)}/roles/${encodeURIComponent(grant.roleId)}`;

/**
 * Grants what the bindings ask for and revokes the operator's own grants they no longer ask
 * for (see role-grants.ts for the record); the project with its record, or undefined when
 * nothing changed.
 */
async function reconcileGrants(
  context: ActuatorContext,
  project: KeystoneProject,
): Promise<KeystoneProject | undefined> {
  const desired = await desiredGrants(context, project);
  const recorded = recordedGrants(project[GRANTS_RECORD_KEY]);
  if (desired.length === 0 && recorded.length === 0) return undefined;
  const assignments: RoleAssignment[] = [];
  for await (const assignment of keystone(context).list<RoleAssignment>(
    '/role_assignments',
    'role_assignments',
    {
      query: { 'scope.project.id': project.id },
    },
  ))
    assignments.push(assignment);
  const plan = planGrants(desired, grantsOf(assignments), recorded);
  let current = project;
  const record = async (grants: Grant[]) => {
    const value = grantsRecord(grants);
    if (current[GRANTS_RECORD_KEY] !== value)
      current = await patchProject(context, project.id, { [GRANTS_RECORD_KEY]: value });
  };
  await record(plan.recordBefore);
  for (const grant of plan.grant) await keystone(context).put(grantPath(project.id, grant));
  for (const grant of plan.revoke) await ifFound(keystone(context).delete(grantPath(project.id, grant)));
  await record(plan.recordAfter);
  return plan.grant.length > 0 || plan.revoke.length > 0 || current !== project ? current : undefined;
}

/** Sets the quota limits that differ; true when it changed any. */
async function reconcileQuota(context: ActuatorContext, projectId: string): Promise<boolean> {
  const quota = resourceOf(context).quota;
  let changed = false;
  const network = serviceQuota(quota, NEUTRON_QUOTAS);
  if (Object.keys(network).length > 0) {
    const neutron = context.client.service('network');
    const path = `/quotas/${encodeURIComponent(projectId)}`;
    const current = (await neutron.get<{ quota: Record<string, unknown> }>(path)).body.quota;
    const changes = quotaChanges(network, current);
    if (Object.keys(changes).length > 0) {
      await neutron.put(path, { quota: changes });
      changed = true;
    }
  }
  // After the network limits: a cloud without Nova quotas still gets those.
  const compute = serviceQuota(quota, NOVA_QUOTAS);
  if (Object.keys(compute).length > 0) {
    const nova = context.client.service('compute');
    const path = `/os-quota-sets/${encodeURIComponent(projectId)}`;
    let current: Record<string, unknown>;
    try {
      current = (await nova.get<{ quota_set: Record<string, unknown> }>(path)).body.quota_set;
    } catch (error) {
      if (error instanceof NotFound || error instanceof EndpointNotFound)
        throw new TerminalError(
          "This cloud's compute service does not serve quotas (os-quota-sets), so quota.instances, quota.cores and quota.ramMegabytes cannot be set; remove them (the network quotas are set)",
        );
      throw error;
    }
    const changes = quotaChanges(compute, current);
    if (Object.keys(changes).length > 0) {
      await nova.put(path, { quota_set: changes });
      changed = true;
    }
  }
  return changed;
}

export const projectActuator: Actuator<KeystoneProject> = {
  kind: Project,

  // A binding's User waits to exist but is not held: deleting a user removes its grants.
  dependencies(object) {
    return ((object.spec as ProjectSpec).resource?.roleBindings ?? []).flatMap((binding) =>
      binding.userRef === undefined ? [] : [{ kind: 'User', name: binding.userRef, held: false }],
    );
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    return (await ifFound(keystone(context).get<{ project: KeystoneProject }>(projectPath(id))))?.body
      .project;
  },

  async listForAdoption(context) {
    const name = resourceOf(context).name ?? context.object.metadata.name;
    const domainId = resourceOf(context).domainId ?? (await credentialsDomainId(context));
    const found: KeystoneProject[] = [];
    for await (const candidate of keystone(context).list<KeystoneProject>('/projects', 'projects', {
      query: { name, domain_id: domainId },
    }))
      if (matchesFilter(candidate, { name, domain_id: domainId }, undefined)) found.push(candidate);
    return found;
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const found: KeystoneProject[] = [];
    for await (const candidate of keystone(context).list<KeystoneProject>('/projects', 'projects', {
      query: { name: filter.name, domain_id: filter.domainId, tags: filter.tags?.join(',') },
    }))
      if (matchesFilter(candidate, { name: filter.name, domain_id: filter.domainId }, filter.tags))
        found.push(candidate);
    return found;
  },

  async create(context) {
    const domainId = resourceOf(context).domainId ?? (await credentialsDomainId(context));
    return (
      await keystone(context).post<{ project: KeystoneProject }>('/projects', {
        project: { ...attributes(context), domain_id: domainId },
      })
    ).body.project;
  },

  async update(context, current) {
    let project = current;
    const changes = changedFields(attributes(context), current);
    if (Object.keys(changes).length > 0) project = await patchProject(context, current.id, changes);
    project = (await reconcileGrants(context, project)) ?? project;
    const quotaChanged = await reconcileQuota(context, project.id);
    return project !== current || quotaChanged ? project : undefined;
  },

  async delete(context, current) {
    // The project's quota rows outlive it in Neutron (and Nova): reset them first.
    const quota = resourceOf(context).quota;
    if (Object.keys(serviceQuota(quota, NEUTRON_QUOTAS)).length > 0)
      await ifFound(context.client.service('network').delete(`/quotas/${encodeURIComponent(current.id)}`));
    if (Object.keys(serviceQuota(quota, NOVA_QUOTAS)).length > 0)
      await ifFound(
        context.client.service('compute').delete(`/os-quota-sets/${encodeURIComponent(current.id)}`),
      ).catch((error) => {
        // A cloud without Nova quotas never had any set.
        if (!(error instanceof EndpointNotFound)) throw error;
      });
    // Keystone deletes an enabled project (only a domain must be disabled first), with its grants.
    await ifFound(keystone(context).delete(projectPath(current.id)));
  },

  observe(found) {
    const resource = {
      name: found.name,
      description: found.description ?? undefined,
      domainId: found.domain_id,
      enabled: found.enabled,
      tags: found.tags,
    };
    return {
      // Undefined fields are left out: the status schema has no nulls.
      resource: JSON.parse(JSON.stringify(resource)),
      available: true,
      message: found.enabled === false ? 'Project is disabled' : 'Project is enabled',
    };
  },
};
