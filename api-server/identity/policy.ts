// Keystone's default policy: the "secure RBAC" rules of current Keystone releases
// (keystone/common/policies/*.py), with their scope types, as data for the shared engine.
//
// Personas these rules give: `admin` (on any scope the action allows) is the cloud
// administrator; `reader` on the system reads everything; `manager` on a domain administers the
// users, groups, projects and (member/reader/manager) role assignments of that domain; `reader`
// on a domain reads it; any user sees itself, its own projects, groups and application
// credentials. Keystone's roles imply each other (admin → manager → member → reader): the caller
// expands implied roles into Credentials.roles before enforcing.
//
// What each route puts in the target (Keystone's policy dict; see enforcer.ts). Keys left out
// make the checks that read them false; never write null for "unknown", because null is None
// and matches a token whose domain_id is None.
//
//   users        get/update/delete_user: { user_id, target: { user: <stored user> } }
//                create_user: { target: { user: <request body's user, as sent> } }
//                list_users: { target: { domain_id: <token's domain> } } when domain-scoped, else {}
//                list_user_projects, list_groups_for_user: { user_id, target: { user: <stored user> } }
//   groups       get/update/delete_group, list_users_in_group: { group_id, target: { group: <stored> } }
//                create_group: { target: { group: <request body's group> } }
//                list_groups: { target: { group: { domain_id: <token's domain> } } } when
//                domain-scoped, else {}
//                add/remove/check_user_in_group: { group_id, user_id, target: { group, user } }
//   projects     get/update/delete_project and the tag actions: { project_id, target: { project } },
//                the stored project (its domain_id is null for a project acting as a domain)
//                create_project: { target: { project: <request body's project> } }
//                list_projects: { target: { domain_id: <token's domain> } } when domain-scoped
//   domains      get/update/delete_domain: { domain_id, target: { domain: <stored domain> } }
//                list_domains: { target: { domain: { id: <token's domain> } } } when domain-scoped
//   roles        get_role: { role_id, target: { role: <stored role, name and domain_id> } }
//                the other role, implied-role, service, endpoint and region actions: path params
//   grants       check/create/revoke_grant: { target: { role, and user or group, and project or
//                domain } }, all stored objects (a global role's domain_id is null); list_grants
//                the same without role
//   assignments  list_role_assignments(_for_tree): { target: { domain_id: <token's domain> } }
//                when domain-scoped
//   app creds    list/create_application_credential: { user_id: <path user> };
//                get/delete_application_credential: { user_id: <the credential's owner, from the
//                stored credential, never from the path> }
//   tokens       check/validate/revoke_token: { target: { token: { user_id: <subject token's user> } } }
//   auth         get_auth_catalog/projects/domains/system, list_projects_for_user,
//                list_domains_for_user: {} (any valid token)
//
// Changing one's own password (POST /v3/users/{user_id}/password) has no policy in Keystone:
// the original password authorizes it, and it must work without a token for a user whose
// password has expired. Its route must not call the enforcer.
import type { PolicyDefault, PolicyDefaults, ScopeType } from '../common/policy/enforcer.js';

const ANY_SCOPE: readonly ScopeType[] = ['system', 'domain', 'project'];
// Keystone still lets a project-scoped admin act as the cloud administrator; a domain-scoped
// token is what these actions refuse.
const SYSTEM_OR_PROJECT: readonly ScopeType[] = ['system', 'project'];

const ADMIN = 'rule:admin_required';
const ADMIN_OR_SYSTEM_READER = 'rule:admin_required or (role:reader and system_scope:all)';
const ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER =
  '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)';
const ADMIN_OR_OWNER_OR_SYSTEM_READER =
  '(rule:admin_required) or (role:reader and system_scope:all) or rule:owner';

const USER_DOMAIN_MANAGER =
  '(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)';

const GROUP_READER =
  '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)';
const GROUP_DOMAIN_MANAGER =
  '(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)';
