// /v2.0/quotas: the limits of a project (its own or the defaults), the defaults, usage details,
// and an admin's changes. Unlike other resources, a refused read of another project's quota is a
// 403, as in Neutron's quota controller.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { allows, authorize } from '../../../common/authorize.js';
import { contextOf, requireAuth } from '../../../common/context.js';
import { BadRequest } from '../../../common/errors.js';
import { resourceBody } from '../api.js';
import {
  customizedQuotas,
  projectQuotas,
  QUOTA_DEFAULTS,
  QUOTA_RESOURCES,
  quotaUsage,
  resetQuotas,
  setQuotas,
} from '../quotas.js';
import { callerOf, ownedTarget, type SecurityService } from '../service.js';

type ProjectParams = { Params: { project_id: string } };

function quotaLimit(resource: string, value: unknown): number {
  const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw new BadRequest(`Invalid input for ${resource}. Reason: '${String(value)}' is not an integer.`);
  }
  if (number < -1) {
    throw new BadRequest(
      `Invalid input for ${resource}. Reason: '${number}' is too small - must be at least '-1'.`,
    );
  }
  if (number > 2 ** 31 - 1) {
    throw new BadRequest(
      `Invalid input for ${resource}. Reason: '${number}' is too large - must be no larger than '${2 ** 31 - 1}'.`,
    );
  }
  return number;
}

export const quotaRoutes: FastifyPluginAsync<SecurityService> = async (app, service) => {
  const { db, policy, identity } = service;
  app.addHook('preHandler', requireAuth(identity));

  app.get('/v2.0/quotas', async (request) => {
    const byProject = await customizedQuotas(db);
    const context = contextOf(request);
    return {
      quotas: Object.entries(byProject)
        .filter(([projectId]) => allows(policy, context, 'get_quota', ownedTarget(projectId)))
        .map(([projectId, quotas]) => ({ ...quotas, project_id: projectId, tenant_id: projectId })),
    };
  });

  // Which project the caller's token is for (Neutron's /quotas/tenant and /quotas/project).
  app.get('/v2.0/quotas/tenant', async (request) => ({
    tenant: { tenant_id: callerOf(request).projectId ?? null },
  }));
  app.get('/v2.0/quotas/project', async (request) => ({
    project: { project_id: callerOf(request).projectId ?? null },
  }));

  app.get<ProjectParams>('/v2.0/quotas/:project_id', async (request) => {
    const { project_id: projectId } = request.params;
    authorize(policy, request, 'get_quota', ownedTarget(projectId));
    return { quota: await projectQuotas(db, projectId) };
  });

  app.get<ProjectParams>('/v2.0/quotas/:project_id/default', async (request) => {
    authorize(policy, request, 'get_quota', ownedTarget(request.params.project_id));
    return { quota: { ...QUOTA_DEFAULTS } };
  });

  // Tempest asks for /details.json: Neutron takes a .json suffix on any path.
  const details = async (request: FastifyRequest<ProjectParams>) => {
    const { project_id: projectId } = request.params;
    authorize(policy, request, 'get_quota', ownedTarget(projectId));
    const limits = await projectQuotas(db, projectId);
    const usage: Record<string, { limit: number; used: number; reserved: number }> = {};
    for (const resource of QUOTA_RESOURCES) {
      usage[resource] = {
        limit: limits[resource]!,
        used: await quotaUsage(db, projectId, resource),
        reserved: 0,
      };
    }
    return { quota: usage };
  };
  app.get<ProjectParams>('/v2.0/quotas/:project_id/details', details);
  app.get<ProjectParams>('/v2.0/quotas/:project_id/details.json', details);

  app.put<ProjectParams>('/v2.0/quotas/:project_id', async (request) => {
    const { project_id: projectId } = request.params;
    authorize(policy, request, 'update_quota', ownedTarget(projectId));
    if (projectId.length > 64) throw new BadRequest(`Invalid project id ${projectId}.`);
    const body = resourceBody(request, 'quota');
    const unknown = Object.keys(body).filter((key) => !QUOTA_RESOURCES.includes(key));
    if (unknown.length > 0) throw new BadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
    const limits = Object.fromEntries(
      Object.entries(body).map(([resource, value]) => [resource, quotaLimit(resource, value)]),
    );
    await setQuotas(db, projectId, limits);
    return { quota: await projectQuotas(db, projectId) };
  });

  app.delete<ProjectParams>('/v2.0/quotas/:project_id', async (request, reply) => {
    authorize(policy, request, 'delete_quota', ownedTarget(request.params.project_id));
    await resetQuotas(db, request.params.project_id);
    return reply.code(204).send();
  });
};
