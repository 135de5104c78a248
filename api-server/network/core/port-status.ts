// Port status from the data plane: a node agent that has wired a port (or unwired it) says so
// over the bus with Neutron's plugin RPC, update_device_up / update_device_down on the
// `q-plugin` topic, naming the port and its host. The port turns ACTIVE or DOWN when it is
// bound to that host; the change goes through the outbox like any other.
import { randomUUID } from 'node:crypto';
import type { Subscription } from '../../../lib/bus/types.js';
import { isoNow } from '../../../lib/db/columns.js';
import { recordChange } from './outbox.js';
import type { CoreService } from './service.js';
import { write } from './service.js';
import { findPort, updatePortRow } from './store.js';

/** Neutron's topic for RPC from agents to the plugin. */
export const PLUGIN_TOPIC = 'q-plugin';

interface DeviceReport {
  device?: unknown;
  host?: unknown;
}

/**
 * Sets the port's status when it is bound to `host`; true when the port exists there. A
 * report for a port bound elsewhere (it moved meanwhile) changes nothing.
 */
export async function reportPortStatus(
  service: CoreService,
  portId: string,
  host: string,
  status: 'ACTIVE' | 'DOWN',
): Promise<boolean> {
  return write(service, async (trx) => {
    const port = await findPort(trx, portId);
    if (!port || port.bindingHostId !== host) return false;
    if (port.status === status) return true;
    await updatePortRow(trx, {
      ...port,
      status,
      updatedAt: isoNow(),
      revisionNumber: port.revisionNumber + 1,
    });
    await recordChange(trx, {
      kind: 'port',
      action: 'update',
      id: port.id,
      projectId: port.projectId,
      hosts: [host],
    });
    return true;
  });
}

/** Serves the plugin RPC the node agents call, until the subscription closes. */
export function servePortStatus(service: CoreService): Promise<Subscription> {
  const handler = (status: 'ACTIVE' | 'DOWN') => async (args: DeviceReport) => {
    if (typeof args.device !== 'string' || typeof args.host !== 'string') return { found: false };
    return { found: await reportPortStatus(service, args.device, args.host, status) };
  };
  return service.bus.serve(
    { topic: PLUGIN_TOPIC, server: `api-${randomUUID()}` },
    { update_device_up: handler('ACTIVE'), update_device_down: handler('DOWN') },
  );
}
