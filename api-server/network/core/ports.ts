// Port logic shared by the port and subnet routes: MAC addresses, fixed IPs through IPAM, and
// the DHCP port a network gets for its DHCP-enabled subnets. Everything here runs inside the
// caller's transaction.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { isoNow } from '../../../lib/db/columns.js';
import { isUniqueViolation } from '../../../lib/db/errors.js';
import { cidrContains, parseAddress } from '../../../lib/net/addresses.js';
import { BadRequest, Conflict } from '../../common/errors.js';
import { parseCidrAttribute } from './addresses.js';
import { type Ipam, ipAddressGenerationFailure, releaseAddress } from './ipam.js';
import { recordChange } from './outbox.js';
import {
  type FixedIp,
  insertPort,
  type NetworkRecord,
  type PortRecord,
  portsOfNetwork,
  type SubnetRecord,
  subnetsOfNetwork,
  updatePortRow,
} from './store.js';
import type { CoreTables } from './tables.js';

type Trx = Transaction<CoreTables>;

export const DHCP_OWNER = 'network:dhcp';

/**
 * Runs inside the transaction of a DELETE /v2.0/ports before the row goes: throws to refuse
 * (a router's or a floating IP's own port), or tidies what refers to the port (a floating IP
 * associated with it). Other areas register these, so the core never reads their tables.
 */
export type PortDeletionHook = (trx: Trx, port: PortRecord) => Promise<void>;

const portDeletionHooks = new Set<PortDeletionHook>();

/** Adds a hook every port deletion through the port API runs (once per hook, process-wide). */
export function registerPortDeletionHook(hook: PortDeletionHook): void {
  portDeletionHooks.add(hook);
}

export async function runPortDeletionHooks(trx: Trx, port: PortRecord): Promise<void> {
  for (const hook of portDeletionHooks) await hook(trx, port);
}

/**
 * Runs inside the transaction of a DELETE /v2.0/networks before its ports are checked for use:
 * other areas remove what of theirs goes with the network (Neutron releases the network's
 * floating IPs that no port uses), so their ports do not keep the network in use.
 */
export type NetworkDeletionHook = (trx: Trx, networkId: string) => Promise<void>;

const networkDeletionHooks = new Set<NetworkDeletionHook>();

/** Adds a hook every network deletion runs (once per hook, process-wide). */
export function registerNetworkDeletionHook(hook: NetworkDeletionHook): void {
  networkDeletionHooks.add(hook);
}

export async function runNetworkDeletionHooks(trx: Trx, networkId: string): Promise<void> {
  for (const hook of networkDeletionHooks) await hook(trx, networkId);
}

/** A MAC from base_mac: its non-zero octets kept (the OUI), the others random. */
export function generateMac(baseMac: string): string {
  const base = baseMac.toLowerCase().split(':');
  const random = randomBytes(6);
  return base
    .map((octet, index) => (octet === '00' ? random[index]!.toString(16).padStart(2, '0') : octet))
    .join(':');
}

const MAC = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/;

export function checkMac(value: unknown, attribute = 'mac_address'): string {
  if (typeof value !== 'string' || !MAC.test(value)) {
    throw new BadRequest(
      `Invalid input for ${attribute}. Reason: '${String(value)}' is not a valid MAC address.`,
    );
  }
  const mac = value.toLowerCase().replaceAll('-', ':');
  if ((Number.parseInt(mac.slice(0, 2), 16) & 1) === 1) {
    throw new BadRequest(
      `Invalid input for ${attribute}. Reason: '${value}' is not a valid unicast MAC address.`,
    );
  }
  return mac;
}

/** A requested fixed IP: by subnet, by address, or both. */
export interface FixedIpRequest {
  subnetId?: string;
  ipAddress?: string;
}

