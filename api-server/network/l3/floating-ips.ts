// Floating IP logic: an address of an external network held by a port of its own
// (device_owner network:floatingip), and its association with an internal port's fixed IP,
// allowed only where a router connects that port's subnet to the external network. Everything
// here runs inside the caller's transaction and records the changes for the data plane.
import type { Transaction } from 'kysely';
import { isoNow } from '../../../lib/db/columns.js';
import { isUniqueViolation } from '../../../lib/db/errors.js';
import { BadRequest, Conflict, NotFound } from '../../common/errors.js';
import { recordChange } from '../core/outbox.js';
import { deletePortRow, type PortRecord } from '../core/store.js';
import { asCore } from './service.js';
import { deleteFloatingIpRow, type FloatingIpRecord, routersOnSubnet, updateFloatingIpRow } from './store.js';
import type { L3Db } from './tables.js';

type Trx = Transaction<L3Db>;

export const FLOATING_IP_OWNER = 'network:floatingip';

/** Neutron's BadRequest(resource='floatingip'): "Bad floatingip request: <reason>." */
export function badFloatingIpRequest(reason: string): BadRequest {
  return new BadRequest(`Bad floatingip request: ${reason}.`, 'BadRequest');
}

/** The port's address the floating IP is to translate: the one named, or its only IPv4 one. */
function fixedAddressOf(
  port: PortRecord,
  requested: string | undefined,
): { subnetId: string; address: string } {
  if (requested !== undefined) {
    const fixed = port.fixedIps.find((candidate) => candidate.ip_address === requested);
    if (!fixed) throw badFloatingIpRequest(`Port ${port.id} does not have fixed ip ${requested}`);
    if (fixed.ip_address.includes(':')) {
      throw badFloatingIpRequest(
        `Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`,
      );
    }
    return { subnetId: fixed.subnet_id, address: fixed.ip_address };
  }
  const v4 = port.fixedIps.filter((fixed) => !fixed.ip_address.includes(':'));
  if (v4.length === 0) {
    throw badFloatingIpRequest(`Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`);
  }
  if (v4.length > 1) {
    throw badFloatingIpRequest(
      `Port ${port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`,
    );
  }
  return { subnetId: v4[0]!.subnet_id, address: v4[0]!.ip_address };
}

function alreadyAssociated(floatingIp: FloatingIpRecord, portId: string, address: string): Conflict {
  return new Conflict(
    `Cannot associate floating IP ${floatingIp.floatingIpAddress} (${floatingIp.id}) with port ${portId} using fixed IP ${address}, as that fixed IP already has a floating IP on external network ${floatingIp.floatingNetworkId}.`,
    'FloatingIPPortAlreadyAssociated',
  );
}

/**
 * Associates the floating IP with `port` (visible to the caller; the route checks that), through
 * the router that has an interface on the port's subnet and its gateway on the floating IP's
 * network: 404 ExternalGatewayForFloatingIPNotFound when there is none.
 */
export async function associate(
  trx: Trx,
  floatingIp: FloatingIpRecord,
  port: PortRecord,
  requestedAddress: string | undefined,
): Promise<FloatingIpRecord> {
  if (port.networkId === floatingIp.floatingNetworkId) {
    throw badFloatingIpRequest(
      `Port ${port.id} is on the external network ${floatingIp.floatingNetworkId}: it cannot have a floating IP of it`,
    );
  }
  const { subnetId, address } = fixedAddressOf(port, requestedAddress);
  const router = (await routersOnSubnet(trx, subnetId)).find(
    (candidate) => candidate.gatewayNetworkId === floatingIp.floatingNetworkId,
  );
  if (!router) {
    throw new NotFound(
      `External network ${floatingIp.floatingNetworkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`,
      'ExternalGatewayForFloatingIPNotFound',
    );
  }
  const other = await trx
    .selectFrom('network_floating_ip')
    .select('id')
    .where('floating_network_id', '=', floatingIp.floatingNetworkId)
    .where('fixed_port_id', '=', port.id)
    .where('fixed_ip_address', '=', address)
    .where('id', '!=', floatingIp.id)
    .executeTakeFirst();
  if (other) throw alreadyAssociated(floatingIp, port.id, address);
  const updated: FloatingIpRecord = {
    ...floatingIp,
    fixedPortId: port.id,
    fixedIpAddress: address,
    routerId: router.id,
    updatedAt: isoNow(),
    revisionNumber: floatingIp.revisionNumber + 1,
  };
  try {
    await updateFloatingIpRow(trx, updated);
  } catch (err) {
    // Another request associated a floating IP with the same address in the meantime.
    if (isUniqueViolation(err)) throw alreadyAssociated(floatingIp, port.id, address);
    throw err;
  }
  await recordFloatingIpChange(trx, updated, 'update', [port.bindingHostId]);
  return updated;
}

export async function disassociate(trx: Trx, floatingIp: FloatingIpRecord): Promise<FloatingIpRecord> {
  if (floatingIp.fixedPortId === null) return floatingIp;
  const updated: FloatingIpRecord = {
    ...floatingIp,
    fixedPortId: null,
    fixedIpAddress: null,
    routerId: null,
    updatedAt: isoNow(),
    revisionNumber: floatingIp.revisionNumber + 1,
  };
  await updateFloatingIpRow(trx, updated);
  // The message names the router that had the NAT rules, so its node can remove them.
  await recordFloatingIpChange(trx, { ...updated, routerId: floatingIp.routerId }, 'update');
  return updated;
}

/** Deletes a floating IP and the port holding its address, which returns to the pool. */
export async function releaseFloatingIp(trx: Trx, floatingIp: FloatingIpRecord): Promise<void> {
  await deleteFloatingIpRow(trx, floatingIp.id);
  // The address goes back to the pool with the port's IPAM row.
  await deletePortRow(asCore(trx), floatingIp.floatingPortId);
  await recordChange(asCore(trx), {
    kind: 'port',
    action: 'delete',
    id: floatingIp.floatingPortId,
    projectId: '',
  });
  await recordFloatingIpChange(trx, floatingIp, 'delete');
}

export async function recordFloatingIpChange(
  trx: Trx,
  floatingIp: FloatingIpRecord,
  action: 'create' | 'update' | 'delete',
  hosts: string[] = [],
): Promise<void> {
  await recordChange(asCore(trx), {
    kind: 'floatingip',
    action,
    id: floatingIp.id,
    projectId: floatingIp.projectId,
    ...(floatingIp.routerId !== null ? { routerId: floatingIp.routerId } : {}),
    hosts,
  });
}
