// /v3/users, /v3/groups and group membership.
import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { withTransaction } from '../../../lib/db/transaction.js';
import { authorize } from '../../common/authorize.js';
import { requireAuth } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import { BadRequest, Unauthorized } from '../../common/errors.js';
import { hashPassword, MAX_PASSWORD_BYTES, verifyPassword } from '../passwords.js';
import { GroupCreate, GroupUpdate, PasswordChange, UserCreate, UserUpdate } from '../schemas.js';
import {
  addGroupMember,
  deleteGroup,
  deleteUser,
  getDomain,
  getGroup,
  getUser,
  groupMemberIds,
  insertGroup,
  insertUser,
  listAssignments,
  listGroups,
  listProjects,
  listUsers,
  newId,
  removeGroupMember,
  updateGroup,
  updateUser,
} from '../store.js';
import { collectionLinks, groupView, projectView, userView } from '../views.js';
import { extraOf, found, queryBoolean, queryString, storeUnique } from './common.js';

const USER_FIELDS = [
  'id',
  'name',
  'domain_id',
  'password',
  'enabled',
  'default_project_id',
  'options',
  'links',
];
const GROUP_FIELDS = ['id', 'name', 'domain_id', 'description', 'links'];

/** A user's options after a request sets some: a null removes that option, as in Keystone. */
function mergedOptions(
  current: unknown,
  given: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const merged = { ...(current as Record<string, unknown> | undefined), ...given };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== null));
}

function checkPasswordLength(password: string) {
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw new BadRequest(`Invalid input for field 'password': longer than ${MAX_PASSWORD_BYTES} bytes.`);
  }
}

/** The caller's domain for create/list defaults: the token's domain scope, else the user's own. */
function defaultDomainOf(request: FastifyRequest): string {
  const context = request.context!;
  return context.scope.kind === 'domain' ? context.scope.domain.id : context.userDomain.id;
}

