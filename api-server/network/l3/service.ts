// What the l3 area's routes share: the core service (IPAM, the relay, policy, who is asking)
// and the database typed to the core's tables and the l3 area's, plus Neutron's l3 errors.
import type { Kysely, Transaction } from 'kysely';
import { Conflict, NotFound } from '../../common/errors.js';
import type { CoreService } from '../core/service.js';
import { write } from '../core/service.js';
import type { CoreDb } from '../core/store.js';
import type { CoreTables } from '../core/tables.js';
import type { L3Db } from './tables.js';

export interface L3Service {
  core: CoreService;
  db: Kysely<L3Db>;
}

/**
 * Runs an l3 write through the core's write (one retried transaction, then a kick to the
 * relay), with the transaction typed for the l3 tables too.
 */
export function writeL3<Result>(
  service: L3Service,
  work: (trx: Transaction<L3Db>) => Promise<Result>,
): Promise<Result> {
  return write(service.core, (trx) => work(trx as unknown as Transaction<L3Db>));
}

/** The same transaction, as the core's helpers (ports, IPAM, outbox) take it. */
export function asCore(trx: Transaction<L3Db>): Transaction<CoreTables> {
  return trx as unknown as Transaction<CoreTables>;
}

/** The same handle, as the core's store functions take it. */
export function coreDb(db: Kysely<L3Db> | Transaction<L3Db>): CoreDb {
  return db as unknown as CoreDb;
}

export function routerNotFound(id: string): NotFound {
  return new NotFound(`Router ${id} could not be found`, 'RouterNotFound');
}

export function floatingIpNotFound(id: string): NotFound {
  return new NotFound(`Floating IP ${id} could not be found`, 'FloatingIPNotFound');
}

export function l3PortInUse(portId: string, deviceOwner: string): Conflict {
  return new Conflict(
    `Port ${portId} has owner ${deviceOwner} and therefore cannot be deleted directly via the port API.`,
    'L3PortInUse',
  );
}
