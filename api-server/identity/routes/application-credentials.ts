// /v3/users/{user_id}/application_credentials. The secret is returned once, at creation;
// only its hash is kept.
import { randomBytes } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { authorize } from '../../common/authorize.js';
import { requireAuth } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import { BadRequest, Forbidden } from '../../common/errors.js';
import {
  type ApplicationCredentialRecord,
  deleteApplicationCredential,
  getApplicationCredential,
  insertApplicationCredential,
  keystoneExpiry,
  listApplicationCredentials,
} from '../application-credential-store.js';
import { hashPassword } from '../passwords.js';
import { getUser, newId } from '../store.js';
import { v3Url } from '../views.js';
import { found, queryString, storeUnique } from './common.js';

const RoleRef = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 64 })),
  name: Type.Optional(Type.String({ maxLength: 255 })),
});

export const ApplicationCredentialCreate = Type.Object({
  application_credential: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 255 }),
      description: Type.Optional(Type.Union([Type.String({ maxLength: 65_535 }), Type.Null()])),
      secret: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Null()])),
      expires_at: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
      roles: Type.Optional(Type.Array(RoleRef)),
      unrestricted: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
});

export const applicationCredentialRoutes: FastifyPluginAsync<ServiceDependencies> = async (
  app,
  { identity, policy, config },
) => {
  app.addHook('preHandler', requireAuth(identity));
  const db = identity.db;

  const view = (
    request: FastifyRequest,
    credential: ApplicationCredentialRecord,
    roles: { id: string; name: string }[],
  ) => ({
    id: credential.id,
    name: credential.name,
    description: credential.description,
    project_id: credential.projectId,
    expires_at: credential.expiresAtText,
    unrestricted: credential.unrestricted,
    roles: roles
      .filter((role) => credential.roleIds.includes(role.id))
      .map((role) => ({ ...role, domain_id: null })),
    access_rules: [],
    links: { self: v3Url(request, 'users', credential.userId, 'application_credentials', credential.id) },
  });

  /** Names of the credential's roles, from the user's roles on its project (cached). */
  const rolesOf = (credential: ApplicationCredentialRecord) =>
    identity.rolesOn(credential.userId, { kind: 'project', id: credential.projectId });

  app.post(
    '/v3/users/:userId/application_credentials',
    { schema: { body: ApplicationCredentialCreate } },
    async (request, reply) => {
      const { userId } = request.params as { userId: string };
      const body = (request.body as Static<typeof ApplicationCredentialCreate>).application_credential;
      const context = authorize(policy, request, 'identity:create_application_credential', {
        user_id: userId,
      });
      if (context.scope.kind !== 'project')
        throw new Forbidden('Application credentials need a project-scoped token.');
      if (context.applicationCredentialId) {
        const current = await getApplicationCredential(db, context.applicationCredentialId);
        if (!current?.unrestricted) {
          throw new Forbidden(
            'Using a restricted application credential to create an application credential is not allowed.',
          );
        }
      }
      found(await getUser(db, userId), 'user', userId);
      // The credential may hold only roles the token holds; none asked for means all of them.
      const held = context.roles;
      const wanted: { id?: string; name?: string }[] = body.roles ?? held.map((role) => ({ id: role.id }));
      const roleIds = wanted.map((ref) => {
        const match = held.find(
          (role) => role.id === ref.id || (ref.id === undefined && role.name === ref.name),
        );
        if (!match)
          throw new Forbidden(`Cannot grant a role the token does not hold: ${ref.id ?? ref.name}.`);
        return match.id;
      });
      let expiresAtText: string | null = null;
      if (body.expires_at) {
        expiresAtText = keystoneExpiry(body.expires_at) ?? null;
        if (!expiresAtText) throw new BadRequest(`Invalid expires_at: ${body.expires_at}.`);
        if (Date.parse(`${expiresAtText}Z`) < Date.now()) {
          throw new BadRequest('The expiration time must be in the future.');
        }
      }
      const secret = body.secret ?? randomBytes(48).toString('base64url');
      const credential: ApplicationCredentialRecord = {
        id: newId(),
        name: body.name,
        userId,
        projectId: context.scope.project.id,
        secretHash: await hashPassword(secret, config.identity.passwordHashRounds),
        description: body.description ?? null,
        expiresAt: expiresAtText ? new Date(`${expiresAtText}Z`) : null,
        expiresAtText,
        unrestricted: body.unrestricted ?? false,
        roleIds: [...new Set(roleIds)],
      };
      await storeUnique('application_credential', `name ${credential.name} for user ${userId}`, () =>
        insertApplicationCredential(db, credential),
      );
      return reply.code(201).send({ application_credential: { ...view(request, credential, held), secret } });
    },
  );

  app.get('/v3/users/:userId/application_credentials', async (request) => {
    const { userId } = request.params as { userId: string };
    authorize(policy, request, 'identity:list_application_credentials', { user_id: userId });
    const credentials = await listApplicationCredentials(db, {
      userId,
      name: queryString((request.query as Record<string, unknown>).name),
    });
    const views = await Promise.all(credentials.map(async (c) => view(request, c, await rolesOf(c))));
    return { application_credentials: views, links: { self: request.url, previous: null, next: null } };
  });

  /** The credential of the path, owned by the path's user, after the policy check on its owner. */
  async function ownedCredential(request: FastifyRequest, action: string) {
    const { userId, credentialId } = request.params as { userId: string; credentialId: string };
    const credential = await getApplicationCredential(db, credentialId);
    const owned = credential?.userId === userId ? credential : undefined;
    authorize(policy, request, action, { user_id: owned?.userId ?? userId });
    return found(owned, 'application credential', credentialId);
  }

  app.get('/v3/users/:userId/application_credentials/:credentialId', async (request) => {
    const credential = await ownedCredential(request, 'identity:get_application_credential');
    return { application_credential: view(request, credential, await rolesOf(credential)) };
  });

  app.delete('/v3/users/:userId/application_credentials/:credentialId', async (request, reply) => {
    const credential = await ownedCredential(request, 'identity:delete_application_credential');
    await deleteApplicationCredential(db, credential.id);
    // Tokens issued from it stop validating: contextFor looks the credential up (cached).
    identity.changed();
    return reply.code(204).send();
  });
};
