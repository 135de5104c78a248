import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import {
  type Credentials,
  type PolicyDefaults,
  PolicyDefinitionError,
  PolicyEnforcer,
  PolicyNotAuthorized,
  PolicyNotRegistered,
  policyCredentials,
} from './enforcer.js';

const projectMember: Credentials = {
  userId: 'u-alice',
  userDomainId: 'd-acme',
  projectId: 'p-web',
  projectDomainId: 'd-acme',
  roles: ['member', 'reader'],
};
const domainManager: Credentials = {
  userId: 'u-dora',
  domainId: 'd-acme',
  roles: ['manager', 'member', 'reader'],
};
const systemReader: Credentials = { userId: 'u-sam', systemScope: 'all', roles: ['reader'] };

/** An enforcer with one action, `test:act`, governed by `rule`. */
function enforcerFor(rule: string, more: PolicyDefaults = {}): PolicyEnforcer {
  return new PolicyEnforcer({ 'test:act': { rule }, ...more });
}
const allows = (rule: string, target: Record<string, unknown>, credentials: Credentials) =>
  enforcerFor(rule).enforce('test:act', target, credentials);

describe('role checks', () => {
  it('match role names case-insensitively, as oslo does', () => {
    expect(allows('role:Member', {}, projectMember)).toBe(true);
    expect(allows('role:member', {}, { ...projectMember, roles: ['MEMBER'] })).toBe(true);
    expect(allows('role:admin', {}, projectMember)).toBe(false);
  });

  it('see only the roles given, so implied roles must already be in the list', () => {
    expect(allows('role:reader', {}, { ...projectMember, roles: ['member'] })).toBe(false);
  });

  it('may take the role name from the target', () => {
    expect(allows('role:%(target.role.name)s', { target: { role: { name: 'member' } } }, projectMember)).toBe(
      true,
    );
    expect(allows('role:%(target.role.name)s', { target: { role: { name: 'admin' } } }, projectMember)).toBe(
      false,
    );
    expect(allows('role:%(target.role.name)s', {}, projectMember)).toBe(false);
  });
});

describe('attribute checks', () => {
  it('compare a credential attribute with a value from the target', () => {
    const rule = 'user_id:%(target.user.id)s';
    expect(allows(rule, { target: { user: { id: 'u-alice' } } }, projectMember)).toBe(true);
    expect(allows(rule, { target: { user: { id: 'u-bob' } } }, projectMember)).toBe(false);
  });

  it('treat a key missing from the target as a failed check, never as a match', () => {
    expect(allows('user_id:%(target.user.id)s', {}, projectMember)).toBe(false);
    expect(allows('not user_id:%(target.user.id)s', {}, projectMember)).toBe(true);
    expect(allows('user_id:%(target.user.id)s', { target: { user: { id: undefined } } }, projectMember)).toBe(
      false,
    );
  });

  it("read Keystone's flattened dotted keys as well as nested objects", () => {
    expect(allows('user_id:%(target.user.id)s', { 'target.user.id': 'u-alice' }, projectMember)).toBe(true);
  });

  it('read only own properties of the target, never inherited ones', () => {
    const inherited = { target: { user: Object.create({ id: 'u-alice' }) } };
    expect(allows('user_id:%(target.user.id)s', inherited, projectMember)).toBe(false);
    expect(
      allows('user_id:%(target.user.id)s', Object.create({ 'target.user.id': 'u-alice' }), projectMember),
    ).toBe(false);
  });

  it('compare with bare and quoted literals', () => {
    expect(allows('system_scope:all', {}, systemReader)).toBe(true);
    expect(allows('system_scope:all', {}, projectMember)).toBe(false);
    expect(allows("project_id:'p-web'", {}, projectMember)).toBe(true);
  });

  it('compare a Python literal on the left with the str() of the target value', () => {
    expect(
      allows("'member':%(target.role.name)s", { target: { role: { name: 'member' } } }, projectMember),
    ).toBe(true);
    expect(
      allows("'member':%(target.role.name)s", { target: { role: { name: 'admin' } } }, projectMember),
    ).toBe(false);
    expect(
      allows('True:%(target.user.enabled)s', { target: { user: { enabled: true } } }, projectMember),
    ).toBe(true);
    expect(
      allows('True:%(target.user.enabled)s', { target: { user: { enabled: false } } }, projectMember),
    ).toBe(false);
    expect(allows('5:%(target.count)s', { target: { count: 5 } }, projectMember)).toBe(true);
  });

  it('treat null as None, which equals an attribute the token does not have', () => {
    // Why Keystone's list_roles default says `not domain_id:None` for "domain-scoped token".
    expect(allows('not domain_id:None', {}, domainManager)).toBe(true);
    expect(allows('not domain_id:None', {}, projectMember)).toBe(false);
    // And why routes must omit unknown keys rather than write null into the target.
    expect(allows('domain_id:%(target.domain_id)s', { target: { domain_id: null } }, projectMember)).toBe(
      true,
    );
    expect(
      allows('None:%(target.role.domain_id)s', { target: { role: { domain_id: null } } }, projectMember),
    ).toBe(true);
  });

  it('never match objects or lists from the target', () => {
    expect(allows('user_id:%(target.user)s', { target: { user: { id: 'u-alice' } } }, projectMember)).toBe(
      false,
    );
  });

  it("match any element where a credential path reaches a list, as oslo's roles:admin does", () => {
    expect(allows('roles:member', {}, projectMember)).toBe(true);
    expect(allows('roles:admin', {}, projectMember)).toBe(false);
  });

  it("expose the token's scope the way Keystone's token body does", () => {
    const project = { target: { domain: { id: 'd-acme' } } };
    expect(allows('token.project.domain.id:%(target.domain.id)s', project, projectMember)).toBe(true);
    expect(allows('token.domain.id:%(target.domain.id)s', project, projectMember)).toBe(false);
    expect(allows('token.domain.id:%(target.domain.id)s', project, domainManager)).toBe(true);
    expect(
      allows('token.application_credential.id:ac-1', {}, { ...projectMember, appCredentialId: 'ac-1' }),
    ).toBe(true);
  });
});

