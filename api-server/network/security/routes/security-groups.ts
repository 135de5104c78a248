// /v2.0/security-groups and /v2.0/security-group-rules. A project's `default` group appears on
// its first look at either collection; a group or rule the caller may not see is a 404, as in
// Neutron.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { allows, authorize } from '../../../common/authorize.js';
import { contextOf, requireAuth } from '../../../common/context.js';
import { BadRequest, Conflict } from '../../../common/errors.js';
import { listResponse, sortKeys } from '../../pagination.js';
import {
  applyFilters,
  booleanAttribute,
  orNotFound,
  projectFilter,
  rejectReadOnly,
  rejectUnknown,
  resourceBody,
  selectFields,
  stringAttribute,
} from '../api.js';
import {
  normalizeDirection,
  normalizeEthertype,
  normalizeProtocol,
  normalizeRemotePrefix,
  validateRule,
} from '../rules.js';
import {
  createGroup,
  createRule,
  DEFAULT_GROUP_NAME,
  deleteGroup,
  deleteRule,
  ensureDefaultSecurityGroup,
  findGroup,
  findRule,
  groupNotFound,
  groupOwners,
  groupViews,
  isDefaultGroup,
  listGroups,
  listRules,
  refuseIfGroupInUse,
  ruleNotFound,
  ruleView,
  updateGroup,
} from '../security-groups.js';
import { type Caller, callerOf, ownedTarget, type SecurityService } from '../service.js';

type IdParams = { Params: { id: string } };

/** What `sort_key` may name (Neutron's sortable security group and rule attributes). */
const GROUP_SORT_KEYS = sortKeys('name');
const RULE_SORT_KEYS = sortKeys(
  'security_group_id',
  'remote_group_id',
  'direction',
  'protocol',
  'port_range_min',
  'port_range_max',
  'ethertype',
  'remote_ip_prefix',
);

const GROUP_CREATE = ['name', 'description', 'stateful', 'project_id', 'tenant_id'];
const GROUP_UPDATE = ['name', 'description', 'stateful'];
const GROUP_READ_ONLY = [
  'id',
  'project_id',
  'tenant_id',
  'security_group_rules',
  'revision_number',
  'created_at',
  'updated_at',
  'tags',
];
const RULE_CREATE = [
  'security_group_id',
  'direction',
  'ethertype',
  'protocol',
  'port_range_min',
  'port_range_max',
  'remote_ip_prefix',
  'remote_group_id',
  'description',
  'project_id',
  'tenant_id',
];

/** The project a create is for: the one named in the body (admins may name any), else the caller's. */
function ownerProject(resource: Record<string, unknown>, caller: Caller): string {
  const named = resource.project_id ?? resource.tenant_id;
  if (
    resource.project_id !== undefined &&
    resource.tenant_id !== undefined &&
    resource.project_id !== resource.tenant_id
  ) {
    throw new BadRequest('Invalid input: project_id and tenant_id do not match.');
  }
  if (named !== undefined) {
    if (typeof named !== 'string' || named === '' || named.length > 64) {
      throw new BadRequest(
        `Invalid input for project_id. Reason: '${String(named)}' is not a valid project id.`,
      );
    }
    return named;
  }
  if (!caller.projectId) throw new BadRequest('A project-scoped token is needed to create this resource.');
  return caller.projectId;
}