const GROUP_MEMBERSHIP_MANAGER =
  '(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)';

const PROJECT_READER =
  '(rule:admin_required) or (role:reader and system_scope:all) or ' +
  '(role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or ' +
  'project_id:%(target.project.id)s';
const PROJECT_DOMAIN_MANAGER =
  '(rule:admin_required) or ' +
  '(role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)';

// A grant's actor (user or group) and target (project or domain) must both be in the caller's domain.
function grantInCallersDomain(role: string): string {
  return (
    `(role:${role} and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or ` +
    `(role:${role} and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or ` +
    `(role:${role} and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or ` +
    `(role:${role} and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)`
  );
}
const ROLE_IN_CALLERS_DOMAIN_OR_GLOBAL =
  '(domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s)';
const GRANT_READER = `(rule:admin_required) or ((role:reader and system_scope:all) or (${grantInCallersDomain('reader')}) and ${ROLE_IN_CALLERS_DOMAIN_OR_GLOBAL})`;
const GRANT_LISTER = `(rule:admin_required) or ((role:reader and system_scope:all) or ${grantInCallersDomain('reader')})`;
const GRANT_MANAGER =
  `(rule:admin_required) or (${grantInCallersDomain('admin')}) and ${ROLE_IN_CALLERS_DOMAIN_OR_GLOBAL} or ` +
  `(${grantInCallersDomain('manager')}) and rule:domain_managed_target_role`;

function action(
  rule: string,
  scopeTypes: readonly ScopeType[] | undefined,
  description: string,
  ...operations: string[]
): PolicyDefault {
  return { rule, description, operations, ...(scopeTypes && { scopeTypes }) };
}

/** Keystone's generic named rules, referred to with `rule:` by the actions and by deployers. */
const GENERIC_RULES: PolicyDefaults = {
  admin_required: { rule: 'role:admin or is_admin:1' },
  service_role: { rule: 'role:service' },
  service_or_admin: { rule: 'rule:admin_required or rule:service_role' },
  owner: { rule: 'user_id:%(user_id)s' },
  admin_or_owner: { rule: 'rule:admin_required or rule:owner' },
  token_subject: { rule: 'user_id:%(target.token.user_id)s' },
  admin_or_token_subject: { rule: 'rule:admin_required or rule:token_subject' },
  service_admin_or_token_subject: { rule: 'rule:service_or_admin or rule:token_subject' },
  domain_managed_target_role: {
    rule: "'manager':%(target.role.name)s or 'member':%(target.role.name)s or 'reader':%(target.role.name)s",
    description: 'The roles a domain manager may grant and revoke.',
  },
};

const APPLICATION_CREDENTIAL_RULES: PolicyDefaults = {
  'identity:get_application_credential': action(
    ADMIN_OR_OWNER_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'Show application credential details.',
    'GET /v3/users/{user_id}/application_credentials/{application_credential_id}',
    'HEAD /v3/users/{user_id}/application_credentials/{application_credential_id}',
  ),
  'identity:list_application_credentials': action(
    ADMIN_OR_OWNER_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'List application credentials for a user.',
    'GET /v3/users/{user_id}/application_credentials',
    'HEAD /v3/users/{user_id}/application_credentials',
  ),
  'identity:create_application_credential': action(
    'user_id:%(user_id)s',
    ['project'],
    'Create an application credential.',
    'POST /v3/users/{user_id}/application_credentials',
  ),
  'identity:delete_application_credential': action(
    'rule:admin_or_owner',
    SYSTEM_OR_PROJECT,
    'Delete an application credential.',
    'DELETE /v3/users/{user_id}/application_credentials/{application_credential_id}',
  ),
};