export function readFixedIps(value: unknown): FixedIpRequest[] {
  if (!Array.isArray(value)) {
    throw new BadRequest(
      `Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '${JSON.stringify(value)}'.`,
    );
  }
  return value.map((entry) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new BadRequest(
        `Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '${JSON.stringify(entry)}'.`,
      );
    }
    const { subnet_id: subnetId, ip_address: ipAddress, ...rest } = entry as Record<string, unknown>;
    if (Object.keys(rest).length > 0) {
      throw new BadRequest(
        `Invalid input for fixed_ips. Reason: Unrecognized attribute(s) '${Object.keys(rest).join(', ')}'.`,
      );
    }
    if (subnetId !== undefined && typeof subnetId !== 'string') {
      throw new BadRequest(`Invalid input for fixed_ips. Reason: '${String(subnetId)}' is not a valid UUID.`);
    }
    if (ipAddress !== undefined && (typeof ipAddress !== 'string' || !parseAddress(ipAddress))) {
      throw new BadRequest(
        `Invalid input for fixed_ips. Reason: '${String(ipAddress)}' is not a valid IP address.`,
      );
    }
    if (subnetId === undefined && ipAddress === undefined) {
      throw new BadRequest('Invalid input for fixed_ips. Reason: a fixed IP needs subnet_id or ip_address.');
    }
    return { ...(subnetId !== undefined && { subnetId }), ...(ipAddress !== undefined && { ipAddress }) };
  });
}

/** The subnet of the network a requested fixed IP means (400 when it names none of them). */
function subnetFor(
  network: NetworkRecord,
  subnets: readonly SubnetRecord[],
  request: FixedIpRequest,
): SubnetRecord {
  if (request.subnetId !== undefined) {
    const subnet = subnets.find((candidate) => candidate.id === request.subnetId);
    if (!subnet) {
      throw new BadRequest(
        `Invalid input for operation: Failed to create port on network ${network.id}, because fixed_ips included invalid subnet ${request.subnetId}.`,
        'InvalidInput',
      );
    }
    return subnet;
  }
  const address = parseAddress(request.ipAddress!)!;
  const subnet = subnets.find(
    (candidate) =>
      candidate.ipVersion === address.version &&
      cidrContains(parseCidrAttribute(candidate.cidr), address.value),
  );
  if (!subnet) {
    throw new BadRequest(
      `Invalid input for operation: IP address ${request.ipAddress} is not a valid IP for any of the subnets on network ${network.id}.`,
      'InvalidIpForNetwork',
    );
  }
  return subnet;
}

/**
 * Allocates the port's addresses: those requested, or by default one from the first IPv4
 * subnet with a free address and one from each IPv6 subnet.
 */
export async function allocateFixedIps(
  trx: Trx,
  ipam: Ipam,
  network: NetworkRecord,
  portId: string,
  requests: readonly FixedIpRequest[] | undefined,
): Promise<FixedIp[]> {
  const subnets = await subnetsOfNetwork(trx, network.id);
  const fixedIps: FixedIp[] = [];
  if (requests === undefined) {
    const v4 = subnets.filter((subnet) => subnet.ipVersion === 4);
    if (v4.length > 0) {
      let allocated = false;
      for (const subnet of v4) {
        try {
          fixedIps.push({ subnet_id: subnet.id, ip_address: await ipam.allocateAny(trx, subnet, portId) });
          allocated = true;
          break;
        } catch (err) {
          if ((err as { type?: string }).type !== 'IpAddressGenerationFailure') throw err;
        }
      }
      if (!allocated) throw ipAddressGenerationFailure(network.id);
    }
    for (const subnet of subnets.filter((candidate) => candidate.ipVersion === 6)) {
      fixedIps.push({ subnet_id: subnet.id, ip_address: await ipam.allocateAny(trx, subnet, portId) });
    }
    return fixedIps;
  }
  for (const request of requests) {
    const subnet = subnetFor(network, subnets, request);
    const ipAddress =
      request.ipAddress !== undefined
        ? await ipam.allocateSpecific(trx, subnet, portId, request.ipAddress)
        : await ipam.allocateAny(trx, subnet, portId);
    fixedIps.push({ subnet_id: subnet.id, ip_address: ipAddress });
  }
  return fixedIps;
}

