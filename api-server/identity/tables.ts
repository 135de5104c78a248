// Row shapes of the identity tables (see migrations.ts). Booleans are 0/1 and timestamps ISO
// strings in the database; store.ts converts them at the edge.
export interface IdentityTables {
  identity_domain: {
    id: string;
    name: string;
    description: string | null;
    enabled: number;
    extra: string;
    created_at: string;
  };
  identity_project: {
    id: string;
    name: string;
    domain_id: string;
    parent_id: string | null;
    description: string | null;
    enabled: number;
    extra: string;
    created_at: string;
  };
  identity_project_tag: { project_id: string; name: string };
  identity_user: {
    id: string;
    name: string;
    domain_id: string;
    enabled: number;
    default_project_id: string | null;
    password_hash: string | null;
    password_created_at: string | null;
    extra: string;
    created_at: string;
  };
  identity_group: { id: string; name: string; domain_id: string; description: string | null; extra: string };
  identity_group_membership: { group_id: string; user_id: string };
  identity_role: { id: string; name: string; domain_id: string; description: string | null; extra: string };
  identity_implied_role: { prior_role_id: string; implied_role_id: string };
  identity_assignment: {
    type: AssignmentType;
    actor_id: string;
    target_id: string;
    role_id: string;
    inherited: number;
  };
  identity_region: { id: string; description: string | null; parent_region_id: string | null; extra: string };
  identity_service: {
    id: string;
    type: string;
    name: string | null;
    description: string | null;
    enabled: number;
    extra: string;
  };
  identity_endpoint: {
    id: string;
    service_id: string;
    interface: string;
    region_id: string | null;
    url: string;
    enabled: number;
    extra: string;
  };
  identity_application_credential: {
    id: string;
    name: string;
    user_id: string;
    project_id: string;
    secret_hash: string;
    description: string | null;
    expires_at: string | null;
    unrestricted: number;
    role_ids: string;
    created_at: string;
  };
  identity_revocation_event: {
    id: string;
    audit_id: string | null;
    audit_chain_id: string | null;
    user_id: string | null;
    project_id: string | null;
    domain_id: string | null;
    issued_before: string;
    revoked_at: string;
  };
}

export type AssignmentType =
  | 'UserProject'
  | 'GroupProject'
  | 'UserDomain'
  | 'GroupDomain'
  | 'UserSystem'
  | 'GroupSystem';

/** domain_id of roles that belong to no domain (Keystone's own sentinel for the same reason). */
export const GLOBAL_ROLE_DOMAIN = '<<null>>';
/** target_id of system-scoped assignments. */
export const SYSTEM_TARGET = 'system';
/** The domain every deployment starts with; its id is the literal "default", as in Keystone. */
export const DEFAULT_DOMAIN_ID = 'default';