// Deliberately without scope types: these serve any valid token, unscoped ones included.
const AUTH_RULES: PolicyDefaults = {
  'identity:get_auth_catalog': action('', undefined, 'Get service catalog.', 'GET /v3/auth/catalog'),
  'identity:get_auth_projects': action(
    '',
    undefined,
    'List all projects a user has access to via role assignments.',
    'GET /v3/auth/projects',
  ),
  'identity:get_auth_domains': action(
    '',
    undefined,
    'List all domains a user has access to via role assignments.',
    'GET /v3/auth/domains',
  ),
  'identity:get_auth_system': action(
    '',
    undefined,
    'List systems a user has access to via role assignments.',
    'GET /v3/auth/system',
  ),
};

const DOMAIN_RULES: PolicyDefaults = {
  'identity:get_domain': action(
    'rule:admin_required or (role:reader and system_scope:all) or ' +
      'token.domain.id:%(target.domain.id)s or token.project.domain.id:%(target.domain.id)s',
    ANY_SCOPE,
    'Show domain details.',
    'GET /v3/domains/{domain_id}',
  ),
  'identity:list_domains': action(
    'rule:admin_required or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain.id)s)',
    ANY_SCOPE,
    'List domains.',
    'GET /v3/domains',
  ),
  'identity:create_domain': action(ADMIN, SYSTEM_OR_PROJECT, 'Create domain.', 'POST /v3/domains'),
  'identity:update_domain': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Update domain.',
    'PATCH /v3/domains/{domain_id}',
  ),
  'identity:delete_domain': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Delete domain.',
    'DELETE /v3/domains/{domain_id}',
  ),
};

const PROJECT_RULES: PolicyDefaults = {
  'identity:get_project': action(
    PROJECT_READER,
    ANY_SCOPE,
    'Show project details.',
    'GET /v3/projects/{project_id}',
  ),
  'identity:list_projects': action(
    ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER,
    ANY_SCOPE,
    'List projects.',
    'GET /v3/projects',
  ),
  'identity:list_user_projects': action(
    '(rule:admin_required) or (role:reader and system_scope:all) or ' +
      '(role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s',
    ANY_SCOPE,
    'List projects for user.',
    'GET /v3/users/{user_id}/projects',
  ),
  'identity:create_project': action(
    PROJECT_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Create project.',
    'POST /v3/projects',
  ),
  'identity:update_project': action(
    PROJECT_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Update project.',
    'PATCH /v3/projects/{project_id}',
  ),
  'identity:delete_project': action(
    PROJECT_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Delete project.',
    'DELETE /v3/projects/{project_id}',
  ),
  'identity:list_project_tags': action(
    PROJECT_READER,
    ANY_SCOPE,
    'List tags for a project.',
    'GET /v3/projects/{project_id}/tags',
  ),
  'identity:get_project_tag': action(
    PROJECT_READER,
    ANY_SCOPE,
    'Check if project contains a tag.',
    'GET /v3/projects/{project_id}/tags/{value}',
  ),
  'identity:update_project_tags': action(
    PROJECT_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Replace all tags on a project with the new set of tags.',
    'PUT /v3/projects/{project_id}/tags',
  ),
  'identity:create_project_tag': action(
    PROJECT_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Add a single tag to a project.',
    'PUT /v3/projects/{project_id}/tags/{value}',
  ),
  'identity:delete_project_tags': action(
    PROJECT_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Remove all tags from a project.',
    'DELETE /v3/projects/{project_id}/tags',
  ),
  'identity:delete_project_tag': action(
    PROJECT_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Delete a specified tag from project.',
    'DELETE /v3/projects/{project_id}/tags/{value}',
  ),
};