describe('the oslo credentials', () => {
  it("use oslo's attribute names, with None for the scope a token lacks", () => {
    expect(policyCredentials(domainManager)).toMatchObject({
      user_id: 'u-dora',
      domain_id: 'd-acme',
      project_id: null,
      system_scope: null,
      roles: ['manager', 'member', 'reader'],
      is_admin_project: true,
      token: { domain: { id: 'd-acme' } },
    });
    expect(policyCredentials(systemReader)).toMatchObject({
      system_scope: 'all',
      token: { system: { all: true } },
    });
    expect(policyCredentials({ ...projectMember, isAdminProject: false }).is_admin_project).toBe(false);
  });
});

describe('named rules', () => {
  it('are followed through rule: references', () => {
    const enforcer = enforcerFor('rule:admin_or_owner', {
      admin_required: { rule: 'role:admin' },
      owner: { rule: 'user_id:%(user_id)s' },
      admin_or_owner: { rule: 'rule:admin_required or rule:owner' },
    });
    expect(enforcer.enforce('test:act', { user_id: 'u-alice' }, projectMember)).toBe(true);
    expect(enforcer.enforce('test:act', { user_id: 'u-bob' }, projectMember)).toBe(false);
    expect(enforcer.enforce('test:act', { user_id: 'u-bob' }, { ...projectMember, roles: ['admin'] })).toBe(
      true,
    );
  });

  it('deny where a rule: reference names no rule, and list such names for the operator', () => {
    const enforcer = enforcerFor('rule:admin_requried or role:admin');
    expect(enforcer.enforce('test:act', {}, projectMember)).toBe(false);
    expect(enforcer.enforce('test:act', {}, { ...projectMember, roles: ['admin'] })).toBe(true);
    expect(enforcer.undefinedRuleReferences).toEqual(['admin_requried']);
  });

  it('may not refer to each other in a cycle', () => {
    expect(() =>
      enforcerFor('rule:a', { a: { rule: 'rule:b or role:x' }, b: { rule: 'not rule:a' } }),
    ).toThrow(/cycle: (a -> b -> a|b -> a -> b)/);
    expect(() => new PolicyEnforcer({ loop: { rule: 'role:x or rule:loop' } })).toThrow(
      PolicyDefinitionError,
    );
  });

  it('may be used as actions themselves', () => {
    const enforcer = enforcerFor('@', { admin_required: { rule: 'role:admin' } });
    expect(enforcer.enforce('admin_required', {}, projectMember)).toBe(false);
  });
});

