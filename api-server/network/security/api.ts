// What every route of this area needs from a Neutron request: the body's one resource object,
// refusing attributes Neutron does not know; the list query's filters and `fields`; and
// Neutron's timestamp format.
import type { FastifyRequest } from 'fastify';
import { BadRequest } from '../../common/errors.js';

/** The object under `key` of a request body ({"security_group": {...}}), else 400. */
export function resourceBody(request: FastifyRequest, key: string): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest('Resource body required');
  }
  const resource = (body as Record<string, unknown>)[key];
  if (resource === undefined) throw new BadRequest(`Unable to find '${key}' in request body`);
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    throw new BadRequest(`Invalid input for ${key}. Reason: must be an object.`);
  }
  return resource as Record<string, unknown>;
}

/** 400 for attributes outside `allowed`, as Neutron's "Unrecognized attribute(s)". */
export function rejectUnknown(resource: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(resource).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new BadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
}

/** 400 for attributes a client may not change after create. */
export function rejectReadOnly(resource: Record<string, unknown>, readOnly: readonly string[]): void {
  const denied = Object.keys(resource).filter((key) => readOnly.includes(key));
  if (denied.length > 0) {
    throw new BadRequest(`Cannot update read-only attribute ${denied[0]}`);
  }
}

export function stringAttribute(
  resource: Record<string, unknown>,
  name: string,
  maxLength = 255,
): string | undefined {
  const value = resource[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new BadRequest(`Invalid input for ${name}. Reason: '${String(value)}' is not a valid string.`);
  }
  if (value.length > maxLength) {
    throw new BadRequest(
      `Invalid input for ${name}. Reason: '${value}' exceeds maximum length of ${maxLength}.`,
    );
  }
  return value;
}

export function booleanAttribute(resource: Record<string, unknown>, name: string): boolean | undefined {
  const value = resource[name];
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  throw new BadRequest(
    `Invalid input for ${name}. Reason: '${String(value)}' cannot be converted to boolean.`,
  );
}

type Query = Record<string, string | string[] | undefined>;

/** The values of a repeated (or single) query key. */
export function queryValues(request: FastifyRequest, key: string): string[] {
  const value = (request.query as Query | undefined)?.[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Query keys that are not filters. */
const NOT_FILTERS = new Set(['fields', 'limit', 'marker', 'page_reverse', 'sort_key', 'sort_dir']);

function filterText(value: unknown): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

/**
 * Keeps the views that match every filter of the query (`?name=a&name=b` is a or b). Filters
 * on attributes a view does not have are ignored; booleans match true/false in any case.
 */
export function applyFilters<View extends Record<string, unknown>>(
  request: FastifyRequest,
  views: View[],
): View[] {
  const query = (request.query as Query | undefined) ?? {};
  const filters = Object.keys(query)
    .filter((key) => !NOT_FILTERS.has(key))
    .map((key) => ({ key, values: queryValues(request, key) }));
  return views.filter((view) =>
    filters.every(({ key, values }) => {
      if (!Object.hasOwn(view, key)) return true;
      const value = view[key];
      if (Array.isArray(value) || (value !== null && typeof value === 'object')) return true;
      const text = filterText(value);
      if (typeof value === 'boolean') return values.some((wanted) => wanted.toLowerCase() === text);
      return values.includes(text);
    }),
  );
}

/** The view reduced to the `fields` asked for (all of it when none are). */
export function selectFields<View extends Record<string, unknown>>(
  request: FastifyRequest,
  view: View,
): Record<string, unknown> {
  const fields = queryValues(request, 'fields');
  if (fields.length === 0) return view;
  return Object.fromEntries(
    fields.filter((field) => Object.hasOwn(view, field)).map((field) => [field, view[field]]),
  );
}

/** What `find` answered, or `notFound` thrown when it answered nothing (a caller must not see it). */
export async function orNotFound<Found>(
  find: Promise<Found | undefined>,
  notFound: () => Error,
): Promise<Found> {
  const found = await find;
  if (found === undefined) throw notFound();
  return found;
}

/** Neutron's created_at/updated_at: seconds, UTC, "Z". */
export function neutronTime(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

/** The project filter of a list: project_id or tenant_id, first value. */
export function projectFilter(request: FastifyRequest): string | undefined {
  return queryValues(request, 'project_id')[0] ?? queryValues(request, 'tenant_id')[0];
}
