// /v2.0/ports: create (MAC, fixed IPs through IPAM, binding, security groups, address pairs),
// list with filters (device_id, network_id, fixed_ips, ...), show, update, delete.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import { isoNow } from '../../../../lib/db/columns.js';
import { isUniqueViolation } from '../../../../lib/db/errors.js';
import { formatAddress, parseAddress } from '../../../../lib/net/addresses.js';
import { authorize } from '../../../common/authorize.js';
import { requireAuth } from '../../../common/context.js';
import { BadRequest, Conflict } from '../../../common/errors.js';
import { listResponse, sortKeys, type View } from '../../pagination.js';
import { checkQuota, ensureDefaultSecurityGroup } from '../../security/area.js';
import { parseCidrAttribute } from '../addresses.js';
import {
  type Attributes,
  createBodies,
  isUuid,
  owningProject,
  readBoolean,
  readList,
  readObject,
  readString,
  readUuid,
  refuseReadOnly,
  resourceBody,
} from '../attributes.js';
import { releaseAddress } from '../ipam.js';
import { databaseFilter, onlyDatabaseFilters, passesFilters, type Query, shaper } from '../listing.js';
import { recordChange } from '../outbox.js';
import {
  allocateFixedIps,
  checkMac,
  type FixedIpRequest,
  insertPortWithMac,
  newPort,
  readFixedIps,
  runPortDeletionHooks,
} from '../ports.js';
import {
  asSeenBy,
  type Caller,
  type CoreService,
  callerOf,
  childTarget,
  hiddenAttributes,
  networkNotFound,
  portNotFound,
  write,
} from '../service.js';
import {
  type AddressPair,
  deletePortRow,
  type FixedIp,
  findNetwork,
  findPort,
  listPorts,
  type NetworkRecord,
  type PortRecord,
  replaceSecurityGroups,
  updatePortRow,
} from '../store.js';
import type { CoreTables } from '../tables.js';
import { portView } from '../views.js';

const COMMON_ATTRIBUTES = [
  'name',
  'description',
  'admin_state_up',
  'device_id',
  'device_owner',
  'fixed_ips',
  'mac_address',
  'security_groups',
  'port_security_enabled',
  'allowed_address_pairs',
  'extra_dhcp_opts',
  'binding:host_id',
  'binding:vnic_type',
  'binding:profile',
];
const CREATE_ATTRIBUTES = new Set([...COMMON_ATTRIBUTES, 'network_id', 'project_id', 'tenant_id']);
const UPDATE_ATTRIBUTES = new Set([...COMMON_ATTRIBUTES, 'network_id']);

const VNIC_TYPES = new Set([
  'normal',
  'direct',
  'macvtap',
  'baremetal',
  'direct-physical',
  'virtio-forwarder',
  'smart-nic',
  'vdpa',
  'remote-managed',
]);

type Params = { port_id: string };

/** What `sort_key` may name (Neutron's sortable port attributes). */
const PORT_SORT_KEYS = sortKeys(
  'name',
  'network_id',
  'admin_state_up',
  'mac_address',
  'device_id',
  'device_owner',
  'status',
);

function readSecurityGroups(attributes: Attributes): string[] | undefined {
  const list = readList(attributes, 'security_groups');
  if (list === undefined) return undefined;
  for (const item of list) {
    if (!isUuid(item)) {
      throw new BadRequest(
        `Invalid input for security_groups. Reason: '${String(item)}' is not a valid UUID.`,
      );
    }
  }
  return [...new Set(list as string[])].sort();
}

