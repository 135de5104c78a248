// /v3/domains and /v3/projects.
import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { withTransaction } from '../../../lib/db/transaction.js';
import { authorize } from '../../common/authorize.js';
import { requireAuth } from '../../common/context.js';
import type { ServiceDependencies } from '../../common/dependencies.js';
import { BadRequest, Forbidden } from '../../common/errors.js';
import { DomainCreate, DomainUpdate, ProjectCreate, ProjectUpdate } from '../schemas.js';
import {
  deleteDomain,
  deleteProject,
  domainIsEmpty,
  getDomain,
  getProject,
  insertDomain,
  insertProject,
  listDomains,
  listProjects,
  newId,
  projectHasChildren,
  updateDomain,
  updateProject,
} from '../store.js';
import { collectionLinks, domainView, projectView } from '../views.js';
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
    const updated = {
      ...domain,
      name: body.name ?? domain.name,
      description: body.description === undefined ? domain.description : body.description,
      enabled: body.enabled ?? domain.enabled,
      extra: { ...domain.extra, ...extraOf(body, DOMAIN_FIELDS) },
    };
    await storeUnique('domain', `name ${updated.name}`, () => updateDomain(db, updated));
    if (domain.enabled && !updated.enabled) await identity.revoke({ domainId });
    identity.changed();
    return { domain: domainView(request, updated) };
  });

  app.delete('/v3/domains/:domainId', async (request, reply) => {
    const { domainId } = request.params as { domainId: string };
    const domain = found(await getDomain(db, domainId), 'domain', domainId);
    authorize(policy, request, 'identity:delete_domain', {
      domain_id: domainId,
      target: { domain: domainView(request, domain) },
    });
    if (domain.enabled)
      throw new Forbidden('Cannot delete a domain that is enabled, please disable it first.');
    if (!(await domainIsEmpty(db, domainId))) {
      throw new Forbidden('Cannot delete a domain that still owns projects, users or groups.');
    }
    await deleteDomain(db, domainId);
    identity.changed();
    return reply.code(204).send();
  });

  // ------------------------------------------------------------ projects
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
    const project = found(await getProject(db, projectId), 'project', projectId);
    authorize(policy, request, 'identity:get_project', {
      project_id: projectId,
      target: { project: projectView(request, project) },
    });
    return { project: projectView(request, project) };
  });

  app.post('/v3/projects', { schema: { body: ProjectCreate } }, async (request, reply) => {
    const body = (request.body as Static<typeof ProjectCreate>).project;
    if (body.is_domain)
      throw new BadRequest('Projects acting as domains are not supported; create a domain instead.');
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
    const project = found(await getProject(db, projectId), 'project', projectId);
    authorize(policy, request, 'identity:update_project', {
      project_id: projectId,
      target: { project: projectView(request, project) },
    });
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
    const project = found(await getProject(db, projectId), 'project', projectId);
    authorize(policy, request, 'identity:delete_project', {
      project_id: projectId,
      target: { project: projectView(request, project) },
    });
    if (await projectHasChildren(db, projectId)) {
      throw new Forbidden('Cannot delete the project since it is not a leaf in the hierarchy.');
    }
    await withTransaction(db, (trx) => deleteProject(trx, projectId));
    await identity.revoke({ projectId });
    identity.changed();
    return reply.code(204).send();
  });
};