const USER_RULES: PolicyDefaults = {
  'identity:get_user': action(
    '(rule:admin_required) or (role:reader and system_scope:all) or ' +
      '(role:reader and token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s',
    ANY_SCOPE,
    'Show user details.',
    'GET /v3/users/{user_id}',
  ),
  'identity:list_users': action(
    ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER,
    ANY_SCOPE,
    'List users.',
    'GET /v3/users',
  ),
  'identity:list_projects_for_user': action(
    '',
    undefined,
    'List all projects a user has access to via role assignments.',
    'GET /v3/auth/projects',
  ),
  'identity:list_domains_for_user': action(
    '',
    undefined,
    'List all domains a user has access to via role assignments.',
    'GET /v3/auth/domains',
  ),
  'identity:create_user': action(USER_DOMAIN_MANAGER, ANY_SCOPE, 'Create a user.', 'POST /v3/users'),
  'identity:update_user': action(
    USER_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Update a user, including administrative password resets.',
    'PATCH /v3/users/{user_id}',
  ),
  'identity:delete_user': action(
    USER_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Delete a user.',
    'DELETE /v3/users/{user_id}',
  ),
};

const GROUP_RULES: PolicyDefaults = {
  'identity:get_group': action(GROUP_READER, ANY_SCOPE, 'Show group details.', 'GET /v3/groups/{group_id}'),
  'identity:list_groups': action(GROUP_READER, ANY_SCOPE, 'List groups.', 'GET /v3/groups'),
  'identity:list_groups_for_user': action(
    '(rule:admin_required) or (role:reader and system_scope:all) or ' +
      '(role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s',
    ANY_SCOPE,
    'List groups to which a user belongs.',
    'GET /v3/users/{user_id}/groups',
  ),
  'identity:create_group': action(GROUP_DOMAIN_MANAGER, ANY_SCOPE, 'Create group.', 'POST /v3/groups'),
  'identity:update_group': action(
    GROUP_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Update group.',
    'PATCH /v3/groups/{group_id}',
  ),
  'identity:delete_group': action(
    GROUP_DOMAIN_MANAGER,
    ANY_SCOPE,
    'Delete group.',
    'DELETE /v3/groups/{group_id}',
  ),
  'identity:list_users_in_group': action(
    GROUP_READER,
    ANY_SCOPE,
    'List members of a specific group.',
    'GET /v3/groups/{group_id}/users',
  ),
  'identity:remove_user_from_group': action(
    GROUP_MEMBERSHIP_MANAGER,
    ANY_SCOPE,
    'Remove user from group.',
    'DELETE /v3/groups/{group_id}/users/{user_id}',
  ),
  'identity:check_user_in_group': action(
    '(rule:admin_required) or (role:reader and system_scope:all) or ' +
      '(role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)',
    ANY_SCOPE,
    'Check whether a user is a member of a group.',
    'HEAD /v3/groups/{group_id}/users/{user_id}',
    'GET /v3/groups/{group_id}/users/{user_id}',
  ),
  'identity:add_user_to_group': action(
    GROUP_MEMBERSHIP_MANAGER,
    ANY_SCOPE,
    'Add user to group.',
    'PUT /v3/groups/{group_id}/users/{user_id}',
  ),
};

const ROLE_RULES: PolicyDefaults = {
  'identity:get_role': action(
    '(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and rule:domain_managed_target_role)',
    ANY_SCOPE,
    'Show role details.',
    'GET /v3/roles/{role_id}',
  ),
  'identity:list_roles': action(
    '(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and not domain_id:None)',
    ANY_SCOPE,
    'List roles.',
    'GET /v3/roles',
  ),
  'identity:create_role': action(ADMIN, SYSTEM_OR_PROJECT, 'Create role.', 'POST /v3/roles'),
  'identity:update_role': action(ADMIN, SYSTEM_OR_PROJECT, 'Update role.', 'PATCH /v3/roles/{role_id}'),
  'identity:delete_role': action(ADMIN, SYSTEM_OR_PROJECT, 'Delete role.', 'DELETE /v3/roles/{role_id}'),
  'identity:get_domain_role': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'Show domain role.',
    'GET /v3/roles/{role_id}',
  ),
  'identity:list_domain_roles': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'List domain roles.',
    'GET /v3/roles?domain_id={domain_id}',
  ),
  'identity:create_domain_role': action(ADMIN, SYSTEM_OR_PROJECT, 'Create domain role.', 'POST /v3/roles'),
  'identity:update_domain_role': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Update domain role.',
    'PATCH /v3/roles/{role_id}',
  ),
  'identity:delete_domain_role': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Delete domain role.',
    'DELETE /v3/roles/{role_id}',
  ),
};

