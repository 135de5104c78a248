// Neutron's default policy for networks, subnets and ports (neutron/conf/policies/*.py, the
// project-scoped "secure RBAC" defaults), as data for the shared engine. Action names are
// Neutron's own ("create_network", "get_port:binding:host_id"), so a Neutron policy file
// applies as it is. The generic named rules carry a network_ prefix where Keystone already uses
// the name (owner, admin_or_owner): all services share one rule namespace.
//
// What the routes put in the target (Neutron's policy dict):
//   networks  { project_id, tenant_id, shared, external } of the stored (or requested) network
//   subnets   { project_id, tenant_id, network_project_id, network_shared }
//   ports     { project_id, tenant_id, network_project_id, network_shared, network_device }
//             (network_device: the device_owner starts with "network:", Neutron's network_device)
// Attribute actions ("create_network:shared") are checked only when the request sets the
// attribute, and the get_*:<attribute> ones decide whether a response shows it.
import type { PolicyDefault, PolicyDefaults, ScopeType } from '../../common/policy/enforcer.js';

const PROJECT: readonly ScopeType[] = ['project'];

const ADMIN = 'rule:context_is_admin';
const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
const ADMIN_OR_PROJECT_MEMBER = `${ADMIN} or (${PROJECT_MEMBER})`;
const ADMIN_OR_PROJECT_READER = `${ADMIN} or (${PROJECT_READER})`;
const NETWORK_OWNER_MEMBER = 'role:member and project_id:%(network_project_id)s';
const NETWORK_OWNER_READER = 'role:reader and project_id:%(network_project_id)s';

function action(rule: string, description: string, ...operations: string[]): PolicyDefault {
  return { rule, scopeTypes: PROJECT, description, operations };
}

const adminOnly = (description: string, ...operations: string[]) => action(ADMIN, description, ...operations);

const NETWORKS = '/v2.0/networks';
const SUBNETS = '/v2.0/subnets';
const PORTS = '/v2.0/ports';

