// Finding a service's URL in the token's catalog: by service type (or one of its old names),
// interface and region, then the API version openstacksdk puts after it (Neutron's catalog URL
// is unversioned and the SDK appends v2.0; Glance's gets v2; Nova's already ends in v2.1).
import { ConfigurationError, EndpointNotFound } from './errors.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface CatalogEndpoint {
  interface: string;
  url: string;
  region_id?: string | null;
  region?: string | null;
}

export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** `publicURL` (the v2 spelling OS_ENDPOINT_TYPE still carries) and `public` alike. */
export function normalizeInterface(value: string): EndpointInterface {
  const name = value.replace(/URL$/, '').toLowerCase();
  if (name === 'public' || name === 'internal' || name === 'admin') return name;
  throw new ConfigurationError(`interface "${value}" is not one of public, internal, admin`);
}

/**
 * The official service types (service-types-authority) with the historical names a catalog may
 * still register them under, first choice first.
 */
const SERVICE_TYPE_ALIASES: Record<string, readonly string[]> = {
  identity: ['identity'],
  compute: ['compute'],
  image: ['image'],
  network: ['network'],
  placement: ['placement'],
  'block-storage': ['block-storage', 'volumev3', 'volumev2', 'volume', 'block-store'],
  'object-store': ['object-store'],
  'load-balancer': ['load-balancer'],
  dns: ['dns'],
  'key-manager': ['key-manager'],
  orchestration: ['orchestration'],
  baremetal: ['baremetal'],
  'shared-file-system': ['shared-file-system', 'sharev2', 'share'],
  'container-infrastructure-management': ['container-infrastructure-management', 'container-infra'],
};

/** The official type for `type` or any of its aliases (`volumev3` → `block-storage`). */
export function officialServiceType(type: string): string {
  for (const [official, aliases] of Object.entries(SERVICE_TYPE_ALIASES)) {
    if (aliases.includes(type)) return official;
  }
  return type;
}

export interface EndpointFilter {
  serviceType: string;
  interface: EndpointInterface;
  /** Any region when undefined, as keystoneauth. */
  regionName: string | undefined;
}

/** The catalog URL of the first service, in alias order, with an endpoint matching `filter`. */
export function selectEndpoint(catalog: readonly CatalogService[], filter: EndpointFilter): string {
  const official = officialServiceType(filter.serviceType);
  const types = SERVICE_TYPE_ALIASES[official] ?? [official];
  for (const type of types) {
    for (const service of catalog.filter((candidate) => candidate.type === type)) {
      const endpoint = service.endpoints.find(
        (candidate) =>
          normalizeInterface(candidate.interface) === filter.interface &&
          (filter.regionName === undefined ||
            (candidate.region_id ?? candidate.region) === filter.regionName),
      );
      if (endpoint) return endpoint.url;
    }
  }
  const where = filter.regionName ? ` in region ${filter.regionName}` : '';
  throw new EndpointNotFound(`the catalog has no ${filter.interface} ${official} endpoint${where}`);
}

/** The version path segment each service's calls go under, when the catalog URL lacks it. */
const VERSION_SUFFIXES: Record<string, { suffix: string; present: RegExp }> = {
  identity: { suffix: 'v3', present: /\/v3(\.\d+)?$/ },
  network: { suffix: 'v2.0', present: /\/v2\.0$/ },
  image: { suffix: 'v2', present: /\/v2(\.\d+)?$/ },
  compute: { suffix: 'v2.1', present: /\/v2(\.1)?(\/[0-9a-f-]+)?$/ },
};

/**
 * The base URL a service's paths are relative to: the catalog (or override) URL with the
 * version segment appended where openstacksdk appends it, and no trailing slash.
 */
export function versionedBaseUrl(serviceType: string, url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  const version = VERSION_SUFFIXES[officialServiceType(serviceType)];
  if (!version || version.present.test(trimmed)) return trimmed;
  return `${trimmed}/${version.suffix}`;
}

/**
 * The headers that ask `serviceType` for `microversion`: Nova reads the legacy header below
 * 2.27 and the standard one from there, so both go, as openstacksdk sends them.
 */
export function microversionHeaders(serviceType: string, microversion: string): Record<string, string> {
  const official = officialServiceType(serviceType);
  switch (official) {
    case 'compute':
      return {
        'X-OpenStack-Nova-API-Version': microversion,
        'OpenStack-API-Version': `compute ${microversion}`,
      };
    case 'baremetal':
      return {
        'X-OpenStack-Ironic-API-Version': microversion,
        'OpenStack-API-Version': `baremetal ${microversion}`,
      };
    case 'block-storage':
      return { 'OpenStack-API-Version': `volume ${microversion}` };
    case 'shared-file-system':
      return { 'X-OpenStack-Manila-API-Version': microversion };
    default:
      return { 'OpenStack-API-Version': `${official} ${microversion}` };
  }
}