/** Inserts the port, picking another MAC when a generated one is taken on the network. */
export async function insertPortWithMac(
  trx: Trx,
  port: PortRecord,
  baseMac: string,
  macGiven: boolean,
): Promise<PortRecord> {
  for (let attempt = 0; ; attempt++) {
    try {
      await insertPort(trx, port);
      return port;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (macGiven || attempt >= 16) {
        throw new Conflict(
          `Unable to complete operation for network ${port.networkId}. The mac address ${port.macAddress} is in use.`,
          'MacAddressInUse',
        );
      }
      port = { ...port, macAddress: generateMac(baseMac) };
    }
  }
}

export function newPort(network: NetworkRecord, projectId: string, baseMac: string): PortRecord {
  const now = isoNow();
  return {
    id: randomUUID(),
    networkId: network.id,
    projectId,
    name: '',
    description: '',
    macAddress: generateMac(baseMac),
    adminStateUp: true,
    status: 'DOWN',
    deviceId: '',
    deviceOwner: '',
    fixedIps: [],
    portSecurityEnabled: network.portSecurityEnabled,
    allowedAddressPairs: [],
    extraDhcpOpts: [],
    bindingHostId: '',
    bindingVnicType: 'normal',
    bindingProfile: {},
    securityGroups: [],
    createdAt: now,
    updatedAt: now,
    revisionNumber: 1,
  };
}

/**
 * Gives the network's DHCP port an address on `subnet`, creating the port when the network has
 * none yet (Neutron's DHCP agent does this; here it is done with the subnet, so addresses are
 * accounted for from the start).
 */
export async function ensureDhcpAddress(
  trx: Trx,
  ipam: Ipam,
  network: NetworkRecord,
  subnet: SubnetRecord,
  baseMac: string,
): Promise<void> {
  const existing = (await portsOfNetwork(trx, network.id)).find((port) => port.deviceOwner === DHCP_OWNER);
  if (existing) {
    if (existing.fixedIps.some((fixed) => fixed.subnet_id === subnet.id)) return;
    const address = await ipam.allocateAny(trx, subnet, existing.id);
    const updated: PortRecord = {
      ...existing,
      fixedIps: [...existing.fixedIps, { subnet_id: subnet.id, ip_address: address }],
      updatedAt: isoNow(),
      revisionNumber: existing.revisionNumber + 1,
    };
    await updatePortRow(trx, updated);
    await recordChange(trx, { kind: 'port', action: 'update', id: updated.id, projectId: updated.projectId });
    return;
  }
  const port: PortRecord = {
    ...newPort(network, network.projectId, baseMac),
    deviceOwner: DHCP_OWNER,
    deviceId: `dhcp-${network.id}`,
    portSecurityEnabled: false,
  };
  const inserted = await insertPortWithMac(trx, port, baseMac, false);
  const address = await ipam.allocateAny(trx, subnet, inserted.id);
  const withAddress: PortRecord = { ...inserted, fixedIps: [{ subnet_id: subnet.id, ip_address: address }] };
  await updatePortRow(trx, withAddress);
  await recordChange(trx, { kind: 'port', action: 'create', id: port.id, projectId: port.projectId });
}

/** Takes the DHCP port's address on `subnet` back; the port goes when it has none left. */
export async function removeDhcpAddress(trx: Trx, networkId: string, subnetId: string): Promise<void> {
  const dhcp = (await portsOfNetwork(trx, networkId)).find((port) => port.deviceOwner === DHCP_OWNER);
  if (!dhcp) return;
  const kept = dhcp.fixedIps.filter((fixed) => fixed.subnet_id !== subnetId);
  if (kept.length === dhcp.fixedIps.length) return;
  for (const fixed of dhcp.fixedIps) {
    if (fixed.subnet_id === subnetId) await releaseAddress(trx, dhcp.id, subnetId, fixed.ip_address);
  }
  if (kept.length === 0) {
    await trx.deleteFrom('network_port').where('id', '=', dhcp.id).execute();
    await recordChange(trx, { kind: 'port', action: 'delete', id: dhcp.id, projectId: dhcp.projectId });
    return;
  }
  await updatePortRow(trx, {
    ...dhcp,
    fixedIps: kept,
    updatedAt: isoNow(),
    revisionNumber: dhcp.revisionNumber + 1,
  });
  await recordChange(trx, { kind: 'port', action: 'update', id: dhcp.id, projectId: dhcp.projectId });
}