export const CORE_POLICY_DEFAULTS: PolicyDefaults = {
  context_is_admin: { rule: 'role:admin' },
  network_admin_only: { rule: ADMIN },
  network_shared: { rule: 'True:%(network_shared)s' },
  network_owner_member: { rule: NETWORK_OWNER_MEMBER },

  create_network: action(ADMIN_OR_PROJECT_MEMBER, 'Create a network.', `POST ${NETWORKS}`),
  'create_network:shared': adminOnly('Create a shared network.', `POST ${NETWORKS}`),
  'create_network:router:external': adminOnly('Create an external network.', `POST ${NETWORKS}`),
  'create_network:port_security_enabled': action(
    ADMIN_OR_PROJECT_MEMBER,
    'Set port_security_enabled when creating a network.',
    `POST ${NETWORKS}`,
  ),
  'create_network:provider:network_type': adminOnly('Set provider:network_type.', `POST ${NETWORKS}`),
  'create_network:provider:physical_network': adminOnly('Set provider:physical_network.', `POST ${NETWORKS}`),
  'create_network:provider:segmentation_id': adminOnly('Set provider:segmentation_id.', `POST ${NETWORKS}`),
  get_network: action(
    `${ADMIN_OR_PROJECT_READER} or True:%(shared)s or True:%(external)s`,
    'Show a network: its own project, a shared or an external one.',
    `GET ${NETWORKS}`,
    `GET ${NETWORKS}/{id}`,
  ),
  'get_network:router:external': action('', 'See router:external.', `GET ${NETWORKS}`),
  'get_network:provider:network_type': adminOnly('See provider:network_type.', `GET ${NETWORKS}`),
  'get_network:provider:physical_network': adminOnly('See provider:physical_network.', `GET ${NETWORKS}`),
  'get_network:provider:segmentation_id': adminOnly('See provider:segmentation_id.', `GET ${NETWORKS}`),
  update_network: action(ADMIN_OR_PROJECT_MEMBER, 'Update a network.', `PUT ${NETWORKS}/{id}`),
  'update_network:shared': adminOnly('Share or unshare a network.', `PUT ${NETWORKS}/{id}`),
  'update_network:router:external': adminOnly('Change router:external.', `PUT ${NETWORKS}/{id}`),
  'update_network:port_security_enabled': action(
    ADMIN_OR_PROJECT_MEMBER,
    'Change port_security_enabled.',
    `PUT ${NETWORKS}/{id}`,
  ),
  'update_network:provider:network_type': adminOnly('Change provider:network_type.', `PUT ${NETWORKS}/{id}`),
  'update_network:provider:physical_network': adminOnly(
    'Change provider:physical_network.',
    `PUT ${NETWORKS}/{id}`,
  ),
  'update_network:provider:segmentation_id': adminOnly(
    'Change provider:segmentation_id.',
    `PUT ${NETWORKS}/{id}`,
  ),
  delete_network: action(ADMIN_OR_PROJECT_MEMBER, 'Delete a network.', `DELETE ${NETWORKS}/{id}`),

  create_subnet: action(
    `${ADMIN} or rule:network_owner_member`,
    "Create a subnet on one's own network.",
    `POST ${SUBNETS}`,
  ),
  get_subnet: action(
    `${ADMIN_OR_PROJECT_READER} or (${NETWORK_OWNER_READER}) or rule:network_shared`,
    "Show a subnet: one's own, or one of a network one owns or that is shared (not merely external).",
    `GET ${SUBNETS}`,
    `GET ${SUBNETS}/{id}`,
  ),
  update_subnet: action(
    `${ADMIN_OR_PROJECT_MEMBER} or rule:network_owner_member`,
    'Update a subnet.',
    `PUT ${SUBNETS}/{id}`,
  ),
  delete_subnet: action(
    `${ADMIN_OR_PROJECT_MEMBER} or rule:network_owner_member`,
    'Delete a subnet.',
    `DELETE ${SUBNETS}/{id}`,
  ),

  create_port: action(ADMIN_OR_PROJECT_MEMBER, 'Create a port.', `POST ${PORTS}`),
  'create_port:device_owner': action(
    `(not True:%(network_device)s) or ${ADMIN} or rule:network_owner_member`,
    'Set a network device owner on a port.',
    `POST ${PORTS}`,
  ),
  'create_port:mac_address': action(
    `${ADMIN} or rule:network_owner_member`,
    'Choose the MAC.',
    `POST ${PORTS}`,
  ),
  'create_port:fixed_ips:ip_address': action(
    `${ADMIN} or rule:network_owner_member`,
    'Choose the IP address.',
    `POST ${PORTS}`,
  ),
  'create_port:fixed_ips:subnet_id': action(
    `${ADMIN} or rule:network_owner_member or rule:network_shared`,
    'Choose the subnet.',
    `POST ${PORTS}`,
  ),
  'create_port:port_security_enabled': action(
    `${ADMIN} or rule:network_owner_member`,
    'Set port_security_enabled.',
    `POST ${PORTS}`,
  ),
  'create_port:binding:host_id': adminOnly('Bind a port to a host.', `POST ${PORTS}`),
  'create_port:binding:profile': adminOnly('Set binding:profile.', `POST ${PORTS}`),
  'create_port:allowed_address_pairs': action(
    `${ADMIN} or rule:network_owner_member`,
    'Set allowed address pairs.',
    `POST ${PORTS}`,
  ),
  get_port: action(
    `${ADMIN_OR_PROJECT_READER} or (${NETWORK_OWNER_READER})`,
    "Show a port: one's own, or one on a network one owns.",
    `GET ${PORTS}`,
    `GET ${PORTS}/{id}`,
  ),
  'get_port:binding:vif_type': adminOnly('See binding:vif_type.', `GET ${PORTS}`),
  'get_port:binding:vif_details': adminOnly('See binding:vif_details.', `GET ${PORTS}`),
  'get_port:binding:host_id': adminOnly('See binding:host_id.', `GET ${PORTS}`),
  'get_port:binding:profile': adminOnly('See binding:profile.', `GET ${PORTS}`),
  update_port: action(
    `${ADMIN_OR_PROJECT_MEMBER} or rule:network_owner_member`,
    'Update a port.',
    `PUT ${PORTS}/{id}`,
  ),
  'update_port:device_owner': action(
    `(not True:%(network_device)s) or ${ADMIN} or rule:network_owner_member`,
    'Set a network device owner on a port.',
    `PUT ${PORTS}/{id}`,
  ),
  'update_port:mac_address': adminOnly('Change the MAC.', `PUT ${PORTS}/{id}`),
  'update_port:fixed_ips:ip_address': action(
    `${ADMIN} or rule:network_owner_member`,
    'Choose the IP address.',
    `PUT ${PORTS}/{id}`,
  ),
  'update_port:fixed_ips:subnet_id': action(
    `${ADMIN} or rule:network_owner_member or rule:network_shared`,
    'Choose the subnet.',
    `PUT ${PORTS}/{id}`,
  ),
  'update_port:port_security_enabled': action(
    `${ADMIN} or rule:network_owner_member`,
    'Change port_security_enabled.',
    `PUT ${PORTS}/{id}`,
  ),
  'update_port:binding:host_id': adminOnly('Bind a port to a host.', `PUT ${PORTS}/{id}`),
  'update_port:binding:profile': adminOnly('Change binding:profile.', `PUT ${PORTS}/{id}`),
  'update_port:allowed_address_pairs': action(
    `${ADMIN} or rule:network_owner_member`,
    'Change allowed address pairs.',
    `PUT ${PORTS}/{id}`,
  ),
  delete_port: action(
    `${ADMIN_OR_PROJECT_MEMBER} or rule:network_owner_member`,
    'Delete a port.',
    `DELETE ${PORTS}/{id}`,
  ),
};
