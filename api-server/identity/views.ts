// The JSON Keystone returns for each resource. Links are absolute, built from the URL the
// client used.
import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../common/context.js';
import { joinUrl, requestBaseUrl } from '../common/versions.js';
import type { EndpointRecord, RegionRecord, ServiceRecord } from './catalog-store.js';
import { IDENTITY_PREFIX } from './plugin-prefix.js';
import type { DomainRecord, GroupRecord, ProjectRecord, RoleRecord, UserRecord } from './store.js';

export function v3Url(request: FastifyRequest, ...path: string[]): string {
  return joinUrl(requestBaseUrl(request), IDENTITY_PREFIX, 'v3', ...path);
}

export function collectionLinks(request: FastifyRequest, collection: string) {
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
  return { self: `${v3Url(request, collection)}${query}`, previous: null, next: null };
}

/** The absolute URL the client asked for, query included. */
export function requestUrl(request: FastifyRequest): string {
  return joinUrl(requestBaseUrl(request), request.url);
}

/** Links of a collection reached by a nested path (grants, /v3/auth/projects, ...). */
export function requestLinks(request: FastifyRequest) {
  return { self: requestUrl(request), previous: null, next: null };
}

export const domainView = (request: FastifyRequest, domain: DomainRecord) => ({
  ...domain.extra,
  id: domain.id,
  name: domain.name,
  description: domain.description ?? '',
  enabled: domain.enabled,
  tags: [],
  options: {},
  links: { self: v3Url(request, 'domains', domain.id) },
});

export const projectView = (request: FastifyRequest, project: ProjectRecord) => ({
  ...project.extra,
  id: project.id,
  name: project.name,
  domain_id: project.domainId,
  parent_id: project.parentId ?? project.domainId,
  description: project.description ?? '',
  enabled: project.enabled,
  is_domain: false,
  tags: project.tags,
  options: {},
  links: { self: v3Url(request, 'projects', project.id) },
});

/** A domain seen through the projects API: Keystone keeps domains as projects acting as domains. */
export const domainAsProjectView = (request: FastifyRequest, domain: DomainRecord) => ({
  ...domain.extra,
  id: domain.id,
  name: domain.name,
  domain_id: null,
  parent_id: null,
  description: domain.description ?? '',
  enabled: domain.enabled,
  is_domain: true,
  tags: [],
  options: {},
  links: { self: v3Url(request, 'projects', domain.id) },
});

export const userView = (request: FastifyRequest, user: UserRecord) => {
  const { options, ...extra } = user.extra;
  return {
    ...extra,
    id: user.id,
    name: user.name,
    domain_id: user.domainId,
    enabled: user.enabled,
    ...(user.defaultProjectId ? { default_project_id: user.defaultProjectId } : {}),
    password_expires_at: null,
    options: options ?? {},
    links: { self: v3Url(request, 'users', user.id) },
  };
};

export const groupView = (request: FastifyRequest, group: GroupRecord) => ({
  ...group.extra,
  id: group.id,
  name: group.name,
  domain_id: group.domainId,
  description: group.description ?? '',
  links: { self: v3Url(request, 'groups', group.id) },
});

export const roleView = (request: FastifyRequest, role: RoleRecord) => ({
  ...role.extra,
  id: role.id,
  name: role.name,
  domain_id: role.domainId,
  description: role.description,
  options: {},
  links: { self: v3Url(request, 'roles', role.id) },
});

export const regionView = (request: FastifyRequest, region: RegionRecord) => ({
  ...region.extra,
  id: region.id,
  description: region.description ?? '',
  parent_region_id: region.parentRegionId,
  links: { self: v3Url(request, 'regions', region.id) },
});

export const serviceView = (request: FastifyRequest, service: ServiceRecord) => ({
  ...service.extra,
  id: service.id,
  type: service.type,
  name: service.name,
  description: service.description,
  enabled: service.enabled,
  links: { self: v3Url(request, 'services', service.id) },
});

export const endpointView = (request: FastifyRequest, endpoint: EndpointRecord) => ({
  ...endpoint.extra,
  id: endpoint.id,
  interface: endpoint.interface,
  region_id: endpoint.regionId,
  region: endpoint.regionId,
  service_id: endpoint.serviceId,
  url: endpoint.url,
  enabled: endpoint.enabled,
  links: { self: v3Url(request, 'endpoints', endpoint.id) },
});

/** Keystone's timestamps: microsecond precision, "Z". */
export function keystoneTime(date: Date): string {
  // toISOString always ends in ".mmmZ"; Keystone prints microseconds.
  return `${date.toISOString().slice(0, -1)}000Z`;
}

/**
 * The body of a token response (POST and GET /v3/auth/tokens), serialized. The catalog comes
 * already serialized (IdentityRuntime.catalogJson) and is spliced in as the last member of
 * `token`: it is most of the body, the same for every token, and validating a token is the
 * hottest request there is.
 */
export function tokenBody(context: RequestContext, catalogJson: string | undefined): string {
  const token = JSON.stringify(tokenView(context));
  if (catalogJson === undefined || context.scope.kind === 'unscoped') return token;
  // token is `{"token":{...}}`: insert before its two closing braces.
  return `${token.slice(0, -2)},"catalog":${catalogJson}}}`;
}

function tokenView(context: RequestContext) {
  const scope = context.scope;
  return {
    token: {
      methods: context.methods,
      user: {
        id: context.user.id,
        name: context.user.name,
        domain: context.userDomain,
        password_expires_at: null,
      },
      audit_ids: context.auditIds,
      expires_at: keystoneTime(context.expiresAt),
      issued_at: keystoneTime(context.issuedAt),
      ...(scope.kind === 'project'
        ? {
            project: { id: scope.project.id, name: scope.project.name, domain: scope.domain },
            is_domain: false,
          }
        : {}),
      ...(scope.kind === 'domain' ? { domain: scope.domain } : {}),
      ...(scope.kind === 'system' ? { system: { all: true } } : {}),
      ...(scope.kind !== 'unscoped' ? { roles: context.roles } : {}),
      ...(context.applicationCredentialId
        ? { application_credential: { id: context.applicationCredentialId, restricted: true } }
        : {}),
    },
  };
}
