// Neutron's sorting and pagination of every list (its `sorting` and `pagination` extensions),
// one implementation for all areas of the service. A list route loads and filters the views the
// caller may see, then hands them to listResponse with the collection's sort keys:
//
// - `sort_key`/`sort_dir` come in pairs (repeatable, applied in order); keys are the
//   collection's sortable attributes (Neutron's is_sort_key ones, plus project_id beside
//   tenant_id), directions asc or desc; anything else is a 400 as Neutron words it. The `id`
//   always ends the order, as Neutron's native pagination appends it, so pages never overlap.
// - `limit` (0 or absent: no paging) pages the sorted list, starting after `marker` (the id of
//   the last item seen), or before it with `page_reverse=True`. The marker is looked up as
//   Neutron does: for the core plugin's resources an unknown one is their 404, for the
//   objects-based ones (security groups, rules, RBAC policies) it is ignored.
// - `<collection>_links` carry rel next/previous links built like neutron/api/api_common.py:
//   the request's own query with marker replaced by the page's last (first) id, page_reverse
//   dropped (set to True); next is left out on the last page going forward, previous on the
//   first page going backward.
import type { FastifyRequest } from 'fastify';
import { BadRequest } from '../common/errors.js';
import { requestBaseUrl } from '../common/versions.js';
import type { NetworkExtension } from './area.js';

export type View = Record<string, unknown>;

export interface SortOrder {
  key: string;
  ascending: boolean;
}

export interface PageRequest {
  /** The order, always ending with id. */
  sorts: SortOrder[];
  /** Items per page; undefined when the list is not paged. */
  limit: number | undefined;
  /** The id paging starts after (before when pageReverse); only with a limit. */
  marker: string | undefined;
  pageReverse: boolean;
}

export interface PageLink {
  rel: 'next' | 'previous';
  href: string;
}

export interface ListSpec<V extends View> {
  /** The attributes `sort_key` may name. */
  sortKeys: ReadonlySet<string>;
  /**
   * The view of the resource a marker names when the listed views do not hold it (a filter
   * left it out). Contract: return the view when the caller may see the resource; when not,
   * throw the collection's NotFound (core resources, as Neutron's plugin does) or return
   * undefined (the marker is then ignored, as Neutron's objects-based resources do).
   */
  findMarker?: (id: string) => Promise<V | undefined>;
  /** The view as sent (attributes hidden from the caller or not asked for by `fields` left out). */
  shape: (view: V) => View;
}

/**
 * A collection's sort keys: its sortable `attributes` and the id and owner (tenant_id, and
 * project_id beside it) that every Neutron resource sorts by.
 */
export function sortKeys(...attributes: string[]): ReadonlySet<string> {
  return new Set(['id', 'tenant_id', 'project_id', ...attributes]);
}

export const PAGINATION_EXTENSIONS: NetworkExtension[] = [
  {
    alias: 'pagination',
    name: 'Pagination support',
    description: 'Extension that indicates that pagination is enabled.',
    updated: '2016-06-12T00:00:00-00:00',
  },
  {
    alias: 'sorting',
    name: 'Sorting support',
    description: 'Extension that indicates that sorting is enabled.',
    updated: '2016-06-12T00:00:00-00:00',
  },
];

/** The query string of a request, as sent (order and repeated keys kept). */
function rawQuery(request: FastifyRequest): URLSearchParams {
  const start = request.url.indexOf('?');
  return new URLSearchParams(start < 0 ? '' : request.url.slice(start + 1));
}

/** Python's repr of a list of strings, as Neutron's messages print them: ['a', 'b']. */
function pythonList(items: readonly string[]): string {
  return `[${items.map((item) => `'${item}'`).join(', ')}]`;
}

/** The values of a repeatable key, empty ones dropped (Neutron's list_args). */
function listArgs(params: URLSearchParams, key: string): string[] {
  return params.getAll(key).filter((value) => value !== '');
}

/** The last value of a key, as webob's MultiDict.get answers. */
function lastValue(params: URLSearchParams, key: string): string | undefined {
  return params.getAll(key).at(-1);
}

/** Reads and checks the sorting and paging parameters of a list request (400 as Neutron). */
export function readPageRequest(params: URLSearchParams, sortKeys: ReadonlySet<string>): PageRequest {
  const keys = listArgs(params, 'sort_key');
  const directions = listArgs(params, 'sort_dir');
  if (keys.length !== directions.length) {
    throw new BadRequest('The number of sort_keys and sort_dirs must be same', 'HTTPBadRequest');
  }
  const unknownKeys = keys.filter((key) => !sortKeys.has(key));
  if (unknownKeys.length > 0) {
    throw new BadRequest(`${pythonList(unknownKeys)} is invalid attribute for sort_keys`, 'HTTPBadRequest');
  }
  const badDirections = directions.filter((direction) => direction !== 'asc' && direction !== 'desc');
  if (badDirections.length > 0) {
    throw new BadRequest(
      `${pythonList(badDirections)} is invalid value for sort_dirs, valid value is 'asc' and 'desc'`,
      'HTTPBadRequest',
    );
  }
  const sorts = keys.map((key, index) => ({ key, ascending: directions[index] === 'asc' }));
  if (!keys.includes('id')) sorts.push({ key: 'id', ascending: true });
  const limitText = lastValue(params, 'limit');
  let limit = 0;
  if (limitText !== undefined) {
    limit = /^\s*\+?\d+\s*$/.test(limitText) ? Number.parseInt(limitText, 10) : -1;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new BadRequest(
        `Bad limit request: Limit must be an integer 0 or greater and not '${limitText}'.`,
        'BadRequest',
      );
    }
  }
  const marker = lastValue(params, 'marker');
  return {
    sorts,
    limit: limit > 0 ? limit : undefined,
    marker: limit > 0 && marker ? marker : undefined,
    pageReverse: (lastValue(params, 'page_reverse') ?? 'False').toLowerCase() === 'true',
  };
}

