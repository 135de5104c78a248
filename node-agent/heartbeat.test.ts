// The node agent's heartbeats reach whoever serves the heartbeat topic, at once and then on
// every interval, and stop when asked.
import { afterEach, describe, expect, it } from 'vitest';
import { createBus } from '../lib/bus/index.js';
import type { MessageBus } from '../lib/bus/types.js';
import { createLogger } from '../lib/log.js';
import { AGENT_HEARTBEAT_TOPIC } from '../lib/messages/agent-heartbeat.js';
import { startHeartbeats } from './heartbeat.js';

let bus: MessageBus | undefined;
afterEach(async () => bus?.close());

describe('agent heartbeats', () => {
  it('reports the host switch, DHCP and L3 agents on every beat until stopped', async () => {
    const log = createLogger('test', 'silent');
    bus = await createBus('memory://heartbeat-test', { log });
    const received: { agents: { agent_type: string; host: string }[] }[] = [];
    await bus.serve(
      { topic: AGENT_HEARTBEAT_TOPIC, server: 'api-1' },
      { report_state: async (args: (typeof received)[number]) => void received.push(args) },
    );
    const heartbeats = startHeartbeats(bus, 'compute-7', 30, new Date(), log);
    await new Promise((resolve) => setTimeout(resolve, 100));
    heartbeats.stop();
    const count = received.length;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(received[0]!.agents.map((agent) => agent.agent_type).sort()).toEqual([
      'DHCP agent',
      'L3 agent',
      'Open vSwitch agent',
    ]);
    expect(received[0]!.agents.every((agent) => agent.host === 'compute-7')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(received.length).toBe(count);
  });
});
