// Router logic: the gateway on an external network (its port and addresses, SNAT), interfaces
// on internal subnets (by subnet: a new port holding the subnet's gateway IP; by port: an
// existing port taken over), and static routes, with Neutron's checks and errors. Everything
// here runs inside the caller's transaction and records the changes for the data plane.
import type { Transaction } from 'kysely';
import { isoNow } from '../../../lib/db/columns.js';
import {
  cidrContains,
  cidrsOverlap,
  formatAddress,
  formatCidr,
  parseAddress,
} from '../../../lib/net/addresses.js';
import { BadRequest, Conflict, NotFound } from '../../common/errors.js';
import { parseCidrAttribute } from '../core/addresses.js';
import { type Attributes, isUuid, readBoolean } from '../core/attributes.js';
import { releaseAddress, releaseAddresses } from '../core/ipam.js';
import { recordChange } from '../core/outbox.js';
import {
  allocateFixedIps,
  type FixedIpRequest,
  insertPortWithMac,
  newPort,
  readFixedIps,
} from '../core/ports.js';
import { type CoreService, networkNotFound } from '../core/service.js';
import {
  deletePortRow,
  findNetwork,
  findSubnet,
  type HostRoute,
  listPortsByIds,
  type NetworkRecord,
  type PortRecord,
  type SubnetRecord,
  updatePortRow,
} from '../core/store.js';
import { asCore, coreDb } from './service.js';
import {
  type Db,
  deleteInterface,
  floatingIpsOfRouter,
  insertInterface,
  interfacePortIds,
  type RouterRecord,
} from './store.js';
import type { L3Db } from './tables.js';

type Trx = Transaction<L3Db>;

export const INTERFACE_OWNER = 'network:router_interface';
export const GATEWAY_OWNER = 'network:router_gateway';

/** Neutron's max_routes default. */
const MAX_ROUTES = 30;

/** Neutron's BadRequest(resource='router'): "Bad router request: <reason>." */
export function badRouterRequest(reason: string): BadRequest {
  return new BadRequest(`Bad router request: ${reason}.`, 'BadRequest');
}

/** A gateway as a request asks for it; null asks for none. */
export interface GatewayRequest {
  networkId: string;
  enableSnat: boolean | undefined;
  externalFixedIps: FixedIpRequest[] | undefined;
}

const GATEWAY_KEYS = new Set(['network_id', 'enable_snat', 'external_fixed_ips']);

/** external_gateway_info: absent → undefined; null or {} → null (no gateway); else the request. */
export function readGatewayInfo(attributes: Attributes): GatewayRequest | null | undefined {
  const value = attributes.external_gateway_info;
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequest(
      `Invalid input for external_gateway_info. Reason: '${JSON.stringify(value)}' is not a dictionary.`,
    );
  }
  const info = value as Attributes;
  const unknown = Object.keys(info).filter((key) => !GATEWAY_KEYS.has(key));
  if (unknown.length > 0) {
    throw new BadRequest(
      `Invalid input for external_gateway_info. Reason: Unrecognized attribute(s) '${unknown.sort().join(', ')}'.`,
    );
  }
  if (Object.keys(info).length === 0) return null;
  if (!isUuid(info.network_id)) {
    throw new BadRequest(
      `Invalid input for external_gateway_info. Reason: '${String(info.network_id)}' is not a valid UUID.`,
    );
  }
  return {
    networkId: info.network_id,
    enableSnat: readBoolean(info, 'enable_snat'),
    externalFixedIps:
      info.external_fixed_ips === undefined ? undefined : readFixedIps(info.external_fixed_ips),
  };
}

/** Policy actions for what a gateway request sets, under `create_router` or `update_router`. */
export function gatewayActions(prefix: string, attributes: Attributes): string[] {
  const info = attributes.external_gateway_info;
  if (info === undefined || info === null || typeof info !== 'object') return [];
  const actions = [`${prefix}:external_gateway_info`];
  const given = info as Attributes;
  if (given.network_id !== undefined) actions.push(`${prefix}:external_gateway_info:network_id`);
  if (given.enable_snat !== undefined) actions.push(`${prefix}:external_gateway_info:enable_snat`);
  if (given.external_fixed_ips !== undefined)
    actions.push(`${prefix}:external_gateway_info:external_fixed_ips`);
  return actions;
}

