// Neutron's default policy for routers and floating IPs (neutron/conf/policies/router.py and
// floatingip.py, the project-scoped "secure RBAC" defaults), as data for the shared engine.
// Action names are Neutron's own, so a Neutron policy file applies as it is. What the routes put
// in the target: { project_id, tenant_id } of the router or floating IP. Attribute actions
// ("create_router:external_gateway_info:enable_snat") are checked only when the request sets
// the attribute. A GET that policy refuses answers 404, as Neutron does.
import type { PolicyDefault, PolicyDefaults, ScopeType } from '../../common/policy/enforcer.js';

const PROJECT: readonly ScopeType[] = ['project'];

const ADMIN = 'rule:context_is_admin';
const ADMIN_OR_PROJECT_MEMBER = `${ADMIN} or (role:member and project_id:%(project_id)s)`;
const ADMIN_OR_PROJECT_READER = `${ADMIN} or (role:reader and project_id:%(project_id)s)`;

function action(rule: string, description: string, ...operations: string[]): PolicyDefault {
  return { rule, scopeTypes: PROJECT, description, operations };
}

const ROUTERS = '/v2.0/routers';
const FLOATING_IPS = '/v2.0/floatingips';

/** The create_router / update_router rules, with the gateway attributes only admins may set. */
function routerWrites(verb: 'create' | 'update', operation: string): PolicyDefaults {
  const name = `${verb}_router`;
  return {
    [name]: action(ADMIN_OR_PROJECT_MEMBER, `${verb} a router.`, operation),
    [`${name}:external_gateway_info`]: action(
      ADMIN_OR_PROJECT_MEMBER,
      `${verb} a router with an external gateway.`,
      operation,
    ),
    [`${name}:external_gateway_info:network_id`]: action(
      ADMIN_OR_PROJECT_MEMBER,
      "Choose the gateway's external network.",
      operation,
    ),
    [`${name}:external_gateway_info:enable_snat`]: action(
      ADMIN,
      'Choose whether the gateway does SNAT.',
      operation,
    ),
    [`${name}:external_gateway_info:external_fixed_ips`]: action(
      ADMIN,
      "Choose the gateway's external addresses.",
      operation,
    ),
  };
}

export const L3_POLICY_DEFAULTS: PolicyDefaults = {
  ...routerWrites('create', `POST ${ROUTERS}`),
  ...routerWrites('update', `PUT ${ROUTERS}/{id}`),
  get_router: action(ADMIN_OR_PROJECT_READER, 'Get a router.', `GET ${ROUTERS}`, `GET ${ROUTERS}/{id}`),
  delete_router: action(ADMIN_OR_PROJECT_MEMBER, 'Delete a router.', `DELETE ${ROUTERS}/{id}`),
  add_router_interface: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Add an interface to a router.',
    `PUT ${ROUTERS}/{id}/add_router_interface`,
  ),
  remove_router_interface: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Remove an interface from a router.',
    `PUT ${ROUTERS}/{id}/remove_router_interface`,
  ),

  create_floatingip: action(ADMIN_OR_PROJECT_MEMBER, 'Create a floating IP.', `POST ${FLOATING_IPS}`),
  'create_floatingip:floating_ip_address': action(
    ADMIN,
    'Create a floating IP with a chosen address.',
    `POST ${FLOATING_IPS}`,
  ),
  get_floatingip: action(
    ADMIN_OR_PROJECT_READER,
    'Get a floating IP.',
    `GET ${FLOATING_IPS}`,
    `GET ${FLOATING_IPS}/{id}`,
  ),
  update_floatingip: action(ADMIN_OR_PROJECT_MEMBER, 'Update a floating IP.', `PUT ${FLOATING_IPS}/{id}`),
  delete_floatingip: action(ADMIN_OR_PROJECT_MEMBER, 'Delete a floating IP.', `DELETE ${FLOATING_IPS}/{id}`),
};
