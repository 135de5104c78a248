// `overcast manage bootstrap` (and the all-in-one's first start): what Keystone's
// `keystone-manage bootstrap` creates — the Default domain, the admin project and user, the
// admin/manager/member/reader roles implying each other, RegionOne, and a catalog entry with
// public/internal/admin endpoints for every service this api-server serves, at the URL it
// is really reachable on. Safe to run again: it only adds what is missing and brings the
// admin password and endpoint URLs up to date.
import type { Kysely } from 'kysely';
import type { Config } from '../../lib/config.js';
import type { Database } from '../../lib/db/database.js';
import { withTransaction } from '../../lib/db/transaction.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl } from '../common/versions.js';
import {
  type EndpointInterface,
  insertEndpoint,
  insertRegion,
  insertService,
  listEndpoints,
  listRegions,
  listServices,
  updateEndpoint,
} from './catalog-store.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { keyRepositoryPath } from './runtime.js';
import {
  findUserByName,
  getDomain,
  insertAssignment,
  insertDomain,
  insertImpliedRole,
  insertProject,
  insertRole,
  insertUser,
  listImpliedRoleRules,
  listProjects,
  listRoles,
  newId,
  updateUser,
} from './store.js';
import { DEFAULT_DOMAIN_ID, type IdentityTables, SYSTEM_TARGET } from './tables.js';
import { setupKeyRepository } from './tokens/keys.js';

/** Keystone's default roles, each implying the next. */
export const DEFAULT_ROLES = ['admin', 'manager', 'member', 'reader'] as const;
export const ADMIN_NAME = 'admin';
export const DEFAULT_REGION = 'RegionOne';
const INTERFACES: EndpointInterface[] = ['public', 'internal', 'admin'];

export interface BootstrapOptions {
  adminPassword: string;
  /** Base URL the api-server is reachable on (endpoints are this plus each service's path). */
  publicUrl: string;
  services: readonly OpenStackService[];
  region?: string;
}

export interface BootstrapReport {
  created: string[];
  updated: string[];
}

export async function bootstrapIdentity(
  database: Database,
  config: Config,
  options: BootstrapOptions,
): Promise<BootstrapReport> {
  setupKeyRepository(keyRepositoryPath(config));
  const report: BootstrapReport = { created: [], updated: [] };
  const db = database.tables<IdentityTables>();
  await withTransaction(db, async (trx) => {
    await ensureDefaultDomain(trx, report);
    const roleIds = await ensureRoles(trx, report);
    const projectId = await ensureAdminProject(trx, report);
    const userId = await ensureAdminUser(trx, config, options.adminPassword, report);
    for (const target of [
      { type: 'UserProject' as const, targetId: projectId },
      { type: 'UserSystem' as const, targetId: SYSTEM_TARGET },
    ]) {
      await insertAssignment(trx, {
        ...target,
        actorId: userId,
        roleId: roleIds.get(ADMIN_NAME)!,
        inherited: false,
      });
    }
    await ensureCatalog(trx, options, report);
  });
  return report;
}

async function ensureDefaultDomain(db: Kysely<IdentityTables>, report: BootstrapReport) {
  if (await getDomain(db, DEFAULT_DOMAIN_ID)) return;
  await insertDomain(db, {
    id: DEFAULT_DOMAIN_ID,
    name: 'Default',
    description: 'The default domain',
    enabled: true,
    extra: {},
  });
  report.created.push('domain Default');
}

async function ensureRoles(
  db: Kysely<IdentityTables>,
  report: BootstrapReport,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const name of DEFAULT_ROLES) {
    let [role] = await listRoles(db, { name, domainId: null });
    if (!role) {
      role = { id: newId(), name, domainId: null, description: null, extra: {} };
      await insertRole(db, role);
      report.created.push(`role ${name}`);
    }
    ids.set(name, role.id);
  }
  const rules = await listImpliedRoleRules(db);
  for (let i = 0; i + 1 < DEFAULT_ROLES.length; i++) {
    const prior = ids.get(DEFAULT_ROLES[i]!)!;
    const implied = ids.get(DEFAULT_ROLES[i + 1]!)!;
    if (!rules.some((rule) => rule.priorRoleId === prior && rule.impliedRoleId === implied)) {
      await insertImpliedRole(db, prior, implied);
      report.created.push(`implied role ${DEFAULT_ROLES[i]} ⇒ ${DEFAULT_ROLES[i + 1]}`);
    }
  }
  return ids;
}

async function ensureAdminProject(db: Kysely<IdentityTables>, report: BootstrapReport): Promise<string> {
  const [existing] = await listProjects(db, { name: ADMIN_NAME, domainId: DEFAULT_DOMAIN_ID });
  if (existing) return existing.id;
  const id = newId();
  await insertProject(db, {
    id,
    name: ADMIN_NAME,
    domainId: DEFAULT_DOMAIN_ID,
    parentId: null,
    description: 'Bootstrap project for initializing the cloud.',
    enabled: true,
    tags: [],
    extra: {},
  });
  report.created.push('project admin');
  return id;
}

async function ensureAdminUser(
  db: Kysely<IdentityTables>,
  config: Config,
  password: string,
  report: BootstrapReport,
) {
  const rounds = config.identity.passwordHashRounds;
  const existing = await findUserByName(db, DEFAULT_DOMAIN_ID, ADMIN_NAME);
  if (existing) {
    if (!existing.enabled || !(await verifyPassword(password, existing.passwordHash))) {
      await updateUser(
        db,
        { ...existing, enabled: true, passwordHash: await hashPassword(password, rounds) },
        true,
      );
      report.updated.push('user admin (password, enabled)');
    }
    return existing.id;
  }
  const id = newId();
  await insertUser(db, {
    id,
    name: ADMIN_NAME,
    domainId: DEFAULT_DOMAIN_ID,
    enabled: true,
    defaultProjectId: null,
    passwordHash: await hashPassword(password, rounds),
    extra: {},
  });
  report.created.push('user admin');
  return id;
}

async function ensureCatalog(db: Kysely<IdentityTables>, options: BootstrapOptions, report: BootstrapReport) {
  const region = options.region ?? DEFAULT_REGION;
  if (!(await listRegions(db)).some((existing) => existing.id === region)) {
    await insertRegion(db, { id: region, description: '', parentRegionId: null, extra: {} });
    report.created.push(`region ${region}`);
  }
  for (const service of options.services) {
    let [record] = await listServices(db, { type: service.type, name: service.catalogName });
    if (!record) {
      record = {
        id: newId(),
        type: service.type,
        name: service.catalogName,
        description: null,
        enabled: true,
        extra: {},
      };
      await insertService(db, record);
      report.created.push(`service ${service.catalogName} (${service.type})`);
    }
    const url = joinUrl(options.publicUrl, service.endpointPath);
    const endpoints = await listEndpoints(db, { serviceId: record.id, regionId: region });
    for (const iface of INTERFACES) {
      const endpoint = endpoints.find((candidate) => candidate.interface === iface);
      if (!endpoint) {
        await insertEndpoint(db, {
          id: newId(),
          serviceId: record.id,
          interface: iface,
          regionId: region,
          url,
          enabled: true,
          extra: {},
        });
        report.created.push(`endpoint ${service.type} ${iface} ${url}`);
      } else if (endpoint.url !== url) {
        await updateEndpoint(db, { ...endpoint, url });
        report.updated.push(`endpoint ${service.type} ${iface} ${url}`);
      }
    }
  }
}
