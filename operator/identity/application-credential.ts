// The ApplicationCredential kind's actuator. Keystone creates an application credential only
// for the user of a token scoped to the credential's project (POST
// /v3/users/{user_id}/application_credentials checks `user_id:%(user_id)s`; an admin cannot
// make one for someone else), so the operator authenticates as the User object's user, with
// the password of its passwordRef, scoped to the Project object's project. Reading, listing
// and deleting go through the operator's own credentials (admin or owner). The secret is the
// one in secretRef, so whoever holds that Secret can use the credential; Keystone keeps only
// its hash and has no update: the resource is fixed (CEL refuses changes).
import { Conflict, Unauthorized } from '../../lib/openstack/index.js';
import type { KindSpec } from '../crds/convention.js';
import { ApplicationCredential, type User } from '../crds/identity.js';
import { dependencyId, ifFound, referenced } from '../framework/actuator-helpers.js';
import { TemporaryError, TerminalError } from '../framework/errors.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import { keystone, utcTimestamp } from './keystone.js';
import { passwordOf } from './user.js';

type ApplicationCredentialSpec = KindSpec<typeof ApplicationCredential>;
type UserSpec = KindSpec<typeof User>;

/** An application credential as Keystone shows it, with the user it belongs to. */
export interface KeystoneApplicationCredential {
  id: string;
  name: string;
  description?: string | null;
  project_id: string;
  expires_at?: string | null;
  unrestricted?: boolean;
  roles?: { id: string; name: string }[];
  /** Not in Keystone's answer: the path's user, kept here so every method knows it. */
  user_id: string;
}

const spec = (context: ActuatorContext) => context.object.spec as ApplicationCredentialSpec;
const credentialsPath = (userId: string) => `/users/${encodeURIComponent(userId)}/application_credentials`;

/**
 * The owning user's ID: the User object's (resolved by the reconciler), else the one status
 * recorded (deleting, the reconciler resolves no dependencies), else the credentials' own for
 * an import filter without userRef.
 */
async function ownerId(context: ActuatorContext): Promise<string | undefined> {
  const { resource, import: imported } = spec(context);
  const userRef = resource?.userRef ?? imported?.filter?.userRef;
  const resolved = dependencyId(context, 'User', userRef);
  if (resolved !== undefined) return resolved;
  const recorded = (context.object.status?.resource as { userId?: string } | undefined)?.userId;
  if (recorded !== undefined || userRef !== undefined) return recorded;
  return (await context.client.session.token()).userId;
}

/** The credentials listed for `userId`, named `name` when given. */
async function listOwned(
  context: ActuatorContext,
  userId: string,
  name: string | undefined,
): Promise<KeystoneApplicationCredential[]> {
  const found: KeystoneApplicationCredential[] = [];
  for await (const candidate of keystone(context).list<Omit<KeystoneApplicationCredential, 'user_id'>>(
    credentialsPath(userId),
    'application_credentials',
    { query: { name } },
  ))
    if (name === undefined || candidate.name === name) found.push({ ...candidate, user_id: userId });
  return found;
}

/** The application credential's secret, from secretRef (the reconciler waits while it is missing). */
function secretOf(context: ActuatorContext): Promise<string> {
  const ref = (spec(context).resource as NonNullable<ApplicationCredentialSpec['resource']>).secretRef;
  return context.readSecret(ref.secretName, ref.key ?? 'secret');
}

/** Whether Keystone issues a token for `credential` with the spec's secret: it is the one this object makes. */
async function secretWorks(
  context: ActuatorContext,
  credential: KeystoneApplicationCredential,
): Promise<boolean> {
  const asCredential = context.client.withAuth('v3applicationcredential', {
    application_credential_id: credential.id,
    application_credential_secret: await secretOf(context),
  });
  try {
    await asCredential.session.token();
    return true;
  } catch (error) {
    if (error instanceof Unauthorized) return false;
    throw error;
  } finally {
    asCredential.close();
  }
}

