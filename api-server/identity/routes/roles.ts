// /v3/roles, implied roles, grants (role assignments made by path) and /v3/role_assignments.
import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { authorize } from '../../common/authorize.js';
import { requireAuth } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import { BadRequest, Forbidden, NotFound } from '../../common/errors.js';
import { expandImpliedRoles, globalRoleIds } from '../assignments.js';
import { RoleCreate, RoleUpdate } from '../schemas.js';
import {
  type AssignmentRecord,
  deleteAssignment,
  deleteImpliedRole,
  deleteRole,
  getDomain,
  getGroup,
  getProject,
  getRole,
  getUser,
  groupMemberIds,
  insertAssignment,
  insertImpliedRole,
  insertRole,
  listAssignments,
  listDomains,
  listGroups,
  listImpliedRoleRules,
  listProjects,
  listRoles,
  listUsers,
  newId,
  updateRole,
} from '../store.js';
import { type AssignmentType, SYSTEM_TARGET } from '../tables.js';
import {
  collectionLinks,
  domainView,
  groupView,
  projectView,
  requestLinks,
  requestUrl,
  roleView,
  userView,
  v3Url,
} from '../views.js';
import { extraOf, found, queryBoolean, queryString, storeUnique } from './common.js';

const ROLE_FIELDS = ['id', 'name', 'domain_id', 'description', 'options', 'links'];
const PROHIBITED_IMPLIED_ROLES = ['admin'];

