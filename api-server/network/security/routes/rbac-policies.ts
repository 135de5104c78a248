// /v2.0/rbac-policies: sharing a network with a project, or with every project (admins only),
// as shared or as external. A policy is seen and changed by the project that made it.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isUniqueViolation } from '../../../../lib/db/errors.js';
import { withTransaction } from '../../../../lib/db/transaction.js';
import { allows, authorize } from '../../../common/authorize.js';
import { contextOf, requireAuth } from '../../../common/context.js';
import { BadRequest, Conflict, NotFound } from '../../../common/errors.js';
import { listResponse, sortKeys } from '../../pagination.js';
import {
  applyFilters,
  orNotFound,
  rejectUnknown,
  resourceBody,
  selectFields,
  stringAttribute,
} from '../api.js';
import { checkQuota } from '../quotas.js';
import {
  findRbacPolicy,
  insertRbacPolicy,
  listRbacPolicies,
  rbacNotFound,
  rbacObjectOwner,
  rbacView,
  refuseIfInUse,
  validateObjectTypeAndAction,
} from '../rbac.js';
import { callerOf, ownedTarget, type SecurityService } from '../service.js';

type IdParams = { Params: { id: string } };

/** What `sort_key` may name (Neutron's sortable RBAC policy attributes). */
const RBAC_SORT_KEYS = sortKeys('object_type', 'object_id', 'target_tenant', 'action');

const CREATE = [
  'object_type',
  'object_id',
  'action',
  'target_tenant',
  'target_project',
  'project_id',
  'tenant_id',
];

function duplicate(): Conflict {
  return new Conflict('An RBAC policy already exists with those values.', 'DuplicateRbacPolicy');
}

function targetTenantOf(body: Record<string, unknown>): string | undefined {
  const target = stringAttribute(body, 'target_tenant') ?? stringAttribute(body, 'target_project');
  if (target === '')
    throw new BadRequest("Invalid input for target_tenant. Reason: '' is not a valid project id.");
  return target;
}

export const rbacPolicyRoutes: FastifyPluginAsync<SecurityService> = async (app, service) => {
  const { db, policy, identity } = service;
  app.addHook('preHandler', requireAuth(identity));

  const canSee = (request: FastifyRequest, projectId: string) =>
    allows(policy, contextOf(request), 'get_rbac_policy', ownedTarget(projectId));

  async function findVisiblePolicy(request: FastifyRequest, id: string) {
    const row = await findRbacPolicy(db, id);
    return row && canSee(request, row.project_id) ? row : undefined;
  }

  const visiblePolicy = (request: FastifyRequest, id: string) =>
    orNotFound(findVisiblePolicy(request, id), () => rbacNotFound(id));

  app.get('/v2.0/rbac-policies', async (request) => {
    const caller = callerOf(request);
    const rows = await listRbacPolicies(db, caller.isAdmin ? undefined : caller.projectId);
    const views = applyFilters(request, rows.filter((row) => canSee(request, row.project_id)).map(rbacView));
    return listResponse(request, 'rbac_policies', views, {
      sortKeys: RBAC_SORT_KEYS,
      findMarker: async (id) => {
        const row = await findVisiblePolicy(request, id);
        return row && rbacView(row);
      },
      shape: (view) => selectFields(request, view),
    });
  });

  app.get<IdParams>('/v2.0/rbac-policies/:id', async (request) => ({
    rbac_policy: selectFields(request, rbacView(await visiblePolicy(request, request.params.id))),
  }));

  app.post('/v2.0/rbac-policies', async (request, reply) => {
    const caller = callerOf(request);
    const body = resourceBody(request, 'rbac_policy');
    rejectUnknown(body, CREATE);
    for (const required of ['object_type', 'object_id', 'action']) {
      if (body[required] === undefined) {
        throw new BadRequest(`Failed to parse request. Required attribute '${required}' not specified`);
      }
    }
    validateObjectTypeAndAction(body.object_type, body.action);
    const objectType = body.object_type as string;
    const objectId = stringAttribute(body, 'object_id', 36)!;
    const targetTenant = targetTenantOf(body);
    if (targetTenant === undefined) {
      throw new BadRequest("Failed to parse request. Required attribute 'target_tenant' not specified");
    }
    const named = stringAttribute(body, 'project_id', 64) ?? stringAttribute(body, 'tenant_id', 64);
    const projectId = named ?? caller.projectId;
    if (!projectId) throw new BadRequest('A project-scoped token is needed to create an RBAC policy.');
    const target = ownedTarget(projectId, { target_tenant: targetTenant, object_id: objectId });
    authorize(policy, request, 'create_rbac_policy', target);
    authorize(policy, request, 'create_rbac_policy:target_tenant', target);
    const owner = await rbacObjectOwner(db, objectType, objectId, projectId);
    if (owner !== projectId && !caller.isAdmin) {
      // Another project's network is not the caller's to share, nor even to know about.
      throw new NotFound(`Network ${objectId} could not be found.`, 'NetworkNotFound');
    }
    try {
      const row = await withTransaction(db, async (trx) => {
        const existing = await trx
          .selectFrom('network_rbac_policy')
          .select('id')
          .where('object_type', '=', objectType)
          .where('object_id', '=', objectId)
          .where('action', '=', body.action as string)
          .where('target_tenant', '=', targetTenant)
          .executeTakeFirst();
        if (existing) throw duplicate();
        await checkQuota(trx, projectId, 'rbac_policy');
        return insertRbacPolicy(trx, {
          project_id: projectId,
          object_type: objectType,
          object_id: objectId,
          action: body.action as string,
          target_tenant: targetTenant,
        });
      });
      return reply.code(201).send({ rbac_policy: rbacView(row) });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate();
      throw err;
    }
  });

  app.put<IdParams>('/v2.0/rbac-policies/:id', async (request) => {
    const row = await visiblePolicy(request, request.params.id);
    const body = resourceBody(request, 'rbac_policy');
    rejectUnknown(body, ['target_tenant', 'target_project']);
    const targetTenant = targetTenantOf(body);
    const target = ownedTarget(row.project_id, { target_tenant: targetTenant ?? row.target_tenant });
    authorize(policy, request, 'update_rbac_policy', target);
    if (targetTenant !== undefined && targetTenant !== row.target_tenant) {
      authorize(policy, request, 'update_rbac_policy:target_tenant', target);
      await refuseIfInUse(db, row);
      try {
        await db
          .updateTable('network_rbac_policy')
          .set({ target_tenant: targetTenant })
          .where('id', '=', row.id)
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicate();
        throw err;
      }
    }
    return { rbac_policy: rbacView((await findRbacPolicy(db, row.id))!) };
  });

  app.delete<IdParams>('/v2.0/rbac-policies/:id', async (request, reply) => {
    const row = await visiblePolicy(request, request.params.id);
    authorize(policy, request, 'delete_rbac_policy', ownedTarget(row.project_id));
    await refuseIfInUse(db, row);
    await db.deleteFrom('network_rbac_policy').where('id', '=', row.id).execute();
    return reply.code(204).send();
  });
};