export const applicationCredentialActuator: Actuator<KeystoneApplicationCredential> = {
  kind: ApplicationCredential,

  dependencies(object) {
    const { resource, import: imported } = object.spec as ApplicationCredentialSpec;
    return referenced([
      ['User', resource?.userRef ?? imported?.filter?.userRef],
      ['Project', resource?.projectRef],
    ]);
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    const userId = await ownerId(context);
    if (userId === undefined) return undefined;
    const found = await ifFound(
      keystone(context).get<{ application_credential: Omit<KeystoneApplicationCredential, 'user_id'> }>(
        `${credentialsPath(userId)}/${encodeURIComponent(id)}`,
      ),
    );
    return found && { ...found.body.application_credential, user_id: userId };
  },

  /**
   * The user's credential of this name on this project, if its secret is the spec's: a
   * namesake with another secret was not made by this object (a crash after the create would
   * have left the spec's secret), and adopting it would hand out a secret that does not work.
   */
  async listForAdoption(context) {
    const resource = spec(context).resource;
    const userId = await ownerId(context);
    if (!resource || userId === undefined) return [];
    const name = resource.name ?? context.object.metadata.name;
    const projectId = dependencyId(context, 'Project', resource.projectRef);
    const found: KeystoneApplicationCredential[] = [];
    for (const candidate of await listOwned(context, userId, name)) {
      if (candidate.project_id === projectId && (await secretWorks(context, candidate)))
        found.push(candidate);
    }
    return found;
  },

  async listForImport(context) {
    const userId = await ownerId(context);
    if (userId === undefined) return [];
    return listOwned(context, userId, spec(context).import?.filter?.name);
  },

  async create(context) {
    const resource = spec(context).resource as NonNullable<ApplicationCredentialSpec['resource']>;
    const userKey = `User/${resource.userRef}`;
    const userId = context.dependencyIds.get(userKey) as string;
    const projectId = context.dependencyIds.get(`Project/${resource.projectRef}`) as string;
    const userResource = (context.dependencyObjects.get(userKey)?.spec as UserSpec | undefined)?.resource;
    const password = userResource && passwordOf(context, userResource);
    if (password === undefined)
      throw new TerminalError(
        `User/${resource.userRef} has no passwordRef: the operator creates an application credential as its user, with that password`,
      );
    const name = resource.name ?? context.object.metadata.name;
    const asUser = context.client.withAuth('password', {
      user_id: userId,
      password: await password,
      project_id: projectId,
    });
    try {
      const created = await asUser.service('identity').post<{
        application_credential: Omit<KeystoneApplicationCredential, 'user_id'> & { secret?: string };
      }>(credentialsPath(userId), {
        application_credential: {
          name,
          secret: await secretOf(context),
          ...(resource.description === undefined ? {} : { description: resource.description }),
          ...(resource.roles === undefined ? {} : { roles: resource.roles.map((name) => ({ name })) }),
          ...(resource.expiresAt === undefined ? {} : { expires_at: resource.expiresAt }),
          ...(resource.unrestricted === undefined ? {} : { unrestricted: resource.unrestricted }),
        },
      });
      // The answer echoes the secret: it goes no further than here.
      const { secret: _secret, ...credential } = created.body.application_credential;
      return { ...credential, user_id: userId };
    } catch (error) {
      // Retried: a role binding on the project (or the User's new password) may be on its way.
      // Names are unique per user: a namesake not adopted is someone else's (listForAdoption).
      if (error instanceof Conflict)
        throw new TerminalError(
          `User/${resource.userRef} already has an application credential named ${name} that this object did not make; name this one differently or delete that one`,
        );
      if (error instanceof Unauthorized)
        throw new TemporaryError(
          `User/${resource.userRef} cannot get a token on Project/${resource.projectRef} with its password; it needs a role on the project`,
        );
      throw error;
    } finally {
      asUser.close();
    }
  },

  // Keystone cannot change an application credential, and the spec cannot change either.
  async update() {
    return undefined;
  },

  async delete(context, current) {
    await ifFound(
      keystone(context).delete(`${credentialsPath(current.user_id)}/${encodeURIComponent(current.id)}`),
    );
  },

  observe(found) {
    const resource = {
      name: found.name,
      description: found.description ?? undefined,
      userId: found.user_id,
      projectId: found.project_id,
      roles: found.roles?.map((role) => role.name),
      expiresAt: utcTimestamp(found.expires_at),
      unrestricted: found.unrestricted,
    };
    const expired = resource.expiresAt !== undefined && Date.parse(resource.expiresAt) <= Date.now();
    return {
      // Undefined fields are left out: the status schema has no nulls.
      resource: JSON.parse(JSON.stringify(resource)),
      available: !expired,
      message: expired
        ? `Application credential expired at ${resource.expiresAt}`
        : 'Application credential is usable',
    };
  },
};