async function refuseIfFloatingIpsNeedGateway(trx: Trx, router: RouterRecord): Promise<void> {
  const users = (await floatingIpsOfRouter(trx, router.id)).filter(
    (floatingIp) => floatingIp.fixedPortId !== null,
  );
  if (users.length > 0) {
    throw new Conflict(
      `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${router.gatewayNetworkId} is required by one or more floating IPs.`,
      'RouterExternalGatewayInUseByFloatingIp',
    );
  }
}

async function removeGatewayPort(trx: Trx, router: RouterRecord): Promise<void> {
  if (router.gatewayPortId === null) return;
  const ports = await listPortsByIds(asCore(trx), [router.gatewayPortId]);
  // The router row refers to the port: it lets go first.
  await trx.updateTable('network_router').set({ gw_port_id: null }).where('id', '=', router.id).execute();
  await deletePortRow(asCore(trx), router.gatewayPortId);
  await recordChange(asCore(trx), {
    kind: 'router_gateway',
    action: 'delete',
    id: router.gatewayPortId,
    projectId: router.projectId,
    routerId: router.id,
    hosts: ports.map((port) => port.bindingHostId),
  });
}

/** The external network a gateway is asked on (404 when unseen, 400 when not external). */
async function externalNetwork(
  trx: Trx,
  networkId: string,
  sees: (network: NetworkRecord) => NetworkRecord | undefined,
): Promise<NetworkRecord> {
  const stored = await findNetwork(asCore(trx), networkId);
  const network = stored ? sees(stored) : undefined;
  if (!network) throw networkNotFound(networkId);
  if (!network.external) throw badRouterRequest(`Network ${networkId} is not an external network`);
  return network;
}

/**
 * Gives the router the gateway asked for (or none): a new port on another external network,
 * new addresses when external_fixed_ips change, the SNAT flag. `sees` is the network as the
 * caller sees it (RBAC may make it external for the caller), undefined when hidden.
 */
export async function applyGateway(
  trx: Trx,
  core: CoreService,
  router: RouterRecord,
  request: GatewayRequest | null,
  sees: (network: NetworkRecord) => NetworkRecord | undefined,
): Promise<RouterRecord> {
  if (request === null) {
    if (router.gatewayNetworkId === null) return router;
    await refuseIfFloatingIpsNeedGateway(trx, router);
    await removeGatewayPort(trx, router);
    return { ...router, gatewayNetworkId: null, gatewayPortId: null, enableSnat: true };
  }
  const network = await externalNetwork(trx, request.networkId, sees);
  const enableSnat = request.enableSnat ?? (router.gatewayNetworkId === null ? true : router.enableSnat);
  if (router.gatewayNetworkId === network.id && router.gatewayPortId !== null) {
    if (request.externalFixedIps !== undefined) {
      const [port] = await listPortsByIds(asCore(trx), [router.gatewayPortId]);
      if (port) await readdressGatewayPort(trx, core, network, port, router, request.externalFixedIps);
    }
    return { ...router, enableSnat };
  }
  if (router.gatewayNetworkId !== null) {
    await refuseIfFloatingIpsNeedGateway(trx, router);
    await removeGatewayPort(trx, router);
  }
  const baseMac = core.config.network.baseMac;
  // Neutron's gateway ports belong to no project: they count against nobody's port quota.
  const port: PortRecord = {
    ...newPort(network, '', baseMac),
    deviceOwner: GATEWAY_OWNER,
    deviceId: router.id,
    portSecurityEnabled: false,
  };
  const inserted = await insertPortWithMac(asCore(trx), port, baseMac, false);
  const fixedIps = await allocateFixedIps(
    asCore(trx),
    core.ipam,
    network,
    inserted.id,
    request.externalFixedIps,
  );
  await updatePortRow(asCore(trx), { ...inserted, fixedIps });
  await recordChange(asCore(trx), {
    kind: 'router_gateway',
    action: 'create',
    id: inserted.id,
    projectId: router.projectId,
    routerId: router.id,
  });
  return { ...router, gatewayNetworkId: network.id, gatewayPortId: inserted.id, enableSnat };
}

