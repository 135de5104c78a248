import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Credentials, loadPolicyFile, PolicyEnforcer } from '../common/policy/enforcer.js';
import { formatRule, parseRule } from '../common/policy/rules.js';
import { IDENTITY_POLICY_DEFAULTS } from './policy.js';

// Keystone's bootstrap roles imply each other; the token middleware expands them before policy.
const IMPLIED: Record<string, string[]> = { admin: ['manager'], manager: ['member'], member: ['reader'] };
function withImplied(roles: string[]): string[] {
  const all = new Set<string>();
  const add = (role: string): void => {
    if (all.has(role)) return;
    all.add(role);
    for (const implied of IMPLIED[role] ?? []) add(implied);
  };
  roles.forEach(add);
  return [...all];
}

const onProject = (userId: string, role: string, projectId = 'p-web', domainId = 'd-acme'): Credentials => ({
  userId,
  userDomainId: domainId,
  projectId,
  projectDomainId: domainId,
  roles: withImplied([role]),
});
const onDomain = (userId: string, role: string, domainId = 'd-acme'): Credentials => ({
  userId,
  userDomainId: domainId,
  domainId,
  roles: withImplied([role]),
});
const onSystem = (userId: string, role: string): Credentials => ({
  userId,
  userDomainId: 'default',
  systemScope: 'all',
  roles: withImplied([role]),
});

const policy = new PolicyEnforcer(IDENTITY_POLICY_DEFAULTS);

const alice = { id: 'u-alice', domain_id: 'd-acme' };
const bob = { id: 'u-bob', domain_id: 'd-acme' };
const eve = { id: 'u-eve', domain_id: 'd-evil' };

describe("Keystone's default rules", () => {
  it('all parse, link and refer only to rules they define', () => {
    expect(policy.undefinedRuleReferences).toEqual([]);
    for (const [name, { rule }] of Object.entries(IDENTITY_POLICY_DEFAULTS)) {
      const parsed = parseRule(rule);
      expect(parseRule(formatRule(parsed)), name).toEqual(parsed);
    }
  });

  it('cover every action the identity API enforces', () => {
    const crud = (noun: string, plural = `${noun}s`) => [
      `get_${noun}`,
      `list_${plural}`,
      `create_${noun}`,
      `update_${noun}`,
      `delete_${noun}`,
    ];
    const actions = [
      ...['domain', 'project', 'user', 'group', 'role', 'service', 'endpoint', 'region'].flatMap((noun) =>
        crud(noun),
      ),
      ...['add_user_to_group', 'remove_user_from_group', 'check_user_in_group', 'list_users_in_group'],
      ...[
        'list_groups_for_user',
        'list_user_projects',
        'list_role_assignments',
        'list_role_assignments_for_tree',
      ],
      ...['create_implied_role', 'get_implied_role', 'list_implied_roles', 'list_role_inference_rules'],
      ...[
        'delete_implied_role',
        'check_implied_role',
        'check_grant',
        'list_grants',
        'create_grant',
        'revoke_grant',
      ],
      ...['get_application_credential', 'list_application_credentials', 'create_application_credential'],
      ...['delete_application_credential', 'validate_token', 'check_token', 'revoke_token'],
      ...['get_auth_catalog', 'get_auth_projects', 'get_auth_domains', 'get_auth_system'],
    ];
    expect(actions.filter((action) => !policy.has(`identity:${action}`))).toEqual([]);
  });
});

