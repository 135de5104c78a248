// What the identity actuators share: the Keystone client, the domain a create lands in when the
// spec names none, and lookups of roles, users and groups by name.
import type { OpenStackClient } from '../../lib/openstack/index.js';
import { TerminalError } from '../framework/errors.js';
import type { ActuatorContext } from '../framework/reconciler.js';

export const keystone = (context: ActuatorContext) => context.client.service('identity');

/** A project as Keystone v3 shows it; extra attributes sit beside its own. */
export interface KeystoneProject {
  id: string;
  name: string;
  domain_id: string;
  description?: string | null;
  enabled?: boolean;
  tags?: string[];
  [extra: string]: unknown;
}

/** A user as Keystone v3 shows it (email and description are extra attributes). */
export interface KeystoneUser {
  id: string;
  name: string;
  domain_id: string;
  description?: string | null;
  default_project_id?: string | null;
  email?: string | null;
  enabled?: boolean;
  password_expires_at?: string | null;
}

// A client's credentials never change (a new Secret version makes a new client), so their
// domain is asked for once per client.
const credentialsDomains = new WeakMap<OpenStackClient, Promise<string>>();

/**
 * The domain of the credentials, where a project or user without `domainId` is created: the
 * token's domain when it is domain-scoped, else the domain of its project, else the user's.
 */
export function credentialsDomainId(context: ActuatorContext): Promise<string> {
  const client = context.client;
  let domain = credentialsDomains.get(client);
  if (!domain) {
    domain = (async () => {
      const token = await client.session.token();
      if (token.domainId) return token.domainId;
      const identity = client.service('identity');
      if (token.projectId)
        return (await identity.get<{ project: KeystoneProject }>(`/projects/${token.projectId}`)).body.project
          .domain_id;
      return (await identity.get<{ user: KeystoneUser }>(`/users/${token.userId}`)).body.user.domain_id;
    })();
    // A failure (the cloud unreachable) is not remembered: the next pass asks again.
    domain.catch(() => credentialsDomains.delete(client));
    credentialsDomains.set(client, domain);
  }
  return domain;
}

/** The one `collection` member named `name` (in `domainId` when given), or a terminal error. */
async function oneNamed(
  context: ActuatorContext,
  collection: 'roles' | 'users' | 'groups',
  name: string,
  domainId: string | undefined,
): Promise<string> {
  const matches: string[] = [];
  for await (const found of keystone(context).list<{ id: string; name: string; domain_id?: string | null }>(
    `/${collection}`,
    collection,
    { query: { name, domain_id: domainId } },
  )) {
    // Roles: the global role of that name, not a domain's own role of the same name.
    const inScope = collection === 'roles' ? !found.domain_id : found.domain_id === domainId;
    if (found.name === name && inScope) matches.push(found.id);
  }
  const what = collection.slice(0, -1);
  if (matches.length === 0)
    throw new TerminalError(
      `No ${what} is named ${name}${domainId === undefined ? '' : ` in domain ${domainId}`}`,
    );
  return matches[0] as string;
}

export const roleIdNamed = (context: ActuatorContext, name: string) =>
  oneNamed(context, 'roles', name, undefined);
export const userIdNamed = (context: ActuatorContext, name: string, domainId: string) =>
  oneNamed(context, 'users', name, domainId);
export const groupIdNamed = (context: ActuatorContext, name: string, domainId: string) =>
  oneNamed(context, 'groups', name, domainId);

/** Keystone's timestamps have no zone ("2027-01-01T00:00:00.000000") and mean UTC; RFC 3339 here. */
export function utcTimestamp(keystoneTime: string | null | undefined): string | undefined {
  if (!keystoneTime) return undefined;
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(keystoneTime) ? keystoneTime : `${keystoneTime}Z`;
  const parsed = Date.parse(zoned);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString();
}
