// /v3/domains and /v3/projects.
import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { withTransaction } from '../../../lib/db/transaction.js';
import { authorize } from '../../common/authorize.js';
import { requireAuth } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import { BadRequest, Forbidden } from '../../common/errors.js';
import { DomainCreate, DomainUpdate, ProjectCreate, ProjectUpdate } from '../schemas.js';
import {
  type DomainRecord,
  deleteDomainAndContents,
  deleteProject,
  getDomain,
  getProject,
  insertDomain,
  insertProject,
  listDomains,
  listProjects,
  newId,
  type ProjectRecord,
  projectHasChildren,
  updateDomain,
  updateProject,
} from '../store.js';
import { collectionLinks, domainAsProjectView, domainView, projectView } from '../views.js';
import { extraOf, found, queryBoolean, queryList, queryString, storeUnique } from './common.js';

const DOMAIN_FIELDS = ['id', 'name', 'description', 'enabled', 'tags', 'options', 'links'];
const PROJECT_FIELDS = [
  'id',
  'name',
  'domain_id',
  'parent_id',
  'description',
  'enabled',
  'is_domain',
  'tags',
  'options',
  'links',
];

export const projectRoutes: FastifyPluginAsync<ServiceDependencies> = async (app, { identity, policy }) => {
  app.addHook('preHandler', requireAuth(identity));
  const db = identity.db;

  /** Deletes a disabled domain and all it owns (DELETE /v3/domains and /v3/projects alike). */
  async function removeDomain(domain: DomainRecord): Promise<void> {
    if (domain.enabled)
      throw new Forbidden('Cannot delete a domain that is enabled, please disable it first.');
    await withTransaction(db, (trx) => deleteDomainAndContents(trx, domain.id));
    await identity.revoke({ domainId: domain.id });
    identity.changed();
  }

  /** Applies an update to a domain (PATCH /v3/domains and /v3/projects alike). */
  async function changeDomain(
    domain: DomainRecord,
    body: { name?: string; description?: string | null; enabled?: boolean } & Record<string, unknown>,
  ): Promise<DomainRecord> {
    const updated = {
      ...domain,
      name: body.name ?? domain.name,
      description: body.description === undefined ? domain.description : body.description,
      enabled: body.enabled ?? domain.enabled,
      extra: { ...domain.extra, ...extraOf(body, DOMAIN_FIELDS) },
    };
    await storeUnique('domain', `name ${updated.name}`, () => updateDomain(db, updated));
    if (domain.enabled && !updated.enabled) await identity.revoke({ domainId: domain.id });
    identity.changed();
    return updated;
  }

  // ------------------------------------------------------------ domains
  app.get('/v3/domains', async (request) => {
    const query = request.query as Record<string, unknown>;
    authorize(policy, request, 'identity:list_domains');
    const domains = await listDomains(db, {
      name: queryString(query.name),
      enabled: queryBoolean(query.enabled, 'enabled'),
    });
    return {
      domains: domains.map((domain) => domainView(request, domain)),
      links: collectionLinks(request, 'domains'),
    };
  });

  app.get('/v3/domains/:domainId', async (request) => {
    const { domainId } = request.params as { domainId: string };
    const domain = found(await getDomain(db, domainId), 'domain', domainId);
    authorize(policy, request, 'identity:get_domain', {
      domain_id: domainId,
      target: { domain: domainView(request, domain) },
    });
    return { domain: domainView(request, domain) };
  });

  app.post('/v3/domains', { schema: { body: DomainCreate } }, async (request, reply) => {
    const body = (request.body as Static<typeof DomainCreate>).domain;
    authorize(policy, request, 'identity:create_domain', { target: { domain: body } });
    const domain = {
      id: newId(),
      name: body.name,
      description: body.description ?? null,
      enabled: body.enabled ?? true,
      extra: extraOf(body, DOMAIN_FIELDS),
    };
    await storeUnique('domain', `name ${domain.name}`, () => insertDomain(db, domain));
    identity.changed();
    return reply.code(201).send({ domain: domainView(request, domain) });
  });

  app.patch('/v3/domains/:domainId', { schema: { body: DomainUpdate } }, async (request) => {
    const { domainId } = request.params as { domainId: string };
    const body = (request.body as Static<typeof DomainUpdate>).domain;
    const domain = found(await getDomain(db, domainId), 'domain', domainId);
    authorize(policy, request, 'identity:update_domain', {
      domain_id: domainId,
      target: { domain: domainView(request, domain) },
    });
    return { domain: domainView(request, await changeDomain(domain, body)) };
  });

  app.delete('/v3/domains/:domainId', async (request, reply) => {
    const { domainId } = request.params as { domainId: string };
    const domain = found(await getDomain(db, domainId), 'domain', domainId);
    authorize(policy, request, 'identity:delete_domain', {
      domain_id: domainId,
      target: { domain: domainView(request, domain) },
    });
    await removeDomain(domain);
    return reply.code(204).send();
  });

  // ------------------------------------------------------------ projects
  /**
   * The project with this id, or else the domain (Keystone's domains are projects acting as
   * domains, reachable through the projects API too); 404 when neither exists.
   */
  async function projectOrDomain(
    id: string,
  ): Promise<{ project: ProjectRecord; domain?: undefined } | { project?: undefined; domain: DomainRecord }> {
    const project = await getProject(db, id);
    if (project) return { project };
    return { domain: found(await getDomain(db, id), 'project', id) };
  }

  /** POST /v3/projects with is_domain: true makes a domain, shown as a project. */
  async function createDomainProject(request: FastifyRequest, body: Static<typeof ProjectCreate>['project']) {
    if (body.domain_id || body.parent_id)
      throw new BadRequest('A project acting as a domain has no domain or parent.');
    authorize(policy, request, 'identity:create_project', {
      target: { project: { ...body, domain_id: null } },
    });
    const domain = {
      id: newId(),
      name: body.name,
      description: body.description ?? null,
      enabled: body.enabled ?? true,
      extra: extraOf(body, PROJECT_FIELDS),
    };
    await storeUnique('domain', `name ${domain.name}`, () => insertDomain(db, domain));
    identity.changed();
    return domainAsProjectView(request, domain);
  }

  app.get('/v3/projects', async (request) => {
    const query = request.query as Record<string, unknown>;
    authorize(
      policy,
      request,
      'identity:list_projects',
      request.context?.scope.kind === 'domain'
        ? { target: { domain_id: request.context.scope.domain.id } }
        : {},
    );
    // Keystone lists projects acting as domains only when asked for with is_domain=true.
    if (queryBoolean(query.is_domain, 'is_domain')) {
      const domains = await listDomains(db, {
        name: queryString(query.name),
        enabled: queryBoolean(query.enabled, 'enabled'),
      });
      return {
        projects: domains.map((domain) => domainAsProjectView(request, domain)),
        links: collectionLinks(request, 'projects'),
      };
    }
    const projects = await listProjects(db, {
      name: queryString(query.name),
      domainId: queryString(query.domain_id),
      parentId: queryString(query.parent_id),
      enabled: queryBoolean(query.enabled, 'enabled'),
      tags: queryList(query.tags),
      tagsAny: queryList(query['tags-any']),
      notTags: queryList(query['not-tags']),
      notTagsAny: queryList(query['not-tags-any']),
    });
    return {
      projects: projects.map((project) => projectView(request, project)),
      links: collectionLinks(request, 'projects'),
    };
  });

  app.get('/v3/projects/:projectId', async (request) => {
    const { projectId } = request.params as { projectId: string };
    const { project, domain } = await projectOrDomain(projectId);
    const view = project ? projectView(request, project) : domainAsProjectView(request, domain);
    authorize(policy, request, 'identity:get_project', { project_id: projectId, target: { project: view } });
    return { project: view };
  });

  app.post('/v3/projects', { schema: { body: ProjectCreate } }, async (request, reply) => {
    const body = (request.body as Static<typeof ProjectCreate>).project;
    if (body.is_domain) return reply.code(201).send({ project: await createDomainProject(request, body) });
    const context = request.context!;
    const parent = body.parent_id ? await getProject(db, body.parent_id) : undefined;
    if (body.parent_id && !parent) throw new BadRequest(`Could not find parent project: ${body.parent_id}.`);
    const domainId =
      body.domain_id ??
      parent?.domainId ??
      (context.scope.kind === 'domain' ? context.scope.domain.id : context.userDomain.id);
    authorize(policy, request, 'identity:create_project', {
      target: { project: { ...body, domain_id: domainId } },
    });
    found(await getDomain(db, domainId), 'domain', domainId);
    if (parent && parent.domainId !== domainId)
      throw new BadRequest('A project must be in the domain of its parent.');
    const project = {
      id: newId(),
      name: body.name,
      domainId,
      parentId: parent?.id ?? null,
      description: body.description ?? null,
      enabled: body.enabled ?? true,
      tags: body.tags ?? [],
      extra: extraOf(body, PROJECT_FIELDS),
    };
    await storeUnique('project', `name ${project.name} at domain ID ${domainId}`, () =>
      withTransaction(db, (trx) => insertProject(trx, project)),
    );
    identity.changed();
    return reply.code(201).send({ project: projectView(request, project) });
  });

  app.patch('/v3/projects/:projectId', { schema: { body: ProjectUpdate } }, async (request) => {
    const { projectId } = request.params as { projectId: string };
    const body = (request.body as Static<typeof ProjectUpdate>).project;
    const { project, domain } = await projectOrDomain(projectId);
    authorize(policy, request, 'identity:update_project', {
      project_id: projectId,
      target: { project: project ? projectView(request, project) : domainAsProjectView(request, domain) },
    });
    if (!project) {
      if (body.is_domain === false) throw new BadRequest('A project acting as a domain stays a domain.');
      if (body.domain_id !== undefined || body.parent_id !== undefined)
        throw new BadRequest('A project acting as a domain has no domain or parent.');
      return { project: domainAsProjectView(request, await changeDomain(domain, body)) };
    }
    if (body.is_domain === true) throw new BadRequest('A project cannot become a domain.');
    if (body.domain_id !== undefined && body.domain_id !== project.domainId) {
      throw new BadRequest('Cannot change the domain of a project.');
    }
    if (body.parent_id !== undefined && body.parent_id !== project.parentId) {
      throw new Forbidden('Cannot change the parent of a project.');
    }
    const updated = {
      ...project,
      name: body.name ?? project.name,
      description: body.description === undefined ? project.description : body.description,
      enabled: body.enabled ?? project.enabled,
      tags: body.tags ?? project.tags,
      extra: { ...project.extra, ...extraOf(body, PROJECT_FIELDS) },
    };
    await storeUnique('project', `name ${updated.name} at domain ID ${project.domainId}`, () =>
      withTransaction(db, (trx) => updateProject(trx, updated)),
    );
    if (project.enabled && !updated.enabled) await identity.revoke({ projectId });
    identity.changed();
    return { project: projectView(request, updated) };
  });

  app.delete('/v3/projects/:projectId', async (request, reply) => {
    const { projectId } = request.params as { projectId: string };
    const { project, domain } = await projectOrDomain(projectId);
    authorize(policy, request, 'identity:delete_project', {
      project_id: projectId,
      target: { project: project ? projectView(request, project) : domainAsProjectView(request, domain) },
    });
    if (!project) {
      await removeDomain(domain);
      return reply.code(204).send();
    }
    if (await projectHasChildren(db, projectId)) {
      throw new Forbidden('Cannot delete the project since it is not a leaf in the hierarchy.');
    }
    await withTransaction(db, (trx) => deleteProject(trx, projectId));
    await identity.revoke({ projectId });
    identity.changed();
    return reply.code(204).send();
  });
};