describe('managing users', () => {
  const newUser = (domainId: string) => ({ target: { user: { name: 'carol', domain_id: domainId } } });

  it('an admin on a project may create, update and delete users', () => {
    const admin = onProject('u-root', 'admin');
    expect(policy.enforce('identity:create_user', newUser('d-acme'), admin)).toBe(true);
    expect(policy.enforce('identity:update_user', { user_id: bob.id, target: { user: bob } }, admin)).toBe(
      true,
    );
    expect(policy.enforce('identity:delete_user', { user_id: eve.id, target: { user: eve } }, admin)).toBe(
      true,
    );
  });

  it('a member of a project may not create users', () => {
    const member = onProject(alice.id, 'member');
    expect(policy.enforce('identity:create_user', newUser('d-acme'), member)).toBe(false);
    expect(() => policy.authorize('identity:create_user', newUser('d-acme'), member)).toThrow(
      'You are not authorized to perform the requested action: identity:create_user.',
    );
  });

  it('a system reader may list and read users but not change them', () => {
    const auditor = onSystem('u-audit', 'reader');
    expect(policy.enforce('identity:list_users', {}, auditor)).toBe(true);
    expect(policy.enforce('identity:get_user', { user_id: eve.id, target: { user: eve } }, auditor)).toBe(
      true,
    );
    expect(policy.enforce('identity:create_user', newUser('d-acme'), auditor)).toBe(false);
    expect(policy.enforce('identity:delete_user', { user_id: eve.id, target: { user: eve } }, auditor)).toBe(
      false,
    );
  });

  it("a domain reader may list its domain's users; a project reader may not list users at all", () => {
    expect(
      policy.enforce('identity:list_users', { target: { domain_id: 'd-acme' } }, onDomain('u-r', 'reader')),
    ).toBe(true);
    expect(policy.enforce('identity:list_users', {}, onProject(alice.id, 'reader'))).toBe(false);
  });

  it('a user may read itself but not another user', () => {
    const self = onProject(alice.id, 'member');
    expect(policy.enforce('identity:get_user', { user_id: alice.id, target: { user: alice } }, self)).toBe(
      true,
    );
    expect(policy.enforce('identity:get_user', { user_id: bob.id, target: { user: bob } }, self)).toBe(false);
  });

  it("a domain manager manages its own domain's users and no one else's", () => {
    const manager = onDomain('u-dora', 'manager', 'd-acme');
    expect(policy.enforce('identity:create_user', newUser('d-acme'), manager)).toBe(true);
    expect(policy.enforce('identity:update_user', { user_id: bob.id, target: { user: bob } }, manager)).toBe(
      true,
    );
    expect(policy.enforce('identity:create_user', newUser('d-evil'), manager)).toBe(false);
    expect(policy.enforce('identity:delete_user', { user_id: eve.id, target: { user: eve } }, manager)).toBe(
      false,
    );
    // The rule reads the domain from the request body: a create that names no domain is refused.
    expect(policy.enforce('identity:create_user', { target: { user: { name: 'carol' } } }, manager)).toBe(
      false,
    );
  });

  it('the manager role on a project does not make a domain manager', () => {
    expect(policy.enforce('identity:create_user', newUser('d-acme'), onProject('u-pm', 'manager'))).toBe(
      false,
    );
  });
});

describe('domains and scope', () => {
  it('an admin on a domain may not create domains: the action does not serve domain-scoped tokens', () => {
    const domainAdmin = onDomain('u-dan', 'admin');
    expect(() => policy.authorize('identity:create_domain', {}, domainAdmin)).toThrow(
      expect.objectContaining({ status: 403, reason: 'scope', action: 'identity:create_domain' }),
    );
    expect(policy.enforce('identity:create_domain', {}, onProject('u-root', 'admin'))).toBe(true);
    expect(policy.enforce('identity:create_domain', {}, onSystem('u-root', 'admin'))).toBe(true);
  });

  it("a user may read its project's domain but not another domain", () => {
    const member = onProject(alice.id, 'member');
    expect(
      policy.enforce(
        'identity:get_domain',
        { domain_id: 'd-acme', target: { domain: { id: 'd-acme' } } },
        member,
      ),
    ).toBe(true);
    expect(
      policy.enforce(
        'identity:get_domain',
        { domain_id: 'd-evil', target: { domain: { id: 'd-evil' } } },
        member,
      ),
    ).toBe(false);
  });
});

describe('projects', () => {
  const web = { id: 'p-web', domain_id: 'd-acme' };
  const target = { project_id: web.id, target: { project: web } };

  it('a project reader may read its project and the regions, but not change the project or list projects', () => {
    const reader = onProject(alice.id, 'reader');
    expect(policy.enforce('identity:get_project', target, reader)).toBe(true);
    expect(policy.enforce('identity:list_regions', {}, reader)).toBe(true);
    expect(policy.enforce('identity:update_project', target, reader)).toBe(false);
    expect(policy.enforce('identity:list_projects', {}, reader)).toBe(false);
  });

  it('a project reader gains nothing from a project acting as a domain, whose domain_id is None', () => {
    const asDomain = { project_id: 'd-acme', target: { project: { id: 'd-acme', domain_id: null } } };
    expect(policy.enforce('identity:get_project', asDomain, onProject(alice.id, 'reader'))).toBe(false);
  });

  it('a domain manager creates projects in its domain only', () => {
    const manager = onDomain('u-dora', 'manager');
    expect(
      policy.enforce('identity:create_project', { target: { project: { domain_id: 'd-acme' } } }, manager),
    ).toBe(true);
    expect(
      policy.enforce('identity:create_project', { target: { project: { domain_id: 'd-evil' } } }, manager),
    ).toBe(false);
  });
});

describe('application credentials', () => {
  it('a user may list and create its own, but not list or delete another user’s', () => {
    const self = onProject(alice.id, 'member');
    expect(policy.enforce('identity:list_application_credentials', { user_id: alice.id }, self)).toBe(true);
    expect(policy.enforce('identity:create_application_credential', { user_id: alice.id }, self)).toBe(true);
    expect(policy.enforce('identity:list_application_credentials', { user_id: bob.id }, self)).toBe(false);
    // For get and delete the route puts the credential's real owner in user_id, not the path's.
    expect(policy.enforce('identity:delete_application_credential', { user_id: bob.id }, self)).toBe(false);
    expect(policy.enforce('identity:get_application_credential', { user_id: alice.id }, self)).toBe(true);
  });

  it('are created only with project-scoped tokens', () => {
    const systemAdmin = onSystem('u-root', 'admin');
    expect(policy.enforce('identity:create_application_credential', { user_id: 'u-root' }, systemAdmin)).toBe(
      false,
    );
  });
});

