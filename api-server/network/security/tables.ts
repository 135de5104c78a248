// Row shapes of the security area's tables (see migrations.ts). Booleans are 0/1, timestamps
// ISO strings; store functions convert rows to API views at the edge.
export interface SecurityTables {
  network_security_group: {
    id: string;
    project_id: string;
    name: string;
    description: string;
    stateful: number;
    revision_number: number;
    created_at: string;
    updated_at: string;
  };
  /** Which group is a project's `default` one: one row per project, so two racing creators cannot both win. */
  network_default_security_group: { project_id: string; security_group_id: string };
  network_security_group_rule: {
    id: string;
    security_group_id: string;
    project_id: string;
    direction: string;
    ethertype: string;
    protocol: string | null;
    port_range_min: number | null;
    port_range_max: number | null;
    remote_ip_prefix: string | null;
    remote_group_id: string | null;
    description: string;
    revision_number: number;
    created_at: string;
    updated_at: string;
  };
  /** Only the limits a project was given explicitly; the rest come from the defaults. */
  network_quota: { project_id: string; resource: string; hard_limit: number };
  network_agent: {
    id: string;
    agent_type: string;
    binary: string;
    host: string;
    topic: string;
    availability_zone: string | null;
    admin_state_up: number;
    configurations: string;
    description: string | null;
    created_at: string;
    started_at: string;
    heartbeat_at: string;
  };
  network_rbac_policy: {
    id: string;
    project_id: string;
    object_type: string;
    object_id: string;
    action: string;
    target_tenant: string;
  };
}