export const roleRoutes: FastifyPluginAsync<ServiceDependencies> = async (app, { identity, policy }) => {
  app.addHook('preHandler', requireAuth(identity));
  const db = identity.db;

  // ------------------------------------------------------------ roles
  app.get('/v3/roles', async (request) => {
    const query = request.query as Record<string, unknown>;
    authorize(policy, request, 'identity:list_roles');
    const roles = await listRoles(db, {
      name: queryString(query.name),
      domainId: queryString(query.domain_id) ?? null,
    });
    return { roles: roles.map((role) => roleView(request, role)), links: collectionLinks(request, 'roles') };
  });

  app.get('/v3/roles/:roleId', async (request) => {
    const { roleId } = request.params as { roleId: string };
    const role = found(await getRole(db, roleId), 'role', roleId);
    authorize(policy, request, 'identity:get_role', {
      role_id: roleId,
      target: { role: roleView(request, role) },
    });
    return { role: roleView(request, role) };
  });

  app.post('/v3/roles', { schema: { body: RoleCreate } }, async (request, reply) => {
    const body = (request.body as Static<typeof RoleCreate>).role;
    authorize(policy, request, 'identity:create_role', { target: { role: body } });
    const role = {
      id: newId(),
      name: body.name,
      domainId: body.domain_id ?? null,
      description: body.description ?? null,
      extra: extraOf(body, ROLE_FIELDS),
    };
    await storeUnique('role', `name ${role.name}`, () => insertRole(db, role));
    identity.changed();
    return reply.code(201).send({ role: roleView(request, role) });
  });

  app.patch('/v3/roles/:roleId', { schema: { body: RoleUpdate } }, async (request) => {
    const { roleId } = request.params as { roleId: string };
    const body = (request.body as Static<typeof RoleUpdate>).role;
    const role = found(await getRole(db, roleId), 'role', roleId);
    authorize(policy, request, 'identity:update_role', { role_id: roleId });
    const updated = {
      ...role,
      name: body.name ?? role.name,
      description: body.description === undefined ? role.description : body.description,
      extra: { ...role.extra, ...extraOf(body, ROLE_FIELDS) },
    };
    await storeUnique('role', `name ${updated.name}`, () => updateRole(db, updated));
    identity.changed();
    return { role: roleView(request, updated) };
  });

  app.delete('/v3/roles/:roleId', async (request, reply) => {
    const { roleId } = request.params as { roleId: string };
    found(await getRole(db, roleId), 'role', roleId);
    authorize(policy, request, 'identity:delete_role', { role_id: roleId });
    await deleteRole(db, roleId);
    identity.changed();
    return reply.code(204).send();
  });

  // ------------------------------------------------------------ implied roles
  const ruleView = (
    request: FastifyRequest,
    prior: { id: string; name: string },
    implied: { id: string; name: string }[],
  ) => ({
    prior_role: { id: prior.id, name: prior.name, links: { self: v3Url(request, 'roles', prior.id) } },
    implies: implied.map((role) => ({
      id: role.id,
      name: role.name,
      links: { self: v3Url(request, 'roles', role.id) },
    })),
  });

  async function impliedPair(request: FastifyRequest, action: string) {
    const { priorId, impliedId } = request.params as { priorId: string; impliedId: string };
    const prior = found(await getRole(db, priorId), 'role', priorId);
    const implied = found(await getRole(db, impliedId), 'role', impliedId);
    authorize(policy, request, action, { prior_role_id: priorId, implied_role_id: impliedId });
    return { prior, implied };
  }

  app.put('/v3/roles/:priorId/implies/:impliedId', async (request, reply) => {
    const { prior, implied } = await impliedPair(request, 'identity:create_implied_role');
    // Keystone's rules: admin is never implied (CONF.assignment.prohibited_implied_role), and a
    // global role cannot imply a domain-specific one.
    if (PROHIBITED_IMPLIED_ROLES.includes(implied.name))
      throw new Forbidden(`${implied.id} cannot be an implied role.`);
    if (prior.domainId === null && implied.domainId !== null)
      throw new Forbidden('Global role cannot imply a domain-specific role.');
    const rules = await listImpliedRoleRules(db);
    if (!rules.some((rule) => rule.priorRoleId === prior.id && rule.impliedRoleId === implied.id)) {
      await insertImpliedRole(db, prior.id, implied.id);
    }
    identity.changed();
    return reply.code(201).send({
      role_inference: {
        prior_role: ruleView(request, prior, []).prior_role,
        implies: ruleView(request, prior, [implied]).implies[0],
      },
    });
  });

  app.get('/v3/roles/:priorId/implies/:impliedId', { exposeHeadRoute: false }, async (request) => {
    const { prior, implied } = await impliedPair(request, 'identity:get_implied_role');
    const rules = await listImpliedRoleRules(db);
    if (!rules.some((rule) => rule.priorRoleId === prior.id && rule.impliedRoleId === implied.id)) {
      throw new NotFound(`${prior.id} does not imply ${implied.id}.`);
    }
    return {
      role_inference: {
        prior_role: ruleView(request, prior, []).prior_role,
        implies: ruleView(request, prior, [implied]).implies[0],
      },
    };
  });

  app.head('/v3/roles/:priorId/implies/:impliedId', async (request, reply) => {
    const { prior, implied } = await impliedPair(request, 'identity:check_implied_role');
    const rules = await listImpliedRoleRules(db);
    if (!rules.some((rule) => rule.priorRoleId === prior.id && rule.impliedRoleId === implied.id)) {
      throw new NotFound(`${prior.id} does not imply ${implied.id}.`);
    }
    return reply.code(204).send();
  });

  app.delete('/v3/roles/:priorId/implies/:impliedId', async (request, reply) => {
    const { prior, implied } = await impliedPair(request, 'identity:delete_implied_role');
    if (!(await deleteImpliedRole(db, prior.id, implied.id)))
      throw new NotFound(`${prior.id} does not imply ${implied.id}.`);
    identity.changed();
    return reply.code(204).send();
  });

  app.get('/v3/roles/:priorId/implies', async (request) => {
    const { priorId } = request.params as { priorId: string };
    const prior = found(await getRole(db, priorId), 'role', priorId);
    authorize(policy, request, 'identity:list_implied_roles', { prior_role_id: priorId });
    const ids = (await listImpliedRoleRules(db))
      .filter((rule) => rule.priorRoleId === priorId)
      .map((rule) => rule.impliedRoleId);
    return {
      role_inference: ruleView(request, prior, await listRoles(db, { ids })),
      links: { self: requestUrl(request) },
    };
  });

  app.get('/v3/role_inferences', async (request) => {
    authorize(policy, request, 'identity:list_role_inference_rules');
    const rules = await listImpliedRoleRules(db);
    const roles = new Map(
      (
        await listRoles(db, { ids: [...new Set(rules.flatMap((r) => [r.priorRoleId, r.impliedRoleId]))] })
      ).map((r) => [r.id, r]),
    );
    const priors = [...new Set(rules.map((rule) => rule.priorRoleId))];
    return {
      role_inferences: priors.map((priorId) =>
        ruleView(
          request,
          roles.get(priorId)!,
          rules.filter((rule) => rule.priorRoleId === priorId).map((rule) => roles.get(rule.impliedRoleId)!),
        ),
      ),
      links: { self: requestUrl(request) },
    };
  });

  // ------------------------------------------------------------ grants
  type TargetKind = 'projects' | 'domains';
  type ActorKind = 'users' | 'groups';

  async function grantParts(
    request: FastifyRequest,
    targetKind: TargetKind,
    actorKind: ActorKind,
    withRole: boolean,
  ) {
    const params = request.params as { targetId: string; actorId: string; roleId?: string };
    const project =
      targetKind === 'projects'
        ? found(await getProject(db, params.targetId), 'project', params.targetId)
        : undefined;
    const domain =
      targetKind === 'domains'
        ? found(await getDomain(db, params.targetId), 'domain', params.targetId)
        : undefined;
    const target = project
      ? { project: projectView(request, project) }
      : { domain: domainView(request, domain!) };
    const targetDomainId = project ? project.domainId : domain!.id;
    const actor =
      actorKind === 'users'
        ? { user: userView(request, found(await getUser(db, params.actorId), 'user', params.actorId)) }
        : { group: groupView(request, found(await getGroup(db, params.actorId), 'group', params.actorId)) };
    const roleRecord =
      withRole && params.roleId ? found(await getRole(db, params.roleId), 'role', params.roleId) : undefined;
    const role = roleRecord ? { role: roleView(request, roleRecord) } : {};
    const type =
      `${actorKind === 'users' ? 'User' : 'Group'}${targetKind === 'projects' ? 'Project' : 'Domain'}` as AssignmentType;
    /** Keystone: a domain-specific role is granted only within its own domain. */
    const assertRoleFitsTarget = () => {
      if (roleRecord?.domainId && roleRecord.domainId !== targetDomainId)
        throw new Forbidden(
          `Project or domain ${params.targetId} does not match the domain ${roleRecord.domainId} of role ${roleRecord.id}.`,
        );
    };
    return { policyTarget: { target: { ...target, ...actor, ...role } }, type, params, assertRoleFitsTarget };
  }

  for (const targetKind of ['projects', 'domains'] as const) {
    for (const actorKind of ['users', 'groups'] as const) {
      const base = `/v3/${targetKind}/:targetId/${actorKind}/:actorId/roles`;
      const assignmentOf = (
        type: AssignmentType,
        params: { targetId: string; actorId: string; roleId?: string },
      ): AssignmentRecord => ({
        type,
        actorId: params.actorId,
        targetId: params.targetId,
        roleId: params.roleId!,
        inherited: false,
      });

      app.get(base, async (request) => {
        const { policyTarget, type, params } = await grantParts(request, targetKind, actorKind, false);
        authorize(policy, request, 'identity:list_grants', policyTarget);
        const assignments = await listAssignments(db, {
          types: [type],
          actorIds: [params.actorId],
          targetIds: [params.targetId],
          inherited: false,
        });
        const roles = await listRoles(db, { ids: assignments.map((a) => a.roleId) });
        return {
          roles: roles.map((role) => roleView(request, role)),
          links: requestLinks(request),
        };
      });
      app.put(`${base}/:roleId`, async (request, reply) => {
        const { policyTarget, type, params, assertRoleFitsTarget } = await grantParts(
          request,
          targetKind,
          actorKind,
          true,
        );
        authorize(policy, request, 'identity:create_grant', policyTarget);
        assertRoleFitsTarget();
        await insertAssignment(db, assignmentOf(type, params));
        identity.changed();
        return reply.code(204).send();
      });
      app.head(`${base}/:roleId`, async (request, reply) => {
        const { policyTarget, type, params } = await grantParts(request, targetKind, actorKind, true);
        authorize(policy, request, 'identity:check_grant', policyTarget);
        const assignments = await listAssignments(db, {
          types: [type],
          actorIds: [params.actorId],
          targetIds: [params.targetId],
          roleId: params.roleId,
          inherited: false,
        });
        if (assignments.length === 0)
          throw new NotFound(`Could not find role assignment with role: ${params.roleId}.`);
        return reply.code(204).send();
      });
      app.delete(`${base}/:roleId`, async (request, reply) => {
        const { policyTarget, type, params } = await grantParts(request, targetKind, actorKind, true);
        authorize(policy, request, 'identity:revoke_grant', policyTarget);
        if (!(await deleteAssignment(db, assignmentOf(type, params)))) {
          throw new NotFound(`Could not find role assignment with role: ${params.roleId}.`);
        }
        identity.changed();
        return reply.code(204).send();
      });
    }
  }

  // ------------------------------------------------------------ system grants
  for (const actorKind of ['users', 'groups'] as const) {
    const singular = actorKind === 'users' ? 'user' : 'group';
    const type: AssignmentType = actorKind === 'users' ? 'UserSystem' : 'GroupSystem';
    const base = `/v3/system/${actorKind}/:actorId/roles`;

    /** The actor (404 when missing) and, when the path has one, the role. */
    async function systemGrantParts(request: FastifyRequest) {
      const params = request.params as { actorId: string; roleId?: string };
      if (actorKind === 'users') found(await getUser(db, params.actorId), 'user', params.actorId);
      else found(await getGroup(db, params.actorId), 'group', params.actorId);
      const role = params.roleId ? found(await getRole(db, params.roleId), 'role', params.roleId) : undefined;
      const assignment: AssignmentRecord = {
        type,
        actorId: params.actorId,
        targetId: SYSTEM_TARGET,
        roleId: params.roleId ?? '',
        inherited: false,
      };
      return {
        params,
        role,
        assignment,
        target: { [`${singular}_id`]: params.actorId, role_id: params.roleId },
      };
    }

    app.get(base, async (request) => {
      const { params, target } = await systemGrantParts(request);
      authorize(policy, request, `identity:list_system_grants_for_${singular}`, target);
      const assignments = await listAssignments(db, {
        types: [type],
        actorIds: [params.actorId],
        targetIds: [SYSTEM_TARGET],
      });
      const roles = await listRoles(db, { ids: assignments.map((a) => a.roleId) });
      return {
        roles: roles.map((role) => roleView(request, role)),
        links: {
          self: v3Url(request, 'system', actorKind, params.actorId, 'roles'),
          previous: null,
          next: null,
        },
      };
    });
    app.put(`${base}/:roleId`, async (request, reply) => {
      const { role, assignment, target } = await systemGrantParts(request);
      authorize(policy, request, `identity:create_system_grant_for_${singular}`, target);
      if (role?.domainId)
        throw new BadRequest(`Role ${role.id} is domain-specific and cannot be granted on the system.`);
      await insertAssignment(db, assignment);
      identity.changed();
      return reply.code(204).send();
    });
    // Keystone answers GET and HEAD alike: 204 when the grant exists.
    const checkSystemGrant = async (request: FastifyRequest, reply: FastifyReply) => {
      const { params, assignment, target } = await systemGrantParts(request);
      authorize(policy, request, `identity:check_system_grant_for_${singular}`, target);
      const existing = await listAssignments(db, {
        types: [type],
        actorIds: [params.actorId],
        targetIds: [SYSTEM_TARGET],
        roleId: assignment.roleId,
      });
      if (existing.length === 0)
        throw new NotFound(`Could not find role assignment with role: ${assignment.roleId}.`);
      return reply.code(204).send();
    };
    app.get(`${base}/:roleId`, { exposeHeadRoute: false }, checkSystemGrant);
    app.head(`${base}/:roleId`, checkSystemGrant);
    app.delete(`${base}/:roleId`, async (request, reply) => {
      const { assignment, target } = await systemGrantParts(request);
      authorize(policy, request, `identity:revoke_system_grant_for_${singular}`, target);
      if (!(await deleteAssignment(db, assignment)))
        throw new NotFound(`Could not find role assignment with role: ${assignment.roleId}.`);
      identity.changed();
      return reply.code(204).send();
    });
  }

  // ------------------------------------------------------------ role assignments
  app.get('/v3/role_assignments', async (request) => {
    const query = request.query as Record<string, unknown>;
    const context = request.context!;
    authorize(
      policy,
      request,
      'identity:list_role_assignments',
      context.scope.kind === 'domain' ? { target: { domain_id: context.scope.domain.id } } : {},
    );
    const effective = queryBoolean(query.effective, 'effective') ?? false;
    const includeNames = queryBoolean(query.include_names, 'include_names') ?? false;
    const userId = queryString(query['user.id']);
    const groupId = queryString(query['group.id']);
    const projectId = queryString(query['scope.project.id']);
    const domainId = queryString(query['scope.domain.id']);
    const roleId = queryString(query['role.id']);
    const systemScope = queryString(query['scope.system']);

    // Effective: a user's assignments include those of its groups, shown as the user's.
    const userGroups =
      userId && effective ? (await listGroups(db, { memberUserId: userId })).map((g) => g.id) : [];
    let assignments = await listAssignments(db, {
      actorIds: userId ? [userId, ...userGroups] : groupId ? [groupId] : undefined,
      targetIds: projectId ? [projectId] : domainId ? [domainId] : systemScope ? ['system'] : undefined,
    });
    if (effective) {
      const expanded: AssignmentRecord[] = [];
      for (const assignment of assignments) {
        const members = assignment.type.startsWith('Group')
          ? userId
            ? [userId]
            : await groupMemberIds(db, assignment.actorId)
          : [assignment.actorId];
        for (const member of members) {
          expanded.push({
            ...assignment,
            type: assignment.type.replace('Group', 'User') as AssignmentType,
            actorId: member,
          });
        }
      }
      const rules = await listImpliedRoleRules(db);
      assignments = expanded.flatMap((assignment) =>
        expandImpliedRoles([assignment.roleId], rules).map((role) => ({ ...assignment, roleId: role })),
      );
      // Domain-specific roles only stand for the roles they imply; they are never effective.
      const globalRoles = new Set(
        await globalRoleIds(
          db,
          assignments.map((a) => a.roleId),
        ),
      );
      assignments = assignments.filter((assignment) => globalRoles.has(assignment.roleId));
    }
    if (roleId) assignments = assignments.filter((assignment) => assignment.roleId === roleId);
    const unique = new Map(
      assignments.map((a) => [`${a.type}|${a.actorId}|${a.targetId}|${a.roleId}|${a.inherited}`, a]),
    );

    const names = includeNames ? await namesFor([...unique.values()]) : undefined;
    return {
      role_assignments: [...unique.values()].map((assignment) => assignmentView(request, assignment, names)),
      links: requestLinks(request),
    };
  });

  async function namesFor(assignments: AssignmentRecord[]) {
    const ids = (predicate: (a: AssignmentRecord) => boolean, pick: (a: AssignmentRecord) => string) => [
      ...new Set(assignments.filter(predicate).map(pick)),
    ];
    const [users, groups, projects, domains, roles] = await Promise.all([
      listUsers(db, {
        ids: ids(
          (a) => a.type.startsWith('User'),
          (a) => a.actorId,
        ),
      }),
      Promise.all(
        ids(
          (a) => a.type.startsWith('Group'),
          (a) => a.actorId,
        ).map((id) => getGroup(db, id)),
      ),
      listProjects(db, {
        ids: ids(
          (a) => a.type.endsWith('Project'),
          (a) => a.targetId,
        ),
      }),
      listDomains(db, {}),
      listRoles(db, {
        ids: ids(
          () => true,
          (a) => a.roleId,
        ),
      }),
    ]);
    const domainNames = new Map(domains.map((d) => [d.id, d.name]));
    const domainRef = (id: string) => ({ id, name: domainNames.get(id) ?? id });
    return {
      users: new Map(users.map((u) => [u.id, { id: u.id, name: u.name, domain: domainRef(u.domainId) }])),
      groups: new Map(
        groups
          .filter((g) => g !== undefined)
          .map((g) => [g.id, { id: g.id, name: g.name, domain: domainRef(g.domainId) }]),
      ),
      projects: new Map(
        projects.map((p) => [p.id, { id: p.id, name: p.name, domain: domainRef(p.domainId) }]),
      ),
      domains: new Map(domains.map((d) => [d.id, { id: d.id, name: d.name }])),
      roles: new Map(roles.map((r) => [r.id, { id: r.id, name: r.name }])),
    };
  }

  function assignmentView(
    request: FastifyRequest,
    assignment: AssignmentRecord,
    names: Awaited<ReturnType<typeof namesFor>> | undefined,
  ) {
    const actor = assignment.type.startsWith('User')
      ? { user: names?.users.get(assignment.actorId) ?? { id: assignment.actorId } }
      : { group: names?.groups.get(assignment.actorId) ?? { id: assignment.actorId } };
    const scope = assignment.type.endsWith('Project')
      ? { project: names?.projects.get(assignment.targetId) ?? { id: assignment.targetId } }
      : assignment.type.endsWith('Domain')
        ? { domain: names?.domains.get(assignment.targetId) ?? { id: assignment.targetId } }
        : { system: { all: true } };
    const actorPath = assignment.type.startsWith('User') ? 'users' : 'groups';
    const targetPath = assignment.type.endsWith('System')
      ? ['system']
      : [assignment.type.endsWith('Project') ? 'projects' : 'domains', assignment.targetId];
    return {
      ...actor,
      role: names?.roles.get(assignment.roleId) ?? { id: assignment.roleId },
      scope: { ...scope, ...(assignment.inherited ? { 'OS-INHERIT:inherited_to': 'projects' } : {}) },
      links: {
        assignment: v3Url(request, ...targetPath, actorPath, assignment.actorId, 'roles', assignment.roleId),
      },
    };
  }
};