describe('role grants', () => {
  const member = { id: 'r-member', name: 'member', domain_id: null };
  const admin = { id: 'r-admin', name: 'admin', domain_id: null };
  const acmeProject = { id: 'p-web', domain_id: 'd-acme' };
  const evilProject = { id: 'p-evil', domain_id: 'd-evil' };
  const grant = (role: object, project: object, user: object = bob) => ({ target: { role, project, user } });

  it('a domain manager grants member, reader and manager within its domain, never admin', () => {
    const manager = onDomain('u-dora', 'manager');
    expect(policy.enforce('identity:create_grant', grant(member, acmeProject), manager)).toBe(true);
    expect(policy.enforce('identity:revoke_grant', grant(member, acmeProject), manager)).toBe(true);
    expect(policy.enforce('identity:create_grant', grant(admin, acmeProject), manager)).toBe(false);
    expect(policy.enforce('identity:create_grant', grant(member, evilProject), manager)).toBe(false);
    expect(policy.enforce('identity:create_grant', grant(member, acmeProject, eve), manager)).toBe(false);
  });

  it('a system reader may check grants but not make them', () => {
    const auditor = onSystem('u-audit', 'reader');
    expect(policy.enforce('identity:check_grant', grant(member, evilProject, eve), auditor)).toBe(true);
    expect(policy.enforce('identity:create_grant', grant(member, evilProject, eve), auditor)).toBe(false);
  });

  it('a domain manager may list roles and see the roles it can grant', () => {
    const manager = onDomain('u-dora', 'manager');
    expect(policy.enforce('identity:list_roles', {}, manager)).toBe(true);
    expect(
      policy.enforce('identity:get_role', { role_id: member.id, target: { role: member } }, manager),
    ).toBe(true);
    expect(policy.enforce('identity:get_role', { role_id: admin.id, target: { role: admin } }, manager)).toBe(
      false,
    );
    expect(policy.enforce('identity:list_roles', {}, onProject('u-pm', 'manager'))).toBe(false);
  });
});

describe('tokens and the auth helpers', () => {
  const tokenOf = (userId: string) => ({ target: { token: { user_id: userId } } });

  it('a user may validate and revoke its own tokens but not another user’s', () => {
    const self = onProject(alice.id, 'member');
    expect(policy.enforce('identity:validate_token', tokenOf(alice.id), self)).toBe(true);
    expect(policy.enforce('identity:revoke_token', tokenOf(alice.id), self)).toBe(true);
    expect(policy.enforce('identity:validate_token', tokenOf(bob.id), self)).toBe(false);
  });

  it('a service user may validate any token but not revoke it', () => {
    const nova = onProject('u-nova', 'service', 'p-service');
    expect(policy.enforce('identity:validate_token', tokenOf(alice.id), nova)).toBe(true);
    expect(policy.enforce('identity:revoke_token', tokenOf(alice.id), nova)).toBe(false);
  });

  it('any token, unscoped included, may read its catalog and the projects it can scope to', () => {
    const unscoped: Credentials = { userId: alice.id, userDomainId: 'd-acme', roles: [] };
    expect(policy.enforce('identity:get_auth_projects', {}, unscoped)).toBe(true);
    expect(policy.enforce('identity:get_auth_catalog', {}, unscoped)).toBe(true);
  });
});

describe('a deployer policy file', () => {
  const directory = mkdtempSync(join(tmpdir(), 'overcast-identity-policy-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('changes the decision for the rules it overrides and leaves the others alone', () => {
    const path = join(directory, 'policy.yaml');
    writeFileSync(
      path,
      [
        '# Let project members create users; keep regions for admins.',
        '"identity:create_user": "rule:admin_required or rule:project_member"',
        '"project_member": "role:member"',
        '"identity:list_regions": "rule:admin_required"',
      ].join('\n'),
    );
    const customised = new PolicyEnforcer(IDENTITY_POLICY_DEFAULTS, loadPolicyFile(path));
    const member = onProject(alice.id, 'member');
    const newUser = { target: { user: { name: 'carol', domain_id: 'd-acme' } } };

    expect(policy.enforce('identity:create_user', newUser, member)).toBe(false);
    expect(customised.enforce('identity:create_user', newUser, member)).toBe(true);
    expect(policy.enforce('identity:list_regions', {}, member)).toBe(true);
    expect(customised.enforce('identity:list_regions', {}, member)).toBe(false);
    expect(
      customised.enforce('identity:get_user', { user_id: alice.id, target: { user: alice } }, member),
    ).toBe(true);
  });
});