/** SQL's order of two attribute values: null first, booleans as 0/1, numbers, then text. */
function compareValues(left: unknown, right: unknown): number {
  if (left === right) return 0;
  if (left === null || left === undefined) return -1;
  if (right === null || right === undefined) return 1;
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  if (typeof left === 'boolean' || typeof right === 'boolean') return Number(left) - Number(right);
  const a = String(left);
  const b = String(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareViews(sorts: readonly SortOrder[], left: View, right: View): number {
  for (const { key, ascending } of sorts) {
    const order = compareValues(left[key], right[key]);
    if (order !== 0) return ascending ? order : -order;
  }
  return 0;
}

/**
 * The page of `views` the request asks for: sorted, then (with a limit) the `limit` views
 * after the marker, or before it with page_reverse. `marker` is the marker's view, when it has
 * one the caller may see; without one paging starts at the first (page_reverse: last) view.
 */
export function selectPage<V extends View>(
  views: readonly V[],
  page: PageRequest,
  marker: View | undefined,
): V[] {
  const sorted = [...views].sort((left, right) => compareViews(page.sorts, left, right));
  if (page.limit === undefined) return sorted;
  if (page.pageReverse) {
    const before = marker ? sorted.filter((view) => compareViews(page.sorts, view, marker) < 0) : sorted;
    return before.slice(Math.max(0, before.length - page.limit));
  }
  const after = marker ? sorted.filter((view) => compareViews(page.sorts, view, marker) > 0) : sorted;
  return after.slice(0, page.limit);
}

/** Python's urllib quote_plus: unreserved characters kept, space as +, the rest %XX (UTF-8). */
function quotePlus(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function encodeQuery(params: readonly (readonly [string, string])[]): string {
  return params.map(([key, value]) => `${quotePlus(key)}=${quotePlus(value)}`).join('&');
}

/** The request's query with `key` removed and, when given, set last (webob MultiDict order). */
function replaced(
  params: readonly (readonly [string, string])[],
  key: string,
  value: string | undefined,
): [string, string][] {
  const kept = params.filter(([name]) => name !== key) as [string, string][];
  if (value !== undefined) kept.push([key, value]);
  return kept;
}

/** Neutron's next/previous links for a page of `items` (get_pagination_links). */
export function pageLinks(
  url: string,
  params: URLSearchParams,
  items: readonly View[],
  page: PageRequest,
): PageLink[] {
  const { limit } = page;
  if (limit === undefined) return [];
  const query = [...params.entries()];
  const links: PageLink[] = [];
  if (!(items.length < limit && !page.pageReverse)) {
    const last = items.at(-1)?.id;
    const withMarker = replaced(query, 'marker', last === undefined ? undefined : String(last));
    links.push({
      rel: 'next',
      href: `${url}?${encodeQuery(replaced(withMarker, 'page_reverse', undefined))}`,
    });
  }
  if (!(items.length < limit && page.pageReverse)) {
    const first = items[0]?.id;
    const withMarker = replaced(query, 'marker', first === undefined ? undefined : String(first));
    links.push({
      rel: 'previous',
      href: `${url}?${encodeQuery(replaced(withMarker, 'page_reverse', 'True'))}`,
    });
  }
  return links;
}

/**
 * The body of a list response: `{<collection>: [...]}`, sorted and paged as the request asks,
 * with `<collection>_links` when paged. `views` are the filtered views the caller may see.
 */
export async function listResponse<V extends View>(
  request: FastifyRequest,
  collection: string,
  views: readonly V[],
  spec: ListSpec<V>,
): Promise<Record<string, unknown>> {
  const params = rawQuery(request);
  const page = readPageRequest(params, spec.sortKeys);
  let marker: View | undefined;
  if (page.marker !== undefined) {
    const id = page.marker;
    marker = views.find((view) => view.id === id) ?? (await spec.findMarker?.(id));
  }
  const items = selectPage(views, page, marker);
  const body: Record<string, unknown> = { [collection]: items.map(spec.shape) };
  const links = pageLinks(`${requestBaseUrl(request)}${request.url.split('?')[0]}`, params, items, page);
  if (links.length > 0) body[`${collection}_links`] = links;
  return body;
}