function readAddressPairs(attributes: Attributes, portMac: string): AddressPair[] | undefined {
  const list = readList(attributes, 'allowed_address_pairs');
  if (list === undefined) return undefined;
  const seen = new Set<string>();
  return list.map((item) => {
    const pair = item as Record<string, unknown> | null;
    if (typeof pair !== 'object' || pair === null || typeof pair.ip_address !== 'string') {
      throw new BadRequest(
        'Invalid input for allowed_address_pairs. Reason: AllowedAddressPair must contain ip_address.',
      );
    }
    const text = pair.ip_address;
    const address = text.includes('/') ? parseCidrAttribute(text, 'allowed_address_pairs') : undefined;
    const plain = address ? undefined : parseAddress(text);
    if (!address && !plain) {
      throw new BadRequest(
        `Invalid input for allowed_address_pairs. Reason: '${text}' is not a valid IP address.`,
      );
    }
    const ipAddress = plain ? formatAddress(plain.version, plain.value) : text;
    const macAddress =
      pair.mac_address === undefined || pair.mac_address === null ? portMac : checkMac(pair.mac_address);
    const key = `${ipAddress} ${macAddress}`;
    if (seen.has(key)) {
      throw new BadRequest(
        `Request contains duplicate address pair: mac_address ${macAddress} ip_address ${ipAddress}.`,
        'DuplicateAddressPairInRequest',
      );
    }
    seen.add(key);
    return { ip_address: ipAddress, mac_address: macAddress };
  });
}

function readExtraDhcpOpts(attributes: Attributes): Record<string, unknown>[] | undefined {
  const list = readList(attributes, 'extra_dhcp_opts');
  if (list === undefined) return undefined;
  return list.map((item) => {
    const option = item as Record<string, unknown> | null;
    if (typeof option !== 'object' || option === null || typeof option.opt_name !== 'string') {
      throw new BadRequest(
        'Invalid input for extra_dhcp_opts. Reason: an option needs opt_name and opt_value.',
      );
    }
    const version = option.ip_version === undefined ? 4 : Number(option.ip_version);
    if (version !== 4 && version !== 6) {
      throw new BadRequest(
        `Invalid input for extra_dhcp_opts. Reason: '${String(option.ip_version)}' is not in [4, 6].`,
      );
    }
    return {
      opt_name: option.opt_name,
      opt_value:
        option.opt_value === null || option.opt_value === undefined ? null : String(option.opt_value),
      ip_version: version,
    };
  });
}

function readVnicType(attributes: Attributes): string | undefined {
  const vnic = readString(attributes, 'binding:vnic_type', 32);
  if (vnic !== undefined && !VNIC_TYPES.has(vnic)) {
    throw new BadRequest(
      `Invalid input for binding:vnic_type. Reason: '${vnic}' is not in ${[...VNIC_TYPES].join(', ')}.`,
    );
  }
  return vnic;
}

/** Attribute actions for what a body sets ("create_port:mac_address", ...). */
function attributeActions(
  prefix: string,
  attributes: Attributes,
  fixedIps: FixedIpRequest[] | undefined,
): string[] {
  const actions: string[] = [];
  if (attributes.device_owner !== undefined) actions.push(`${prefix}:device_owner`);
  if (attributes.mac_address !== undefined) actions.push(`${prefix}:mac_address`);
  if (fixedIps?.some((fixed) => fixed.ipAddress !== undefined))
    actions.push(`${prefix}:fixed_ips:ip_address`);
  if (fixedIps?.some((fixed) => fixed.subnetId !== undefined)) actions.push(`${prefix}:fixed_ips:subnet_id`);
  if (attributes.port_security_enabled !== undefined) actions.push(`${prefix}:port_security_enabled`);
  if (attributes['binding:host_id'] !== undefined) actions.push(`${prefix}:binding:host_id`);
  if (attributes['binding:profile'] !== undefined) actions.push(`${prefix}:binding:profile`);
  if (attributes.allowed_address_pairs !== undefined) actions.push(`${prefix}:allowed_address_pairs`);
  return actions;
}

function portTarget(port: Pick<PortRecord, 'projectId' | 'deviceOwner'>, network: NetworkRecord) {
  return childTarget(port.projectId, network, { network_device: isTrustedPort(port) });
}

/** Ports of the cloud's own devices (DHCP, router interfaces and gateways, floating IPs). */
function isTrustedPort(port: Pick<PortRecord, 'deviceOwner'>): boolean {
  return port.deviceOwner.startsWith('network:');
}

