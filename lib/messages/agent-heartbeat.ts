// The heartbeat a node agent sends for each network agent it runs on its host, and which every
// api-server records for GET /v2.0/agents: the message both programs agree on. Sent as a fanout
// `report_state` on AGENT_HEARTBEAT_TOPIC every config.node.heartbeatIntervalMs.
export const AGENT_HEARTBEAT_TOPIC = 'network-agent-heartbeats';

/** What a node agent reports for each agent it runs (Neutron's agent_state). */
export interface AgentHeartbeat {
  agent_type: string;
  binary: string;
  host: string;
  topic: string;
  availability_zone?: string | null;
  configurations?: Record<string, unknown>;
  /** When the reporting process started (ISO 8601). */
  started_at?: string;
}

const AGENT_TYPES = new Set(['Open vSwitch agent', 'DHCP agent', 'L3 agent', 'Metadata agent']);

/** Whether a message off the bus is a heartbeat this service can record. */
export function isAgentHeartbeat(value: unknown): value is AgentHeartbeat {
  if (value === null || typeof value !== 'object') return false;
  const beat = value as Record<string, unknown>;
  return (
    typeof beat.agent_type === 'string' &&
    AGENT_TYPES.has(beat.agent_type) &&
    typeof beat.binary === 'string' &&
    beat.binary.length <= 64 &&
    typeof beat.host === 'string' &&
    beat.host.length > 0 &&
    beat.host.length <= 255 &&
    typeof beat.topic === 'string' &&
    beat.topic.length <= 64
  );
}