async function readdressGatewayPort(
  trx: Trx,
  core: CoreService,
  network: NetworkRecord,
  port: PortRecord,
  router: RouterRecord,
  requests: FixedIpRequest[],
): Promise<void> {
  await releaseAddresses(asCore(trx), port.id);
  const fixedIps = await allocateFixedIps(asCore(trx), core.ipam, network, port.id, requests);
  await updatePortRow(asCore(trx), {
    ...port,
    fixedIps,
    updatedAt: isoNow(),
    revisionNumber: port.revisionNumber + 1,
  });
  await recordChange(asCore(trx), {
    kind: 'router_gateway',
    action: 'update',
    id: port.id,
    projectId: router.projectId,
    routerId: router.id,
  });
}

/** A router's interface ports, in id order. */
export async function interfacePorts(db: Db, routerId: string): Promise<PortRecord[]> {
  const ids = await interfacePortIds(db, routerId);
  const ports = await listPortsByIds(coreDb(db), ids);
  return ports.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The subnets a router is connected to (interfaces and gateway) and its own address on each. */
export async function connectedSubnets(
  db: Db,
  router: RouterRecord,
): Promise<{ subnet: SubnetRecord; address: string; gateway: boolean }[]> {
  const ports = await interfacePorts(db, router.id);
  const gatewayPorts = router.gatewayPortId ? await listPortsByIds(coreDb(db), [router.gatewayPortId]) : [];
  const result: { subnet: SubnetRecord; address: string; gateway: boolean }[] = [];
  for (const [list, gateway] of [
    [ports, false],
    [gatewayPorts, true],
  ] as const) {
    for (const port of list) {
      for (const fixed of port.fixedIps) {
        const subnet = await findSubnet(coreDb(db), fixed.subnet_id);
        if (subnet) result.push({ subnet, address: fixed.ip_address, gateway });
      }
    }
  }
  return result;
}

/** Neutron's checks of a subnet joining a router: not there already, no overlap with another. */
async function refuseDuplicateSubnet(trx: Trx, router: RouterRecord, subnet: SubnetRecord): Promise<void> {
  const cidr = parseCidrAttribute(subnet.cidr);
  for (const { subnet: other, gateway } of await connectedSubnets(trx, router)) {
    if (gateway) continue;
    if (other.id === subnet.id) throw badRouterRequest(`Router already has a port on subnet ${subnet.id}`);
    if (cidrsOverlap(parseCidrAttribute(other.cidr), cidr)) {
      throw badRouterRequest(
        `Cidr ${subnet.cidr} of subnet ${subnet.id} overlaps with cidr ${other.cidr} of subnet ${other.id}`,
      );
    }
  }
}

/** What add_router_interface and remove_router_interface answer. */
export interface InterfaceInfo {
  portId: string;
  networkId: string;
  subnetIds: string[];
}

async function recordInterface(
  trx: Trx,
  router: RouterRecord,
  port: PortRecord,
  action: 'create' | 'delete',
) {
  await recordChange(asCore(trx), {
    kind: 'router_interface',
    action,
    id: port.id,
    projectId: router.projectId,
    routerId: router.id,
    hosts: [port.bindingHostId],
  });
}

/** A new interface port on `subnet` holding its gateway IP. */
export async function addInterfaceBySubnet(
  trx: Trx,
  core: CoreService,
  router: RouterRecord,
  network: NetworkRecord,
  subnet: SubnetRecord,
): Promise<InterfaceInfo> {
  if (subnet.gatewayIp === null) throw badRouterRequest('Subnet for router interface must have a gateway IP');
  await refuseDuplicateSubnet(trx, router, subnet);
  const baseMac = core.config.network.baseMac;
  const port: PortRecord = {
    ...newPort(network, router.projectId, baseMac),
    deviceOwner: INTERFACE_OWNER,
    deviceId: router.id,
  };
  const inserted = await insertPortWithMac(asCore(trx), port, baseMac, false);
  const address = await core.ipam.allocateSpecific(asCore(trx), subnet, inserted.id, subnet.gatewayIp);
  const withAddress: PortRecord = { ...inserted, fixedIps: [{ subnet_id: subnet.id, ip_address: address }] };
  await updatePortRow(asCore(trx), withAddress);
  await insertInterface(trx, router.id, inserted.id);
  await recordChange(asCore(trx), {
    kind: 'port',
    action: 'create',
    id: inserted.id,
    projectId: router.projectId,
  });
  await recordInterface(trx, router, withAddress, 'create');
  return { portId: inserted.id, networkId: network.id, subnetIds: [subnet.id] };
}

/** An existing, unattached port becomes an interface of the router. */
export async function addInterfaceByPort(
  trx: Trx,
  router: RouterRecord,
  port: PortRecord,
): Promise<InterfaceInfo> {
  if (port.deviceOwner !== '' || port.deviceId !== '') {
    throw new Conflict(
      `Unable to complete operation on port ${port.id} for network ${port.networkId}. Port already has an attached device ${port.deviceId}.`,
      'PortInUse',
    );
  }
  if (port.fixedIps.length === 0) throw badRouterRequest('Router port must have at least one fixed IP');
  const subnets: SubnetRecord[] = [];
  for (const fixed of port.fixedIps) {
    const subnet = await findSubnet(asCore(trx), fixed.subnet_id);
    if (subnet && !subnets.some((known) => known.id === subnet.id)) subnets.push(subnet);
  }
  if (subnets.filter((subnet) => subnet.ipVersion === 4).length > 1) {
    throw badRouterRequest('Cannot have multiple IPv4 subnets on router port');
  }
  for (const subnet of subnets) await refuseDuplicateSubnet(trx, router, subnet);
  const updated: PortRecord = {
    ...port,
    deviceOwner: INTERFACE_OWNER,
    deviceId: router.id,
    updatedAt: isoNow(),
    revisionNumber: port.revisionNumber + 1,
  };
  await updatePortRow(asCore(trx), updated);
  await insertInterface(trx, router.id, port.id);
  await recordChange(asCore(trx), { kind: 'port', action: 'update', id: port.id, projectId: port.projectId });
  await recordInterface(trx, router, updated, 'create');
  return { portId: port.id, networkId: port.networkId, subnetIds: subnets.map((subnet) => subnet.id) };
}

/** Neutron's refusals of taking a subnet off a router that floating IPs or routes go through. */
async function refuseIfSubnetNeeded(trx: Trx, router: RouterRecord, subnet: SubnetRecord): Promise<void> {
  const cidr = parseCidrAttribute(subnet.cidr);
  const inside = (text: string | null) => {
    const address = text === null ? undefined : parseAddress(text);
    return address !== undefined && address.version === cidr.version && cidrContains(cidr, address.value);
  };
  const floatingIps = await floatingIpsOfRouter(trx, router.id);
  if (
    floatingIps.some((floatingIp) => floatingIp.fixedPortId !== null && inside(floatingIp.fixedIpAddress))
  ) {
    throw new Conflict(
      `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`,
      'RouterInterfaceInUseByFloatingIP',
    );
  }
  if (router.routes.some((route) => inside(route.nexthop))) {
    throw new Conflict(
      `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`,
      'RouterInterfaceInUseByRoute',
    );
  }
}

/**
 * Takes an interface off the router: the port named (with all its subnets), or the router's
 * address on the subnet named (the port goes with its last address).
 */
export async function removeInterface(
  trx: Trx,
  router: RouterRecord,
  target: { portId?: string; subnetId?: string },
): Promise<InterfaceInfo> {
  const ports = await interfacePorts(trx, router.id);
  if (target.portId !== undefined) {
    const port = ports.find((candidate) => candidate.id === target.portId);
    if (!port) {
      throw new NotFound(
        `Router ${router.id} does not have an interface with id ${target.portId}`,
        'RouterInterfaceNotFound',
      );
    }
    const subnetIds = [...new Set(port.fixedIps.map((fixed) => fixed.subnet_id))];
    if (target.subnetId !== undefined && !subnetIds.includes(target.subnetId)) {
      throw new BadRequest(
        `Subnet on port ${port.id} does not match the requested subnet ${target.subnetId}.`,
        'SubnetMismatchForPort',
      );
    }
    for (const subnetId of subnetIds) {
      const subnet = await findSubnet(asCore(trx), subnetId);
      if (subnet) await refuseIfSubnetNeeded(trx, router, subnet);
    }
    await detachPort(trx, router, port);
    return { portId: port.id, networkId: port.networkId, subnetIds };
  }
  const subnetId = target.subnetId!;
  const port = ports.find((candidate) => candidate.fixedIps.some((fixed) => fixed.subnet_id === subnetId));
  const subnet = await findSubnet(asCore(trx), subnetId);
  if (!port || !subnet) {
    throw new NotFound(
      `Router ${router.id} has no interface on subnet ${subnetId}`,
      'RouterInterfaceNotFoundForSubnet',
    );
  }
  await refuseIfSubnetNeeded(trx, router, subnet);
  const kept = port.fixedIps.filter((fixed) => fixed.subnet_id !== subnetId);
  if (kept.length === 0) {
    await detachPort(trx, router, port);
  } else {
    for (const fixed of port.fixedIps) {
      if (fixed.subnet_id === subnetId)
        await releaseAddress(asCore(trx), port.id, subnetId, fixed.ip_address);
    }
    await updatePortRow(asCore(trx), {
      ...port,
      fixedIps: kept,
      updatedAt: isoNow(),
      revisionNumber: port.revisionNumber + 1,
    });
    await recordChange(asCore(trx), {
      kind: 'port',
      action: 'update',
      id: port.id,
      projectId: port.projectId,
    });
    await recordInterface(trx, router, port, 'delete');
  }
  return { portId: port.id, networkId: port.networkId, subnetIds: [subnetId] };
}

/** Deletes an interface port (Neutron deletes it whether it was made by subnet or given). */
async function detachPort(trx: Trx, router: RouterRecord, port: PortRecord): Promise<void> {
  await deleteInterface(trx, port.id);
  await deletePortRow(asCore(trx), port.id);
  await recordChange(asCore(trx), {
    kind: 'port',
    action: 'delete',
    id: port.id,
    projectId: port.projectId,
    hosts: [port.bindingHostId],
  });
  await recordInterface(trx, router, port, 'delete');
}

/** `routes`: a list of {destination, nexthop}, normalized; duplicates count once. */
export function readRoutes(attributes: Attributes): HostRoute[] | undefined {
  const value = attributes.routes;
  if (value === undefined) return undefined;
  if (value === null) return [];
  if (!Array.isArray(value)) {
    throw new BadRequest(`Invalid input for routes. Reason: '${JSON.stringify(value)}' is not a list.`);
  }
  const routes = new Map<string, HostRoute>();
  for (const item of value) {
    const route = item as Attributes | null;
    if (typeof route !== 'object' || route === null || Array.isArray(route)) {
      throw new BadRequest(`Invalid input for routes. Reason: '${JSON.stringify(item)}' is not a route.`);
    }
    const unknown = Object.keys(route).filter((key) => key !== 'destination' && key !== 'nexthop');
    if (unknown.length > 0) {
      throw new BadRequest(
        `Invalid input for routes. Reason: Unrecognized attribute(s) '${unknown.join(', ')}'.`,
      );
    }
    const destination = parseCidrAttribute(route.destination, 'routes');
    const nexthop = typeof route.nexthop === 'string' ? parseAddress(route.nexthop) : undefined;
    if (!nexthop) {
      throw new BadRequest(
        `Invalid input for routes. Reason: '${String(route.nexthop)}' is not a valid IP address.`,
      );
    }
    if (nexthop.version !== destination.version) {
      throw invalidRoutes(item, 'the destination and the nexthop are of different IP versions');
    }
    const normalized = {
      destination: formatCidr(destination),
      nexthop: formatAddress(nexthop.version, nexthop.value),
    };
    routes.set(`${normalized.destination} ${normalized.nexthop}`, normalized);
  }
  return [...routes.values()];
}

function invalidRoutes(route: unknown, reason: string): BadRequest {
  return new BadRequest(`Invalid format for routes: ${JSON.stringify(route)}, ${reason}.`, 'InvalidRoutes');
}

/** Neutron's extraroute checks: at most max_routes, each nexthop on a connected subnet and not the router's own. */
export async function checkRoutes(
  trx: Trx,
  router: RouterRecord,
  routes: readonly HostRoute[],
): Promise<void> {
  if (routes.length > MAX_ROUTES) {
    throw new BadRequest(
      `Unable to complete operation for ${router.id}. The number of routes exceeds the maximum ${MAX_ROUTES}.`,
      'RoutesExhausted',
    );
  }
  const connected = await connectedSubnets(trx, router);
  for (const route of routes) {
    const nexthop = parseAddress(route.nexthop)!;
    const reachable = connected.some(({ subnet }) => {
      const cidr = parseCidrAttribute(subnet.cidr);
      return cidr.version === nexthop.version && cidrContains(cidr, nexthop.value);
    });
    if (!reachable) throw invalidRoutes(route, 'the nexthop is not connected with router');
    if (connected.some(({ address }) => address === route.nexthop)) {
      throw invalidRoutes(route, 'the nexthop is used by router');
    }
  }
}