function checkPortSecurity(port: PortRecord): void {
  if (!port.portSecurityEnabled && port.securityGroups.length > 0) {
    throw new Conflict(
      `Port ${port.id} has a security group associated. Cannot disable port security or IP address until the security group is removed.`,
      'PortSecurityPortHasSecurityGroup',
    );
  }
  if (!port.portSecurityEnabled && port.allowedAddressPairs.length > 0) {
    throw new Conflict(
      'Port security must be enabled in order to have allowed address pairs on a port.',
      'AddressPairAndPortSecurityRequired',
    );
  }
}

export const portRoutes: FastifyPluginAsync<CoreService> = async (app, service) => {
  const { policy } = service;
  const baseMac = service.config.network.baseMac;
  app.addHook('preHandler', requireAuth(service.identity));

  /** The views of `ports` passing the query's filters. */
  function viewsOf(caller: Caller, ports: PortRecord[], query: Query): View[] {
    const hidden = hiddenAttributes(service, caller, 'port');
    return ports.map(portView).filter((view) => passesFilters(view, query, hidden));
  }

  function render(caller: Caller, ports: PortRecord[], query: Query): View[] {
    return viewsOf(caller, ports, query).map(shaper(hiddenAttributes(service, caller, 'port'), query));
  }

  /** The port and its network, when the caller may see the port (404 PortNotFound otherwise). */
  async function visiblePort(
    caller: Caller,
    id: string,
  ): Promise<{ port: PortRecord; network: NetworkRecord }> {
    const port = await findPort(service.db, id);
    const network = port ? await findNetwork(service.db, port.networkId) : undefined;
    if (!port || !network) throw portNotFound(id);
    if (!caller.admin && port.projectId !== caller.projectId && network.projectId !== caller.projectId) {
      throw portNotFound(id);
    }
    return { port, network };
  }

  /**
   * Checks one port of a create body and returns the write that makes it, to run inside the
   * request's transaction (more than once, if the transaction is retried).
   */
  async function planPort(request: FastifyRequest, caller: Caller, attributes: Attributes) {
    const networkId = readUuid(attributes, 'network_id');
    if (networkId === undefined)
      throw new BadRequest("Failed to parse request. Required attribute 'network_id' not specified");
    const stored = await findNetwork(service.db, networkId);
    const network = stored ? asSeenBy(caller, stored) : undefined;
    // Another project's network is not there for the caller unless it is shared with it.
    if (!network || !(caller.admin || network.projectId === caller.projectId || network.shared)) {
      throw networkNotFound(networkId);
    }
    const projectId = owningProject(attributes, caller.projectId, caller.admin);
    const fixedIps = attributes.fixed_ips === undefined ? undefined : readFixedIps(attributes.fixed_ips);
    const port: PortRecord = {
      ...newPort(network, projectId, baseMac),
      name: readString(attributes, 'name') ?? '',
      description: readString(attributes, 'description') ?? '',
      adminStateUp: readBoolean(attributes, 'admin_state_up') ?? true,
      deviceId: readString(attributes, 'device_id') ?? '',
      deviceOwner: readString(attributes, 'device_owner') ?? '',
      portSecurityEnabled: readBoolean(attributes, 'port_security_enabled') ?? network.portSecurityEnabled,
      extraDhcpOpts: readExtraDhcpOpts(attributes) ?? [],
      bindingHostId: readString(attributes, 'binding:host_id') ?? '',
      bindingVnicType: readVnicType(attributes) ?? 'normal',
      bindingProfile: readObject(attributes, 'binding:profile') ?? {},
      securityGroups: readSecurityGroups(attributes) ?? [],
    };
    if (attributes.mac_address !== undefined) port.macAddress = checkMac(attributes.mac_address);
    port.allowedAddressPairs = readAddressPairs(attributes, port.macAddress) ?? [];
    checkPortSecurity(port);
    const target = portTarget(port, network);
    authorize(policy, request, 'create_port', target);
    for (const action of attributeActions('create_port', attributes, fixedIps))
      authorize(policy, request, action, target);
    // As Neutron: a port that names no groups gets its project's default group (made on first
    // use), unless port security is off or the port is the cloud's own (network:*), which
    // Neutron trusts and filters nothing for.
    if (attributes.security_groups === undefined && port.portSecurityEnabled && !isTrustedPort(port)) {
      port.securityGroups = [await ensureDefaultSecurityGroup(service.db, projectId)];
    }

    return async (trx: Transaction<CoreTables>): Promise<PortRecord> => {
      await checkQuota(trx, projectId, 'port');
      const inserted = await insertPortWithMac(trx, port, baseMac, attributes.mac_address !== undefined);
      const addresses = await allocateFixedIps(trx, service.ipam, network, inserted.id, fixedIps);
      const record: PortRecord = { ...inserted, fixedIps: addresses };
      if (addresses.length > 0) await updatePortRow(trx, record);
      await recordChange(trx, {
        kind: 'port',
        action: 'create',
        id: record.id,
        projectId: record.projectId,
        hosts: [record.bindingHostId],
      });
      return record;
    };
  }

  app.post('/v2.0/ports', async (request, reply) => {
    const caller = await callerOf(service, request);
    const { bulk, items } = createBodies(request.body, 'port', 'ports', CREATE_ATTRIBUTES);
    const plans: ((trx: Transaction<CoreTables>) => Promise<PortRecord>)[] = [];
    for (const attributes of items) plans.push(await planPort(request, caller, attributes));
    // A bulk create makes all of its ports or, on the first refusal, none.
    const created = await write(service, async (trx) => {
      const made: PortRecord[] = [];
      for (const plan of plans) made.push(await plan(trx));
      return made;
    });
    const views = render(caller, created, {});
    return reply.code(201).send(bulk ? { ports: views } : { port: views[0] });
  });

  app.get('/v2.0/ports', async (request, reply) => {
    const caller = await callerOf(service, request);
    const query = request.query as Query;
    if (onlyDatabaseFilters(query)) {
      const hidden = hiddenAttributes(service, caller, 'port');
      const json = await service.portList.listJson(service.db, caller.viewer, databaseFilter(query), hidden);
      return reply.type('application/json; charset=utf-8').send(json);
    }
    const ports = await listPorts(service.db, caller.viewer, databaseFilter(query));
    return listResponse(request, 'ports', viewsOf(caller, ports, query), {
      sortKeys: PORT_SORT_KEYS,
      findMarker: async (id) => portView((await visiblePort(caller, id)).port),
      shape: shaper(hiddenAttributes(service, caller, 'port'), query),
    });
  });

  app.get<{ Params: Params }>('/v2.0/ports/:port_id', async (request) => {
    const caller = await callerOf(service, request);
    const { port, network } = await visiblePort(caller, request.params.port_id);
    authorize(policy, request, 'get_port', portTarget(port, network));
    const query = request.query as Query;
    return { port: render(caller, [port], { fields: query.fields })[0] };
  });

  app.put<{ Params: Params }>('/v2.0/ports/:port_id', async (request) => {
    const caller = await callerOf(service, request);
    const attributes = resourceBody(request.body, 'port', UPDATE_ATTRIBUTES);
    refuseReadOnly(attributes, ['network_id']);
    const { port: current, network } = await visiblePort(caller, request.params.port_id);
    const fixedIps = attributes.fixed_ips === undefined ? undefined : readFixedIps(attributes.fixed_ips);
    const target = portTarget(current, network);
    authorize(policy, request, 'update_port', target);
    for (const action of attributeActions('update_port', attributes, fixedIps))
      authorize(policy, request, action, target);
    if (attributes.mac_address !== undefined && current.bindingHostId !== '') {
      throw new Conflict(`Port ${current.id} is bound: its MAC address cannot change.`, 'PortBound');
    }
    const updated = await write(service, async (trx) => {
      const port = await findPort(trx, current.id);
      if (!port) throw portNotFound(current.id);
      const record: PortRecord = {
        ...port,
        name: readString(attributes, 'name') ?? port.name,
        description: readString(attributes, 'description') ?? port.description,
        adminStateUp: readBoolean(attributes, 'admin_state_up') ?? port.adminStateUp,
        deviceId: readString(attributes, 'device_id') ?? port.deviceId,
        deviceOwner: readString(attributes, 'device_owner') ?? port.deviceOwner,
        portSecurityEnabled: readBoolean(attributes, 'port_security_enabled') ?? port.portSecurityEnabled,
        extraDhcpOpts: readExtraDhcpOpts(attributes) ?? port.extraDhcpOpts,
        bindingHostId: readString(attributes, 'binding:host_id') ?? port.bindingHostId,
        bindingVnicType: readVnicType(attributes) ?? port.bindingVnicType,
        bindingProfile: readObject(attributes, 'binding:profile') ?? port.bindingProfile,
        securityGroups: readSecurityGroups(attributes) ?? port.securityGroups,
        macAddress: attributes.mac_address !== undefined ? checkMac(attributes.mac_address) : port.macAddress,
        updatedAt: isoNow(),
        revisionNumber: port.revisionNumber + 1,
      };
      record.allowedAddressPairs =
        readAddressPairs(attributes, record.macAddress) ?? port.allowedAddressPairs;
      checkPortSecurity(record);
      if (fixedIps) record.fixedIps = await replaceFixedIps(trx, network, port, fixedIps);
      try {
        await updatePortRow(trx, record);
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new Conflict(
            `Unable to complete operation for network ${network.id}. The mac address ${record.macAddress} is in use.`,
            'MacAddressInUse',
          );
        }
        throw err;
      }
      if (attributes.security_groups !== undefined)
        await replaceSecurityGroups(trx, port.id, record.securityGroups);
      await recordChange(trx, {
        kind: 'port',
        action: 'update',
        id: record.id,
        projectId: record.projectId,
        hosts: [port.bindingHostId, record.bindingHostId],
      });
      return record;
    });
    return { port: render(caller, [updated], {})[0] };
  });

  /** Keeps the addresses the request repeats, frees the others, allocates the new ones. */
  async function replaceFixedIps(
    trx: Parameters<Parameters<typeof write>[1]>[0],
    network: NetworkRecord,
    port: PortRecord,
    requests: FixedIpRequest[],
  ): Promise<FixedIp[]> {
    const kept: FixedIp[] = [];
    const wanted: FixedIpRequest[] = [];
    for (const request of requests) {
      const same = port.fixedIps.find(
        (fixed) =>
          request.ipAddress !== undefined &&
          fixed.ip_address === request.ipAddress &&
          (request.subnetId === undefined || request.subnetId === fixed.subnet_id),
      );
      if (same && !kept.includes(same)) kept.push(same);
      else wanted.push(request);
    }
    for (const fixed of port.fixedIps) {
      if (!kept.includes(fixed)) await releaseAddress(trx, port.id, fixed.subnet_id, fixed.ip_address);
    }
    const added =
      wanted.length > 0 ? await allocateFixedIps(trx, service.ipam, network, port.id, wanted) : [];
    return [...kept, ...added];
  }

  app.delete<{ Params: Params }>('/v2.0/ports/:port_id', async (request, reply) => {
    const caller = await callerOf(service, request);
    const { port, network } = await visiblePort(caller, request.params.port_id);
    authorize(policy, request, 'delete_port', portTarget(port, network));
    await write(service, async (trx) => {
      await runPortDeletionHooks(trx, port);
      await deletePortRow(trx, port.id);
      await recordChange(trx, {
        kind: 'port',
        action: 'delete',
        id: port.id,
        projectId: port.projectId,
        hosts: [port.bindingHostId],
      });
    });
    return reply.code(204).send();
  });
};