export const securityGroupRoutes: FastifyPluginAsync<SecurityService> = async (app, service) => {
  const { db, policy, identity } = service;
  app.addHook('preHandler', requireAuth(identity));

  /** Neutron makes the caller's default group (or the filtered project's) on its first look. */
  async function ensureDefaultFor(request: FastifyRequest, caller: Caller): Promise<void> {
    const filtered = projectFilter(request);
    const project =
      filtered !== undefined && (caller.isAdmin || filtered === caller.projectId)
        ? filtered
        : caller.projectId;
    if (project) await ensureDefaultSecurityGroup(db, project);
  }

  const canSeeGroup = (request: FastifyRequest, projectId: string) =>
    allows(policy, contextOf(request), 'get_security_group', ownedTarget(projectId));

  async function findVisibleGroup(request: FastifyRequest, id: string) {
    const group = await findGroup(db, id);
    return group && canSeeGroup(request, group.project_id) ? group : undefined;
  }

  const visibleGroup = (request: FastifyRequest, id: string) =>
    orNotFound(findVisibleGroup(request, id), () => groupNotFound(id));

  async function groupResponse(id: string) {
    const group = await findGroup(db, id);
    if (!group) throw groupNotFound(id);
    const [view] = await groupViews(db, [group]);
    return view!;
  }

  app.get('/v2.0/security-groups', async (request) => {
    const caller = callerOf(request);
    await ensureDefaultFor(request, caller);
    const rows = await listGroups(db, caller.isAdmin ? projectFilter(request) : caller.projectId);
    const visible = rows.filter((row) => canSeeGroup(request, row.project_id));
    return listResponse(request, 'security_groups', applyFilters(request, await groupViews(db, visible)), {
      sortKeys: GROUP_SORT_KEYS,
      findMarker: async (id) => {
        const group = await findVisibleGroup(request, id);
        return group && (await groupViews(db, [group]))[0];
      },
      shape: (view) => selectFields(request, view),
    });
  });

  app.get<IdParams>('/v2.0/security-groups/:id', async (request) => {
    await ensureDefaultFor(request, callerOf(request));
    const group = await visibleGroup(request, request.params.id);
    return { security_group: selectFields(request, await groupResponse(group.id)) };
  });

  app.post('/v2.0/security-groups', async (request, reply) => {
    const caller = callerOf(request);
    const body = resourceBody(request, 'security_group');
    rejectUnknown(body, GROUP_CREATE);
    const projectId = ownerProject(body, caller);
    authorize(policy, request, 'create_security_group', ownedTarget(projectId));
    const name = stringAttribute(body, 'name') ?? '';
    const description = stringAttribute(body, 'description') ?? '';
    const stateful = booleanAttribute(body, 'stateful') ?? true;
    await ensureDefaultSecurityGroup(db, projectId);
    if (name === DEFAULT_GROUP_NAME) {
      throw new Conflict('Default security group already exists.', 'SecurityGroupDefaultAlreadyExists');
    }
    const id = await createGroup(db, projectId, { name, description, stateful });
    return reply.code(201).send({ security_group: await groupResponse(id) });
  });

  app.put<IdParams>('/v2.0/security-groups/:id', async (request) => {
    const body = resourceBody(request, 'security_group');
    rejectReadOnly(body, GROUP_READ_ONLY);
    rejectUnknown(body, GROUP_UPDATE);
    const group = await visibleGroup(request, request.params.id);
    authorize(policy, request, 'update_security_group', ownedTarget(group.project_id));
    const name = stringAttribute(body, 'name');
    const description = stringAttribute(body, 'description');
    const stateful = booleanAttribute(body, 'stateful');
    // Whether traffic is tracked cannot change under ports that use the group (Neutron).
    if (stateful !== undefined && stateful !== (Number(group.stateful) === 1))
      await refuseIfGroupInUse(db, group.id);
    if (name !== undefined && name !== group.name) {
      if (await isDefaultGroup(db, group)) {
        throw new Conflict(
          'Updating default security group not allowed.',
          'SecurityGroupCannotUpdateDefault',
        );
      }
      if (name === DEFAULT_GROUP_NAME) {
        throw new Conflict('Default security group already exists.', 'SecurityGroupDefaultAlreadyExists');
      }
    }
    await updateGroup(db, group.id, {
      ...(name !== undefined && { name }),
      ...(description !== undefined && { description }),
      ...(stateful !== undefined && { stateful }),
    });
    return { security_group: await groupResponse(group.id) };
  });

  app.delete<IdParams>('/v2.0/security-groups/:id', async (request, reply) => {
    const caller = callerOf(request);
    const group = await visibleGroup(request, request.params.id);
    authorize(policy, request, 'delete_security_group', ownedTarget(group.project_id));
    if (!caller.isAdmin && (await isDefaultGroup(db, group))) {
      throw new Conflict(
        'Insufficient rights for removing default security group.',
        'SecurityGroupCannotRemoveDefault',
      );
    }
    await deleteGroup(db, group.id);
    return reply.code(204).send();
  });

  const ruleTarget = (projectId: string, groupOwner: string | undefined) =>
    ownedTarget(projectId, groupOwner === undefined ? {} : { 'security_group:tenant_id': groupOwner });

  app.get('/v2.0/security-group-rules', async (request) => {
    const caller = callerOf(request);
    await ensureDefaultFor(request, caller);
    const rows = await listRules(db, caller.isAdmin ? undefined : caller.projectId);
    const owners = await groupOwners(
      db,
      rows.map((row) => row.security_group_id),
    );
    const visible = rows.filter((row) =>
      allows(
        policy,
        contextOf(request),
        'get_security_group_rule',
        ruleTarget(row.project_id, owners.get(row.security_group_id)),
      ),
    );
    return listResponse(request, 'security_group_rules', applyFilters(request, visible.map(ruleView)), {
      sortKeys: RULE_SORT_KEYS,
      findMarker: async (id) => {
        const found = await findVisibleRule(request, id);
        return found && ruleView(found.rule);
      },
      shape: (view) => selectFields(request, view),
    });
  });

  async function findVisibleRule(request: FastifyRequest, id: string) {
    const rule = await findRule(db, id);
    const owner = rule ? (await findGroup(db, rule.security_group_id))?.project_id : undefined;
    if (
      !rule ||
      !allows(policy, contextOf(request), 'get_security_group_rule', ruleTarget(rule.project_id, owner))
    ) {
      return undefined;
    }
    return { rule, owner };
  }

  const visibleRule = (request: FastifyRequest, id: string) =>
    orNotFound(findVisibleRule(request, id), () => ruleNotFound(id));

  app.get<IdParams>('/v2.0/security-group-rules/:id', async (request) => {
    await ensureDefaultFor(request, callerOf(request));
    const { rule } = await visibleRule(request, request.params.id);
    return { security_group_rule: selectFields(request, ruleView(rule)) };
  });

  app.post('/v2.0/security-group-rules', async (request, reply) => {
    const caller = callerOf(request);
    const body = resourceBody(request, 'security_group_rule');
    rejectUnknown(body, RULE_CREATE);
    const groupId = body.security_group_id;
    if (typeof groupId !== 'string' || groupId === '') {
      throw new BadRequest("Failed to parse request. Required attribute 'security_group_id' not specified");
    }
    if (body.direction === undefined) {
      throw new BadRequest("Failed to parse request. Required attribute 'direction' not specified");
    }
    if (caller.projectId) await ensureDefaultSecurityGroup(db, caller.projectId);
    const group = await visibleGroup(request, groupId);
    const projectId =
      body.project_id !== undefined || body.tenant_id !== undefined
        ? ownerProject(body, caller)
        : group.project_id;
    authorize(policy, request, 'create_security_group_rule', ruleTarget(projectId, group.project_id));
    const ethertype = normalizeEthertype(body.ethertype);
    const remoteGroupId = body.remote_group_id ?? null;
    if (remoteGroupId !== null) {
      if (typeof remoteGroupId !== 'string') throw new BadRequest('Invalid input for remote_group_id.');
      await visibleGroup(request, remoteGroupId);
    }
    const fields = {
      direction: normalizeDirection(body.direction),
      ethertype,
      protocol: normalizeProtocol(body.protocol),
      remote_ip_prefix: normalizeRemotePrefix(body.remote_ip_prefix, ethertype),
      remote_group_id: remoteGroupId,
    };
    const ports = validateRule(fields, body.port_range_min, body.port_range_max);
    const description = stringAttribute(body, 'description') ?? '';
    const row = await createRule(db, group.id, projectId, { ...fields, ...ports }, description);
    return reply.code(201).send({ security_group_rule: ruleView(row) });
  });

  app.delete<IdParams>('/v2.0/security-group-rules/:id', async (request, reply) => {
    const { rule, owner } = await visibleRule(request, request.params.id);
    authorize(policy, request, 'delete_security_group_rule', ruleTarget(rule.project_id, owner));
    await deleteRule(db, rule);
    return reply.code(204).send();
  });
};