const IMPLIED_ROLE_RULES: PolicyDefaults = {
  'identity:get_implied_role': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'Get information about an association between two roles.',
    'GET /v3/roles/{prior_role_id}/implies/{implied_role_id}',
  ),
  'identity:list_implied_roles': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'List associations between two roles.',
    'GET /v3/roles/{prior_role_id}/implies',
  ),
  'identity:create_implied_role': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Create an association between two roles.',
    'PUT /v3/roles/{prior_role_id}/implies/{implied_role_id}',
  ),
  'identity:delete_implied_role': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Delete the association between two roles.',
    'DELETE /v3/roles/{prior_role_id}/implies/{implied_role_id}',
  ),
  'identity:list_role_inference_rules': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'List all associations between two roles in the system.',
    'GET /v3/role_inferences',
  ),
  'identity:check_implied_role': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'Check an association between two roles.',
    'HEAD /v3/roles/{prior_role_id}/implies/{implied_role_id}',
  ),
};

const GRANT_RULES: PolicyDefaults = {
  'identity:check_grant': action(
    GRANT_READER,
    ANY_SCOPE,
    'Check a role grant between a target and an actor.',
    'GET /v3/projects/{project_id}/users/{user_id}/roles/{role_id}',
    'GET /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}',
    'GET /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}',
    'GET /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}',
  ),
  'identity:list_grants': action(
    GRANT_LISTER,
    ANY_SCOPE,
    'List roles granted to an actor on a target.',
    'GET /v3/projects/{project_id}/users/{user_id}/roles',
    'GET /v3/projects/{project_id}/groups/{group_id}/roles',
    'GET /v3/domains/{domain_id}/users/{user_id}/roles',
    'GET /v3/domains/{domain_id}/groups/{group_id}/roles',
  ),
  'identity:create_grant': action(
    GRANT_MANAGER,
    ANY_SCOPE,
    'Create a role grant between a target and an actor.',
    'PUT /v3/projects/{project_id}/users/{user_id}/roles/{role_id}',
    'PUT /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}',
    'PUT /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}',
    'PUT /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}',
  ),
  'identity:revoke_grant': action(
    GRANT_MANAGER,
    ANY_SCOPE,
    'Revoke a role grant between a target and an actor.',
    'DELETE /v3/projects/{project_id}/users/{user_id}/roles/{role_id}',
    'DELETE /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}',
    'DELETE /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}',
    'DELETE /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}',
  ),
  'identity:list_system_grants_for_user': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'List all grants a specific user has on the system.',
    'GET /v3/system/users/{user_id}/roles',
  ),
  'identity:check_system_grant_for_user': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'Check if a user has a role on the system.',
    'GET /v3/system/users/{user_id}/roles/{role_id}',
  ),
  'identity:create_system_grant_for_user': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Grant a user a role on the system.',
    'PUT /v3/system/users/{user_id}/roles/{role_id}',
  ),
  'identity:revoke_system_grant_for_user': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Remove a role from a user on the system.',
    'DELETE /v3/system/users/{user_id}/roles/{role_id}',
  ),
  'identity:list_system_grants_for_group': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'List all grants a specific group has on the system.',
    'GET /v3/system/groups/{group_id}/roles',
  ),
  'identity:check_system_grant_for_group': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'Check if a group has a role on the system.',
    'GET /v3/system/groups/{group_id}/roles/{role_id}',
  ),
  'identity:create_system_grant_for_group': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Grant a group a role on the system.',
    'PUT /v3/system/groups/{group_id}/roles/{role_id}',
  ),
  'identity:revoke_system_grant_for_group': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Remove a role from a group on the system.',
    'DELETE /v3/system/groups/{group_id}/roles/{role_id}',
  ),
};

