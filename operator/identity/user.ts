// The User kind's actuator: a Keystone v3 user, its password from a Secret. The generic
// reconciler (operator/framework/reconciler.ts) calls it; every method keeps that contract.
//
// The password is set at create, and afterwards checked by asking Keystone for a token with
// it: the one honest check (the operator keeps nothing derived from the password, not even a
// hash in status, where anyone who reads the object could try guesses against it), and it
// also catches a password changed behind the operator's back. A refused token means the
// password differs, and it is set again. A disabled user gets no token whatever its password,
// so a disabled user's password is checked, and set, once it is enabled.
import { Unauthorized } from '../../lib/openstack/index.js';
import type { KindSpec } from '../crds/convention.js';
import { User } from '../crds/identity.js';
import { changedFields, dependencyId, ifFound, referenced } from '../framework/actuator-helpers.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import { credentialsDomainId, type KeystoneUser, keystone, utcTimestamp } from './keystone.js';

type UserSpec = KindSpec<typeof User>;
type UserResource = NonNullable<UserSpec['resource']>;

const spec = (context: ActuatorContext) => context.object.spec as UserSpec;
const resourceOf = (context: ActuatorContext): UserResource => spec(context).resource ?? {};
const userPath = (id: string) => `/users/${encodeURIComponent(id)}`;

/** The password `resource` names, from its Secret (the reconciler waits while it is missing). */
export function passwordOf(context: ActuatorContext, resource: UserResource): Promise<string> | undefined {
  const ref = resource.passwordRef;
  return ref && context.readSecret(ref.secretName, ref.key ?? 'password');
}

/** The user's attributes as spec.resource wants them (undefined: left as they are). */
function attributes(context: ActuatorContext): Partial<KeystoneUser> {
  const resource = resourceOf(context);
  const fields: Partial<KeystoneUser> = { name: resource.name ?? context.object.metadata.name };
  if (resource.description !== undefined) fields.description = resource.description;
  if (resource.email !== undefined) fields.email = resource.email;
  if (resource.enabled !== undefined) fields.enabled = resource.enabled;
  const defaultProjectId = dependencyId(context, 'Project', resource.defaultProjectRef);
  if (defaultProjectId !== undefined) fields.default_project_id = defaultProjectId;
  return fields;
}

/** Whether Keystone issues `user` a token with `password`. */
async function passwordWorks(
  context: ActuatorContext,
  user: KeystoneUser,
  password: string,
): Promise<boolean> {
  const asUser = context.client.withAuth('password', { user_id: user.id, password });
  try {
    await asUser.session.token();
    return true;
  } catch (error) {
    if (error instanceof Unauthorized) return false;
    throw error;
  } finally {
    asUser.close();
  }
}

export const userActuator: Actuator<KeystoneUser> = {
  kind: User,

  dependencies(object) {
    return referenced([['Project', (object.spec as UserSpec).resource?.defaultProjectRef]]);
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    return (await ifFound(keystone(context).get<{ user: KeystoneUser }>(userPath(id))))?.body.user;
  },

  async listForAdoption(context) {
    const name = resourceOf(context).name ?? context.object.metadata.name;
    const domainId = resourceOf(context).domainId ?? (await credentialsDomainId(context));
    const found: KeystoneUser[] = [];
    for await (const candidate of keystone(context).list<KeystoneUser>('/users', 'users', {
      query: { name, domain_id: domainId },
    }))
      if (candidate.name === name && candidate.domain_id === domainId) found.push(candidate);
    return found;
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const found: KeystoneUser[] = [];
    // Filters a server ignores must not widen the match.
    for await (const candidate of keystone(context).list<KeystoneUser>('/users', 'users', {
      query: { name: filter.name, domain_id: filter.domainId },
    }))
      if (
        (filter.name === undefined || candidate.name === filter.name) &&
        (filter.domainId === undefined || candidate.domain_id === filter.domainId)
      )
        found.push(candidate);
    return found;
  },

  async create(context) {
    const resource = resourceOf(context);
    const password = await passwordOf(context, resource);
    const domainId = resource.domainId ?? (await credentialsDomainId(context));
    return (
      await keystone(context).post<{ user: KeystoneUser }>('/users', {
        user: {
          ...attributes(context),
          domain_id: domainId,
          ...(password === undefined ? {} : { password }),
        },
      })
    ).body.user;
  },

  async update(context, current) {
    let user = current;
    const changes = changedFields(attributes(context), current);
    const patch = async (fields: Record<string, unknown>) =>
      (await keystone(context).patch<{ user: KeystoneUser }>(userPath(current.id), { user: fields })).body
        .user;
    if (Object.keys(changes).length > 0) user = await patch(changes);
    const password = await passwordOf(context, resourceOf(context));
    if (password !== undefined && user.enabled !== false && !(await passwordWorks(context, user, password)))
      user = await patch({ password });
    return user === current ? undefined : user;
  },

  async delete(context, current) {
    await ifFound(keystone(context).delete(userPath(current.id)));
  },

  observe(found) {
    const resource = {
      name: found.name,
      description: found.description ?? undefined,
      domainId: found.domain_id,
      defaultProjectId: found.default_project_id ?? undefined,
      email: found.email ?? undefined,
      enabled: found.enabled,
      passwordExpiresAt: utcTimestamp(found.password_expires_at),
    };
    return {
      // Undefined fields are left out: the status schema has no nulls.
      resource: JSON.parse(JSON.stringify(resource)),
      available: true,
      message: found.enabled === false ? 'User is disabled' : 'User is enabled',
    };
  },
};