export const userRoutes: FastifyPluginAsync<ServiceDependencies> = async (
  app,
  { identity, policy, config },
) => {
  const db = identity.db;
  const rounds = config.identity.passwordHashRounds;

  // Changing one's own password is authorized by the original password, not by policy and
  // not by a token (Keystone allows it for users whose password expired).
  app.post('/v3/users/:userId/password', { schema: { body: PasswordChange } }, async (request, reply) => {
    const { userId } = request.params as { userId: string };
    const body = (request.body as Static<typeof PasswordChange>).user;
    const user = await getUser(db, userId);
    if (!user || !(await verifyPassword(body.original_password, user.passwordHash))) {
      throw new Unauthorized('The request you have made requires authentication.');
    }
    // Keystone authenticates the user for this: a disabled user (or domain) cannot.
    const domain = await getDomain(db, user.domainId);
    if (!user.enabled || !domain?.enabled)
      throw new Unauthorized('The request you have made requires authentication.');
    if (user.extra.options && (user.extra.options as Record<string, unknown>).lock_password === true)
      throw new BadRequest(
        'You cannot change your password at this time due to password policy disallowing password changes.',
      );
    checkPasswordLength(body.password);
    await updateUser(db, { ...user, passwordHash: await hashPassword(body.password, rounds) }, true);
    await identity.revoke({ userId });
    identity.changed();
    return reply.code(204).send();
  });

  await app.register(async (scope) => {
    scope.addHook('preHandler', requireAuth(identity));

    // ---------------------------------------------------------- users
    scope.get('/v3/users', async (request) => {
      const query = request.query as Record<string, unknown>;
      const context = request.context!;
      authorize(
        policy,
        request,
        'identity:list_users',
        context.scope.kind === 'domain' ? { target: { domain_id: context.scope.domain.id } } : {},
      );
      const users = await listUsers(db, {
        name: queryString(query.name),
        domainId: queryString(query.domain_id),
        enabled: queryBoolean(query.enabled, 'enabled'),
      });
      return {
        users: users.map((user) => userView(request, user)),
        links: collectionLinks(request, 'users'),
      };
    });

    scope.get('/v3/users/:userId', async (request) => {
      const { userId } = request.params as { userId: string };
      const user = found(await getUser(db, userId), 'user', userId);
      authorize(policy, request, 'identity:get_user', {
        user_id: userId,
        target: { user: userView(request, user) },
      });
      return { user: userView(request, user) };
    });

    scope.post('/v3/users', { schema: { body: UserCreate } }, async (request, reply) => {
      const body = (request.body as Static<typeof UserCreate>).user;
      const domainId = body.domain_id ?? defaultDomainOf(request);
      authorize(policy, request, 'identity:create_user', {
        target: { user: { ...body, domain_id: domainId } },
      });
      found(await getDomain(db, domainId), 'domain', domainId);
      if (body.password) checkPasswordLength(body.password);
      const user = {
        id: newId(),
        name: body.name,
        domainId,
        enabled: body.enabled ?? true,
        defaultProjectId: body.default_project_id ?? null,
        passwordHash: body.password ? await hashPassword(body.password, rounds) : null,
        extra: { ...extraOf(body, USER_FIELDS), options: mergedOptions(undefined, body.options) },
      };
      await storeUnique('user', `name ${user.name} at domain ID ${domainId}`, () => insertUser(db, user));
      identity.changed();
      return reply.code(201).send({ user: userView(request, user) });
    });

    scope.patch('/v3/users/:userId', { schema: { body: UserUpdate } }, async (request) => {
      const { userId } = request.params as { userId: string };
      const body = (request.body as Static<typeof UserUpdate>).user;
      const user = found(await getUser(db, userId), 'user', userId);
      authorize(policy, request, 'identity:update_user', {
        user_id: userId,
        target: { user: userView(request, user) },
      });
      if (body.domain_id !== undefined && body.domain_id !== user.domainId) {
        throw new BadRequest('Cannot change the domain of a user.');
      }
      if (body.password) checkPasswordLength(body.password);
      const passwordChanged = body.password !== undefined;
      const updated = {
        ...user,
        name: body.name ?? user.name,
        enabled: body.enabled ?? user.enabled,
        defaultProjectId:
          body.default_project_id === undefined ? user.defaultProjectId : body.default_project_id,
        passwordHash: passwordChanged
          ? body.password
            ? await hashPassword(body.password, rounds)
            : null
          : user.passwordHash,
        extra: {
          ...user.extra,
          ...extraOf(body, USER_FIELDS),
          options: mergedOptions(user.extra.options, body.options),
        },
      };
      await storeUnique('user', `name ${updated.name} at domain ID ${user.domainId}`, () =>
        updateUser(db, updated, passwordChanged),
      );
      // Disabling a user or changing its password ends every token it holds, as in Keystone.
      if ((user.enabled && !updated.enabled) || passwordChanged) await identity.revoke({ userId });
      identity.changed();
      return { user: userView(request, updated) };
    });

    scope.delete('/v3/users/:userId', async (request, reply) => {
      const { userId } = request.params as { userId: string };
      const user = found(await getUser(db, userId), 'user', userId);
      authorize(policy, request, 'identity:delete_user', {
        user_id: userId,
        target: { user: userView(request, user) },
      });
      await withTransaction(db, (trx) => deleteUser(trx, userId));
      await identity.revoke({ userId });
      identity.changed();
      return reply.code(204).send();
    });

    scope.get('/v3/users/:userId/projects', async (request) => {
      const { userId } = request.params as { userId: string };
      const user = found(await getUser(db, userId), 'user', userId);
      authorize(policy, request, 'identity:list_user_projects', {
        user_id: userId,
        target: { user: userView(request, user) },
      });
      const groupIds = (await listGroups(db, { memberUserId: userId })).map((group) => group.id);
      const assignments = await listAssignments(db, {
        types: ['UserProject', 'GroupProject'],
        actorIds: [userId, ...groupIds],
      });
      const projects = await listProjects(db, { ids: [...new Set(assignments.map((a) => a.targetId))] });
      return {
        projects: projects.map((project) => projectView(request, project)),
        links: collectionLinks(request, `users/${userId}/projects`),
      };
    });

    scope.get('/v3/users/:userId/groups', async (request) => {
      const { userId } = request.params as { userId: string };
      const user = found(await getUser(db, userId), 'user', userId);
      authorize(policy, request, 'identity:list_groups_for_user', {
        user_id: userId,
        target: { user: userView(request, user) },
      });
      const groups = await listGroups(db, { memberUserId: userId });
      return {
        groups: groups.map((group) => groupView(request, group)),
        links: collectionLinks(request, `users/${userId}/groups`),
      };
    });

    // ---------------------------------------------------------- groups
    scope.get('/v3/groups', async (request) => {
      const query = request.query as Record<string, unknown>;
      const context = request.context!;
      authorize(
        policy,
        request,
        'identity:list_groups',
        context.scope.kind === 'domain' ? { target: { group: { domain_id: context.scope.domain.id } } } : {},
      );
      const groups = await listGroups(db, {
        name: queryString(query.name),
        domainId: queryString(query.domain_id),
      });
      return {
        groups: groups.map((group) => groupView(request, group)),
        links: collectionLinks(request, 'groups'),
      };
    });

    scope.get('/v3/groups/:groupId', async (request) => {
      const { groupId } = request.params as { groupId: string };
      const group = found(await getGroup(db, groupId), 'group', groupId);
      authorize(policy, request, 'identity:get_group', {
        group_id: groupId,
        target: { group: groupView(request, group) },
      });
      return { group: groupView(request, group) };
    });

    scope.post('/v3/groups', { schema: { body: GroupCreate } }, async (request, reply) => {
      const body = (request.body as Static<typeof GroupCreate>).group;
      const domainId = body.domain_id ?? defaultDomainOf(request);
      authorize(policy, request, 'identity:create_group', {
        target: { group: { ...body, domain_id: domainId } },
      });
      found(await getDomain(db, domainId), 'domain', domainId);
      const group = {
        id: newId(),
        name: body.name,
        domainId,
        description: body.description ?? null,
        extra: extraOf(body, GROUP_FIELDS),
      };
      await storeUnique('group', `name ${group.name} at domain ID ${domainId}`, () => insertGroup(db, group));
      identity.changed();
      return reply.code(201).send({ group: groupView(request, group) });
    });

    scope.patch('/v3/groups/:groupId', { schema: { body: GroupUpdate } }, async (request) => {
      const { groupId } = request.params as { groupId: string };
      const body = (request.body as Static<typeof GroupUpdate>).group;
      const group = found(await getGroup(db, groupId), 'group', groupId);
      authorize(policy, request, 'identity:update_group', {
        group_id: groupId,
        target: { group: groupView(request, group) },
      });
      const updated = {
        ...group,
        name: body.name ?? group.name,
        description: body.description === undefined ? group.description : body.description,
        extra: { ...group.extra, ...extraOf(body, GROUP_FIELDS) },
      };
      await storeUnique('group', `name ${updated.name} at domain ID ${group.domainId}`, () =>
        updateGroup(db, updated),
      );
      identity.changed();
      return { group: groupView(request, updated) };
    });

    scope.delete('/v3/groups/:groupId', async (request, reply) => {
      const { groupId } = request.params as { groupId: string };
      const group = found(await getGroup(db, groupId), 'group', groupId);
      authorize(policy, request, 'identity:delete_group', {
        group_id: groupId,
        target: { group: groupView(request, group) },
      });
      await withTransaction(db, (trx) => deleteGroup(trx, groupId));
      identity.changed();
      return reply.code(204).send();
    });

    scope.get('/v3/groups/:groupId/users', async (request) => {
      const { groupId } = request.params as { groupId: string };
      const group = found(await getGroup(db, groupId), 'group', groupId);
      authorize(policy, request, 'identity:list_users_in_group', {
        group_id: groupId,
        target: { group: groupView(request, group) },
      });
      const users = await listUsers(db, { ids: await groupMemberIds(db, groupId) });
      return {
        users: users.map((user) => userView(request, user)),
        links: collectionLinks(request, `groups/${groupId}/users`),
      };
    });

    /** Group and user of a membership route, after the policy check for `action`. */
    async function membership(request: FastifyRequest, action: string) {
      const { groupId, userId } = request.params as { groupId: string; userId: string };
      const group = found(await getGroup(db, groupId), 'group', groupId);
      const user = found(await getUser(db, userId), 'user', userId);
      authorize(policy, request, action, {
        group_id: groupId,
        user_id: userId,
        target: { group: groupView(request, group), user: userView(request, user) },
      });
      return { groupId, userId };
    }

    scope.put('/v3/groups/:groupId/users/:userId', async (request, reply) => {
      const { groupId, userId } = await membership(request, 'identity:add_user_to_group');
      await addGroupMember(db, groupId, userId);
      identity.changed();
      return reply.code(204).send();
    });

    scope.head('/v3/groups/:groupId/users/:userId', async (request, reply) => {
      const { groupId, userId } = await membership(request, 'identity:check_user_in_group');
      const members = await groupMemberIds(db, groupId);
      found(members.includes(userId) ? true : undefined, 'user in group', `${userId} in ${groupId}`);
      return reply.code(204).send();
    });

    scope.delete('/v3/groups/:groupId/users/:userId', async (request, reply) => {
      const { groupId, userId } = await membership(request, 'identity:remove_user_from_group');
      found(
        (await removeGroupMember(db, groupId, userId)) ? true : undefined,
        'user in group',
        `${userId} in ${groupId}`,
      );
      identity.changed();
      return reply.code(204).send();
    });
  });
};
