// What the core area's routes share: the database, policy, IPAM, the segment settings and the
// outbox relay, plus the helpers every handler uses (who is asking, what they may see, how a
// write runs).
import type { FastifyRequest } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import { isForeignKeyViolation } from '../../../lib/db/errors.js';
import { withTransaction } from '../../../lib/db/transaction.js';
import { allows } from '../../common/authorize.js';
import { contextOf, projectIdOf, type RequestContext } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import { Conflict, NotFound } from '../../common/errors.js';
import { networkIdsExternalFor, networkIdsSharedWith } from '../security/area.js';
import type { Ipam } from './ipam.js';
import type { OutboxRelay } from './outbox.js';
import type { PortListCache } from './port-list.js';
import type { SegmentSettings } from './segments.js';
import { findNetwork, type NetworkRecord, type Viewer } from './store.js';
import type { CoreTables } from './tables.js';

export interface CoreService extends ServiceDependencies {
  db: Kysely<CoreTables>;
  settings: SegmentSettings;
  ipam: Ipam;
  relay: OutboxRelay;
  portList: PortListCache;
}

export interface Caller {
  context: RequestContext;
  projectId: string | undefined;
  admin: boolean;
  viewer: Viewer;
  /** Networks RBAC policies share with the caller's project (access_as_shared). */
  rbacShared: ReadonlySet<string>;
  /** Networks RBAC policies make external for it (access_as_external). */
  rbacExternal: ReadonlySet<string>;
}

export async function callerOf(service: CoreService, request: FastifyRequest): Promise<Caller> {
  const context = contextOf(request);
  const projectId = projectIdOf(context);
  const admin = allows(service.policy, context, 'context_is_admin');
  if (admin || projectId === undefined) {
    return {
      context,
      projectId,
      admin,
      viewer: admin ? { admin: true } : { admin: false, projectId: '', networkIds: [], sharedNetworkIds: [] },
      rbacShared: new Set(),
      rbacExternal: new Set(),
    };
  }
  const [shared, external] = await Promise.all([
    networkIdsSharedWith(service.db, projectId),
    networkIdsExternalFor(service.db, projectId),
  ]);
  return {
    context,
    projectId,
    admin,
    viewer: {
      admin: false,
      projectId,
      networkIds: [...new Set([...shared, ...external])],
      sharedNetworkIds: shared,
    },
    rbacShared: new Set(shared),
    rbacExternal: new Set(external),
  };
}

/**
 * The network as the caller sees it: shared (or external) also when an RBAC policy shares it
 * with (or makes it external for) the caller's project, as Neutron computes these per request.
 */
export function asSeenBy(caller: Caller, network: NetworkRecord): NetworkRecord {
  const shared = network.shared || caller.rbacShared.has(network.id);
  const external = network.external || caller.rbacExternal.has(network.id);
  return shared === network.shared && external === network.external
    ? network
    : { ...network, shared, external };
}

/**
 * Runs a write: one transaction (retried from the start when it loses a conflict with a
 * concurrent one; everything it does is in the database, outbox included), read-committed on
 * MySQL so IPAM and segment searches see what others committed, then a kick to the relay.
 */
export async function write<Result>(
  service: CoreService,
  work: (trx: Transaction<CoreTables>) => Promise<Result>,
): Promise<Result> {
  try {
    const result = await withTransaction(service.db, work, {
      retryable: true,
      maxAttempts: 8,
      ...(service.database.dialect === 'mysql' ? { isolationLevel: 'read committed' as const } : {}),
    });
    service.relay.kick();
    return result;
  } catch (err) {
    // A parent row (network, subnet) deleted by a concurrent request between our read and
    // our insert: the request raced a delete, which is a conflict, not a server error.
    if (isForeignKeyViolation(err)) {
      throw new Conflict('A resource this request depends on was deleted concurrently; try again.');
    }
    throw err;
  }
}

export function networkNotFound(id: string): NotFound {
  return new NotFound(`Network ${id} could not be found.`, 'NetworkNotFound');
}

export function subnetNotFound(id: string): NotFound {
  return new NotFound(`Subnet ${id} could not be found.`, 'SubnetNotFound');
}

export function portNotFound(id: string): NotFound {
  return new NotFound(`Port ${id} could not be found.`, 'PortNotFound');
}

export function canSeeNetwork(caller: Caller, network: NetworkRecord): boolean {
  return caller.admin || network.projectId === caller.projectId || network.shared || network.external;
}

/** The network, when the caller may see it; 404 NetworkNotFound otherwise. */
export async function visibleNetwork(
  db: Kysely<CoreTables> | Transaction<CoreTables>,
  caller: Caller,
  id: string,
): Promise<NetworkRecord> {
  const found = await findNetwork(db, id);
  const network = found ? asSeenBy(caller, found) : undefined;
  if (!network || !canSeeNetwork(caller, network)) throw networkNotFound(id);
  return network;
}

export function networkTarget(network: Pick<NetworkRecord, 'projectId' | 'shared' | 'external'>) {
  return {
    project_id: network.projectId,
    tenant_id: network.projectId,
    shared: network.shared,
    external: network.external,
  };
}

/** The policy target of a subnet or port: its own project and its network's. */
export function childTarget(projectId: string, network: NetworkRecord, extra: Record<string, unknown> = {}) {
  return {
    project_id: projectId,
    tenant_id: projectId,
    network_project_id: network.projectId,
    network_shared: network.shared,
    ...extra,
  };
}

const HIDEABLE: Record<'network' | 'port', readonly string[]> = {
  network: ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'],
  port: ['binding:host_id', 'binding:vif_type', 'binding:vif_details', 'binding:profile'],
};

/** Per resource and request context (see credentialsOf): the attributes hidden from it. */
const hiddenByContext: Record<'network' | 'port', WeakMap<RequestContext, ReadonlySet<string>>> = {
  network: new WeakMap(),
  port: new WeakMap(),
};

/** Attributes the caller may not see (get_network:provider:* and get_port:binding:* rules). */
export function hiddenAttributes(
  service: CoreService,
  caller: Caller,
  resource: 'network' | 'port',
): ReadonlySet<string> {
  const known = hiddenByContext[resource];
  let hidden = known.get(caller.context);
  if (!hidden) {
    hidden = new Set(
      HIDEABLE[resource].filter(
        (attribute) => !allows(service.policy, caller.context, `get_${resource}:${attribute}`, {}),
      ),
    );
    known.set(caller.context, hidden);
  }
  return hidden;
}
