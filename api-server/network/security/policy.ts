// Neutron's default policy (neutron/conf/policies/{security_group,quotas,agent,rbac}.py, the
// "secure RBAC" defaults) for what this area serves, as data for the shared engine. Action names
// are Neutron's own. Neutron's generic rules (owner, admin_only, ...) are written out inline:
// the engine has one namespace for all services and Keystone already defines `owner`.
//
// What the routes put in the target: the resource as policy sees it, with project_id and
// tenant_id of its owner; for a rule also `security_group:tenant_id`, the owner of the group it
// belongs to (Neutron's ext_parent). Who can see a resource at all is decided here too: a GET
// that policy refuses answers 404, as Neutron does.
import type { PolicyDefaults, ScopeType } from '../../common/policy/enforcer.js';

const PROJECT: readonly ScopeType[] = ['project'];

const ADMIN = 'role:admin';
const ADMIN_OR_PROJECT_MEMBER = `${ADMIN} or (role:member and project_id:%(project_id)s)`;
const ADMIN_OR_PROJECT_READER = `${ADMIN} or (role:reader and project_id:%(project_id)s)`;
const ADMIN_OR_GROUP_OWNER_MEMBER = `${ADMIN_OR_PROJECT_MEMBER} or (role:member and project_id:%(security_group:tenant_id)s)`;
const ADMIN_OR_GROUP_OWNER_READER = `${ADMIN_OR_PROJECT_READER} or (role:reader and project_id:%(security_group:tenant_id)s)`;
/** Only admins may share with every project ("*"). */
const RESTRICTED_TARGET = `${ADMIN} or not '*':%(target_tenant)s`;

function action(rule: string, description: string, ...operations: string[]) {
  return { rule, scopeTypes: PROJECT, description, operations };
}

export const SECURITY_POLICY_DEFAULTS: PolicyDefaults = {
  create_security_group: action(ADMIN_OR_PROJECT_MEMBER, 'Create a security group.', 'POST /security-groups'),
  get_security_group: action(
    ADMIN_OR_PROJECT_READER,
    'Get a security group.',
    'GET /security-groups',
    'GET /security-groups/{id}',
  ),
  update_security_group: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Update a security group.',
    'PUT /security-groups/{id}',
  ),
  delete_security_group: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Delete a security group.',
    'DELETE /security-groups/{id}',
  ),
  create_security_group_rule: action(
    ADMIN_OR_GROUP_OWNER_MEMBER,
    'Create a security group rule.',
    'POST /security-group-rules',
  ),
  get_security_group_rule: action(
    ADMIN_OR_GROUP_OWNER_READER,
    'Get a security group rule.',
    'GET /security-group-rules',
    'GET /security-group-rules/{id}',
  ),
  delete_security_group_rule: action(
    ADMIN_OR_GROUP_OWNER_MEMBER,
    'Delete a security group rule.',
    'DELETE /security-group-rules/{id}',
  ),
  get_quota: action(
    ADMIN_OR_PROJECT_READER,
    'Get a resource quota.',
    'GET /quotas',
    'GET /quotas/{id}',
    'GET /quotas/{id}/default',
    'GET /quotas/{id}/details',
  ),
  update_quota: action(ADMIN, 'Update a resource quota.', 'PUT /quotas/{id}'),
  delete_quota: action(ADMIN, 'Delete a resource quota.', 'DELETE /quotas/{id}'),
  get_agent: action(ADMIN, 'Get an agent.', 'GET /agents', 'GET /agents/{id}'),
  update_agent: action(ADMIN, 'Update an agent.', 'PUT /agents/{id}'),
  delete_agent: action(ADMIN, 'Delete an agent.', 'DELETE /agents/{id}'),
  create_rbac_policy: action(ADMIN_OR_PROJECT_MEMBER, 'Create an RBAC policy.', 'POST /rbac-policies'),
  'create_rbac_policy:target_tenant': action(
    RESTRICTED_TARGET,
    'Specify `target_tenant` when creating an RBAC policy ("*" is for admins).',
    'POST /rbac-policies',
  ),
  update_rbac_policy: action(ADMIN_OR_PROJECT_MEMBER, 'Update an RBAC policy.', 'PUT /rbac-policies/{id}'),
  'update_rbac_policy:target_tenant': action(
    RESTRICTED_TARGET,
    'Update `target_tenant` attribute of an RBAC policy ("*" is for admins).',
    'PUT /rbac-policies/{id}',
  ),
  get_rbac_policy: action(
    ADMIN_OR_PROJECT_READER,
    'Get an RBAC policy.',
    'GET /rbac-policies',
    'GET /rbac-policies/{id}',
  ),
  delete_rbac_policy: action(ADMIN_OR_PROJECT_MEMBER, 'Delete an RBAC policy.', 'DELETE /rbac-policies/{id}'),
};
