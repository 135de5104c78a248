// Version-discovery documents. keystoneauth and openstacksdk fetch these without a token and
// follow the `self` link they find, so links are absolute and built from the URL the client
// actually used to reach us.
import type { FastifyRequest } from 'fastify';

export interface Link {
  rel: string;
  href: string;
  type?: string;
}

export interface MediaType {
  base: string;
  type: string;
}

export interface VersionEntry {
  id: string;
  status: string;
  updated?: string;
  links: Link[];
  'media-types'?: MediaType[];
  /** Microversioned services (compute, placement) also say which microversions they speak. */
  version?: string;
  min_version?: string;
  max_version?: string;
}

/** The base URL as this client sees it: scheme and host of the request, no trailing slash. */
export function requestBaseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** `base` + path segments, joined with exactly one slash between them. */
export function joinUrl(base: string, ...segments: string[]): string {
  return [base.replace(/\/+$/, ''), ...segments.map((s) => s.replace(/^\/+/, ''))].join('/');
}

export function selfLink(href: string): Link {
  return { rel: 'self', href };
}
