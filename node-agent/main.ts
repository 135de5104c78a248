// The node-agent process. At this stage it joins the bus under its host name and answers
// `ping`, the liveness RPC the api-server uses to tell which nodes are reachable, and sends the
// network agents' heartbeats (heartbeat.ts); the hypervisor, switch, router and DHCP drivers
// arrive with the compute and network services.
import { hostname } from 'node:os';
import type { MessageBus, Subscription } from '../lib/bus/types.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { startHeartbeats } from './heartbeat.js';

/** The RPC topic every node-agent serves; per-host calls go to `node-agent.<host>`. */
export const NODE_AGENT_TOPIC = 'node-agent';

export interface PingReply {
  host: string;
  hostname: string;
  startedAt: string;
  uptimeSeconds: number;
}

export interface RunningNodeAgent {
  host: string;
  close(): Promise<void>;
}

export async function startNodeAgent(
  config: Config,
  bus: MessageBus,
  log: Logger,
): Promise<RunningNodeAgent> {
  const host = config.node.host;
  const startedAt = new Date();
  const subscription: Subscription = await bus.serve(
    { topic: NODE_AGENT_TOPIC, server: host },
    {
      ping: async (): Promise<PingReply> => ({
        host,
        hostname: hostname(),
        startedAt: startedAt.toISOString(),
        uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
      }),
    },
  );
  const heartbeats = startHeartbeats(bus, host, config.node.heartbeatIntervalMs, startedAt, log);
  log.info({ host, topic: NODE_AGENT_TOPIC }, 'node-agent serving');
  return {
    host,
    close: () => {
      heartbeats.stop();
      return subscription.close();
    },
  };
}