describe('unknown actions', () => {
  it('are a loud programming error, never an allow', () => {
    const enforcer = enforcerFor('@');
    expect(() => enforcer.enforce('test:atc', {}, projectMember)).toThrow(PolicyNotRegistered);
    expect(() => enforcer.authorize('test:atc', {}, projectMember)).toThrow(/"test:atc" has no default/);
    expect(enforcer.has('test:atc')).toBe(false);
  });
});

describe('authorize', () => {
  it('throws a 403 naming the action when denied', () => {
    const enforcer = enforcerFor('role:admin');
    let denial: unknown;
    try {
      enforcer.authorize('test:act', {}, projectMember);
    } catch (error) {
      denial = error;
    }
    expect(denial).toBeInstanceOf(PolicyNotAuthorized);
    expect(denial).toBeInstanceOf(ApiError);
    expect(denial).toMatchObject({
      status: 403,
      action: 'test:act',
      reason: 'rule',
      message: 'You are not authorized to perform the requested action: test:act.',
    });
  });

  it('returns quietly when allowed', () => {
    expect(() => enforcerFor('role:member').authorize('test:act', {}, projectMember)).not.toThrow();
  });

  it("words the denial the service's way when asked", () => {
    const enforcer = new PolicyEnforcer(
      { 'compute:act': { rule: '!' } },
      {},
      {
        deniedMessage: (action) => `Policy doesn't allow ${action} to be performed.`,
      },
    );
    expect(() => enforcer.authorize('compute:act', {}, projectMember)).toThrow(
      "Policy doesn't allow compute:act to be performed.",
    );
  });
});

describe('scope types', () => {
  const defaults: PolicyDefaults = { 'test:system_only': { rule: 'role:reader', scopeTypes: ['system'] } };

  it('deny a token of another scope whatever the rule says', () => {
    const enforcer = new PolicyEnforcer(defaults);
    expect(enforcer.enforce('test:system_only', {}, systemReader)).toBe(true);
    expect(enforcer.enforce('test:system_only', {}, projectMember)).toBe(false);
    expect(() => enforcer.authorize('test:system_only', {}, domainManager)).toThrow(
      expect.objectContaining({ reason: 'scope', status: 403 }),
    );
  });

  it('count an unscoped token as project-scoped, as oslo does', () => {
    const enforcer = new PolicyEnforcer({ 'test:project': { rule: '@', scopeTypes: ['project'] } });
    expect(enforcer.enforce('test:project', {}, { userId: 'u-alice', roles: [] })).toBe(true);
  });

  it('stay in force when a deployer overrides the rule', () => {
    const enforcer = new PolicyEnforcer(defaults, { 'test:system_only': '@' });
    expect(enforcer.enforce('test:system_only', {}, projectMember)).toBe(false);
  });
});

describe('overrides', () => {
  it('replace the default rule of an action', () => {
    const enforcer = new PolicyEnforcer(
      { 'test:act': { rule: 'role:admin' } },
      { 'test:act': 'role:member' },
    );
    expect(enforcer.enforce('test:act', {}, projectMember)).toBe(true);
    expect(enforcer.ruleText('test:act')).toBe('role:member');
  });

  it('may define new named rules that actions refer to', () => {
    const enforcer = new PolicyEnforcer(
      { 'test:act': { rule: 'role:admin' } },
      { is_domain_manager: 'role:manager', 'test:act': 'rule:is_domain_manager' },
    );
    expect(enforcer.enforce('test:act', {}, domainManager)).toBe(true);
    expect(enforcer.enforce('test:act', {}, projectMember)).toBe(false);
  });

  it('that do not parse are reported with the rule name', () => {
    expect(() => new PolicyEnforcer({ 'test:act': { rule: '@' } }, { 'test:act': 'role:admin or' })).toThrow(
      /Policy rule "test:act" \(override\): the rule ends after "or" at position 13/,
    );
  });
});