const ROLE_ASSIGNMENT_RULES: PolicyDefaults = {
  'identity:list_role_assignments': action(
    ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER,
    ANY_SCOPE,
    'List role assignments.',
    'GET /v3/role_assignments',
  ),
  'identity:list_role_assignments_for_tree': action(
    ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER,
    ANY_SCOPE,
    'List all role assignments for a given tree of hierarchical projects.',
    'GET /v3/role_assignments?include_subtree',
  ),
};

const CATALOG_RULES: PolicyDefaults = {
  'identity:get_service': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'Show service details.',
    'GET /v3/services/{service_id}',
  ),
  'identity:list_services': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'List services.',
    'GET /v3/services',
  ),
  'identity:create_service': action(ADMIN, SYSTEM_OR_PROJECT, 'Create service.', 'POST /v3/services'),
  'identity:update_service': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Update service.',
    'PATCH /v3/services/{service_id}',
  ),
  'identity:delete_service': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Delete service.',
    'DELETE /v3/services/{service_id}',
  ),
  'identity:get_endpoint': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'Show endpoint details.',
    'GET /v3/endpoints/{endpoint_id}',
  ),
  'identity:list_endpoints': action(
    ADMIN_OR_SYSTEM_READER,
    SYSTEM_OR_PROJECT,
    'List endpoints.',
    'GET /v3/endpoints',
  ),
  'identity:create_endpoint': action(ADMIN, SYSTEM_OR_PROJECT, 'Create endpoint.', 'POST /v3/endpoints'),
  'identity:update_endpoint': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Update endpoint.',
    'PATCH /v3/endpoints/{endpoint_id}',
  ),
  'identity:delete_endpoint': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Delete endpoint.',
    'DELETE /v3/endpoints/{endpoint_id}',
  ),
  'identity:get_region': action('', ANY_SCOPE, 'Show region details.', 'GET /v3/regions/{region_id}'),
  'identity:list_regions': action('', ANY_SCOPE, 'List regions.', 'GET /v3/regions'),
  'identity:create_region': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Create region.',
    'POST /v3/regions',
    'PUT /v3/regions/{region_id}',
  ),
  'identity:update_region': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Update region.',
    'PATCH /v3/regions/{region_id}',
  ),
  'identity:delete_region': action(
    ADMIN,
    SYSTEM_OR_PROJECT,
    'Delete region.',
    'DELETE /v3/regions/{region_id}',
  ),
};

const TOKEN_RULES: PolicyDefaults = {
  'identity:check_token': action(
    'rule:admin_required or (role:reader and system_scope:all) or rule:token_subject',
    ANY_SCOPE,
    'Check a token.',
    'HEAD /v3/auth/tokens',
  ),
  'identity:validate_token': action(
    'rule:admin_required or (role:reader and system_scope:all) or rule:service_role or rule:token_subject',
    ANY_SCOPE,
    'Validate a token.',
    'GET /v3/auth/tokens',
  ),
  'identity:revoke_token': action(
    'rule:admin_required or rule:token_subject',
    ANY_SCOPE,
    'Revoke a token.',
    'DELETE /v3/auth/tokens',
  ),
};

/** Every default rule of the identity service, keyed by Keystone's rule and action names. */
export const IDENTITY_POLICY_DEFAULTS: PolicyDefaults = {
  ...GENERIC_RULES,
  ...APPLICATION_CREDENTIAL_RULES,
  ...AUTH_RULES,
  ...DOMAIN_RULES,
  ...PROJECT_RULES,
  ...USER_RULES,
  ...GROUP_RULES,
  ...ROLE_RULES,
  ...IMPLIED_ROLE_RULES,
  ...GRANT_RULES,
  ...ROLE_ASSIGNMENT_RULES,
  ...CATALOG_RULES,
  ...TOKEN_RULES,
};
