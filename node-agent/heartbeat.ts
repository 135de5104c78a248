// The node agent's heartbeat: every config.node.heartbeatIntervalMs it tells every api-server
// (a fanout, so a missing api-server is not an error and nothing piles up) which network agents
// run on this host. The api-server's GET /v2.0/agents shows them, alive while heartbeats keep
// coming (lib/messages/agent-heartbeat.ts is the message's shape).

import type { MessageBus } from '../lib/bus/types.js';
import type { Logger } from '../lib/log.js';
import { AGENT_HEARTBEAT_TOPIC, type AgentHeartbeat } from '../lib/messages/agent-heartbeat.js';

/**
 * The agents a node agent stands for, as Neutron names them: it is the host's switch agent, and
 * the DHCP and L3 agent of the networks and routers scheduled to it.
 */
function hostAgents(host: string, startedAt: string): AgentHeartbeat[] {
  const agent = (agent_type: string, topic: string): AgentHeartbeat => ({
    agent_type,
    binary: 'overcast-node-agent',
    host,
    topic,
    availability_zone: agent_type === 'Open vSwitch agent' ? null : 'nova',
    configurations: {},
    started_at: startedAt,
  });
  return [
    agent('Open vSwitch agent', 'N/A'),
    agent('DHCP agent', 'dhcp_agent'),
    agent('L3 agent', 'l3_agent'),
  ];
}

export interface Heartbeats {
  stop(): void;
}

/** Sends a heartbeat now and then every `intervalMs` until stopped; a failed one is logged and the next tried. */
export function startHeartbeats(
  bus: MessageBus,
  host: string,
  intervalMs: number,
  startedAt: Date,
  log: Logger,
): Heartbeats {
  const agents = hostAgents(host, startedAt.toISOString());
  const beat = () => {
    bus.fanout(AGENT_HEARTBEAT_TOPIC, 'report_state', { agents }).catch((err: unknown) => {
      log.warn({ err, topic: AGENT_HEARTBEAT_TOPIC }, 'agent heartbeat not sent');
    });
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  return { stop: () => clearInterval(timer) };
}
