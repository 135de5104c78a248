// /v3/auth: issuing, validating and revoking tokens, and what a token gives access to.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { authorize } from '../../common/authorize.js';
import { contextOf, requireAuth } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import { NotFound } from '../../common/errors.js';
import { issueToken } from '../authentication.js';
import { AuthRequest } from '../schemas.js';
import { groupIdsOfUser, listAssignments, listDomains, listProjects } from '../store.js';
import { projectView, requestLinks, tokenBody } from '../views.js';

const SUBJECT_TOKEN = 'x-subject-token';
/** What fastify sends for objects; token bodies are sent as ready-made strings. */
const JSON_TYPE = 'application/json; charset=utf-8';

function wantsCatalog(request: FastifyRequest): boolean {
  const value = (request.query as Record<string, unknown>).nocatalog;
  return value === undefined || value === 'false' || value === 'False' || value === '0';
}

export const tokenRoutes: FastifyPluginAsync<ServiceDependencies> = async (app, { identity, policy }) => {
  const authenticated = { preHandler: requireAuth(identity) };

  app.post('/v3/auth/tokens', { schema: { body: AuthRequest } }, async (request, reply) => {
    const { token, context } = await issueToken(identity, request.body as AuthRequest);
    const catalog = wantsCatalog(request) ? await identity.catalogJson() : undefined;
    return reply.code(201).header(SUBJECT_TOKEN, token).type(JSON_TYPE).send(tokenBody(context, catalog));
  });

  /** The subject token's context; Keystone answers 404 for any subject token it rejects. */
  async function subjectOf(request: FastifyRequest) {
    const subject = request.headers[SUBJECT_TOKEN];
    if (typeof subject !== 'string' || subject === '') throw new NotFound('Could not find token.');
    try {
      const { validated, context } = await identity.resolveToken(subject);
      if (context) return { subject, payload: validated.payload, context };
    } catch {
      // falls through to the 404 below
    }
    throw new NotFound(`Could not find token: ${subject}.`);
  }

  // HEAD has its own handler (check_token), so fastify must not derive one from this GET.
  app.get('/v3/auth/tokens', { ...authenticated, exposeHeadRoute: false }, async (request, reply) => {
    const { subject, context } = await subjectOf(request);
    authorize(policy, request, 'identity:validate_token', {
      target: { token: { user_id: context.user.id } },
    });
    const body = await identity.renderToken(subject, context, wantsCatalog(request));
    return reply.header(SUBJECT_TOKEN, subject).type(JSON_TYPE).send(body);
  });

  app.head('/v3/auth/tokens', authenticated, async (request, reply) => {
    const { context } = await subjectOf(request);
    authorize(policy, request, 'identity:check_token', { target: { token: { user_id: context.user.id } } });
    return reply.code(200).send();
  });

  app.delete('/v3/auth/tokens', authenticated, async (request, reply) => {
    const { payload, context } = await subjectOf(request);
    authorize(policy, request, 'identity:revoke_token', { target: { token: { user_id: context.user.id } } });
    await identity.revoke({ auditId: payload.auditIds[0] });
    return reply.code(204).send();
  });

  app.get('/v3/auth/catalog', authenticated, async (request) => {
    authorize(policy, request, 'identity:get_auth_catalog');
    return { catalog: await identity.catalog(), links: requestLinks(request) };
  });

  /** Projects and domains the caller holds a role on, directly or through a group. */
  async function assignedTargets(request: FastifyRequest, kind: 'Project' | 'Domain') {
    const context = contextOf(request);
    const assignments = await listAssignments(identity.db, {
      types: [`User${kind}`, `Group${kind}`],
      actorIds: [context.user.id, ...(await groupIdsOfUser(identity.db, context.user.id))],
    });
    return [...new Set(assignments.map((assignment) => assignment.targetId))];
  }

  app.get('/v3/auth/projects', authenticated, async (request) => {
    authorize(policy, request, 'identity:get_auth_projects');
    const projects = await listProjects(identity.db, {
      ids: await assignedTargets(request, 'Project'),
      enabled: true,
    });
    return {
      projects: projects.map((project) => projectView(request, project)),
      links: requestLinks(request),
    };
  });

  app.get('/v3/auth/domains', authenticated, async (request) => {
    authorize(policy, request, 'identity:get_auth_domains');
    const ids = new Set(await assignedTargets(request, 'Domain'));
    const domains = (await listDomains(identity.db, { enabled: true })).filter((domain) =>
      ids.has(domain.id),
    );
    return {
      domains: domains.map((domain) => ({ id: domain.id, name: domain.name, enabled: domain.enabled })),
      links: requestLinks(request),
    };
  });
};
