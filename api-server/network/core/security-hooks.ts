// What the security area needs to know about the core area's resources, through the hooks it
// offers: how to count a project's networks, subnets and ports for quotas, who owns a network
// an RBAC policy names, whether a port still uses a security group, and whether a project still
// relies on a network shared with it.
import type { Kysely } from 'kysely';
import type { AnyTables } from '../../../lib/db/database.js';
import {
  registerQuotaCounter,
  registerRbacObjectResolver,
  registerRbacPolicyUseCheck,
  registerSecurityGroupUseCheck,
} from '../security/area.js';
import type { CoreTables } from './tables.js';

const COUNTED: Record<string, 'network_network' | 'network_subnet' | 'network_port'> = {
  network: 'network_network',
  subnet: 'network_subnet',
  port: 'network_port',
};

const typed = (db: Kysely<AnyTables>) => db as Kysely<CoreTables>;

let registered = false;

/** Registers the hooks once per process (the registries are module-wide). */
export function registerSecurityHooks(): void {
  if (registered) return;
  registered = true;
  for (const [resource, table] of Object.entries(COUNTED)) {
    registerQuotaCounter(resource, async (db, projectId) => {
      const row = await typed(db)
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    });
  }
  registerRbacObjectResolver('network', async (db, networkId) => {
    const row = await typed(db)
      .selectFrom('network_network')
      .select('project_id')
      .where('id', '=', networkId)
      .executeTakeFirst();
    return row ? { projectId: row.project_id } : undefined;
  });
  registerSecurityGroupUseCheck(async (db, groupId) => {
    const row = await typed(db)
      .selectFrom('network_port_security_group')
      .select('port_id')
      .where('security_group_id', '=', groupId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  });
  // A project with ports on a network shared with it relies on the grant.
  registerRbacPolicyUseCheck(async (db, grant) => {
    if (grant.object_type !== 'network' || grant.action !== 'access_as_shared') return false;
    const network = await typed(db)
      .selectFrom('network_network')
      .select('project_id')
      .where('id', '=', grant.object_id)
      .executeTakeFirst();
    if (!network) return false;
    let query = typed(db)
      .selectFrom('network_port')
      .select('id')
      .where('network_id', '=', grant.object_id)
      .where('project_id', '!=', network.project_id)
      .where('device_owner', 'not like', 'network:%');
    if (grant.target_tenant !== '*') query = query.where('project_id', '=', grant.target_tenant);
    return (await query.limit(1).executeTakeFirst()) !== undefined;
  });
}
