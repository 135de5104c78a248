// GET /v2/images: Glance's filters, sorting and marker pagination over the images a caller may
// see. The database does the filtering and ordering; the page is cut at the marker from the
// ordered ids, then only that page's images are read in full.
import { BadRequest } from '../common/errors.js';
import {
  getImages,
  IMAGE_STATUSES,
  type ImageDb,
  type ImageRecord,
  MEMBER_STATUSES,
  VISIBILITIES,
} from './store.js';
import type { Viewer } from './visibility.js';

/** Glance's limit_param_default and api_limit_max. */
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 1000;

const SORT_COLUMNS = {
  name: 'name',
  status: 'status',
  container_format: 'container_format',
  disk_format: 'disk_format',
  size: 'size',
  virtual_size: 'virtual_size',
  id: 'id',
  created_at: 'created_at',
  updated_at: 'updated_at',
  visibility: 'visibility',
  owner: 'owner',
  min_ram: 'min_ram',
  min_disk: 'min_disk',
} as const;
type SortKey = keyof typeof SORT_COLUMNS;
type SortDirection = 'asc' | 'desc';

const TIME_OPERATORS = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', neq: '<>' } as const;

/** Query keys with a meaning of their own; any other key filters on a custom property. */
const RESERVED_QUERY_KEYS = new Set([
  'limit',
  'marker',
  'sort',
  'sort_key',
  'sort_dir',
  'name',
  'id',
  'status',
  'visibility',
  'owner',
  'tag',
  'member_status',
  'disk_format',
  'container_format',
  'size',
  'size_min',
  'size_max',
  'min_ram',
  'min_disk',
  'protected',
  'os_hidden',
  'created_at',
  'updated_at',
]);

type Query = Record<string, string | string[] | undefined>;

export interface ImagePage {
  images: ImageRecord[];
  /** The marker of the next page, when there may be one. */
  nextMarker?: string;
}

function single(query: Query, key: string): string | undefined {
  const value = query[key];
  return Array.isArray(value) ? value.at(-1) : value;
}

function all(query: Query, key: string): string[] {
  const value = query[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function integer(query: Query, key: string, minimum: number): number | undefined {
  const text = single(query, key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value < minimum)
    throw new BadRequest(`Invalid value '${text}' for parameter ${key}`);
  return value;
}

function booleanFilter(query: Query, key: string): boolean | undefined {
  const text = single(query, key)?.toLowerCase();
  if (text === undefined) return undefined;
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  throw new BadRequest(`Invalid value '${text}' for parameter ${key}`);
}

function oneOf<T extends string>(query: Query, key: string, allowed: readonly T[]): T | undefined {
  const text = single(query, key);
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new BadRequest(`Invalid ${key} value: ${text}`);
  }
  return text as T;
}

/** sort=name:asc,created_at or sort_key=name&sort_key=id&sort_dir=asc, never both. */
function sortOrder(query: Query): { key: SortKey; direction: SortDirection }[] {
  const sort = single(query, 'sort');
  const keys = all(query, 'sort_key');
  const directions = all(query, 'sort_dir');
  const checkKey = (key: string): SortKey => {
    if (!(key in SORT_COLUMNS)) throw new BadRequest(`Invalid sort key: ${key}. It is not sortable.`);
    return key as SortKey;
  };
  const checkDirection = (direction: string): SortDirection => {
    if (direction !== 'asc' && direction !== 'desc')
      throw new BadRequest(`Invalid sort direction: ${direction}`);
    return direction;
  };
  let order: { key: SortKey; direction: SortDirection }[];
  if (sort !== undefined) {
    if (keys.length > 0 || directions.length > 0) {
      throw new BadRequest('The sort and sort_key/sort_dir parameters cannot be used together.');
    }
    order = sort.split(',').map((part) => {
      const [key = '', direction = 'desc'] = part.trim().split(':');
      return { key: checkKey(key), direction: checkDirection(direction) };
    });
  } else {
    if (directions.length > 1 && directions.length !== keys.length) {
      throw new BadRequest(
        'The number of sort_dir values must be one or match the number of sort_key values.',
      );
    }
    order = (keys.length > 0 ? keys : ['created_at']).map((key, index) => ({
      key: checkKey(key),
      direction: checkDirection(directions[index] ?? directions[0] ?? 'desc'),
    }));
  }
  // Ids break ties, so the order (and so the marker) is total.
  if (!order.some((entry) => entry.key === 'id'))
    order.push({ key: 'id', direction: order.at(-1)!.direction });
  return order;
}

/** gt:2016-01-01T00:00:00Z style time filters, as Glance's created_at/updated_at. */
function timeFilter(text: string, key: string): { operator: string; value: string } {
  const colon = text.indexOf(':');
  const name = colon < 0 ? '' : text.slice(0, colon);
  const operator = TIME_OPERATORS[name as keyof typeof TIME_OPERATORS];
  const value = colon < 0 ? text : text.slice(colon + 1);
  const time = new Date(value);
  if (!operator || Number.isNaN(time.getTime())) {
    throw new BadRequest(
      `Invalid filter value ${text} for ${key}: use an operator (gt, gte, lt, lte, eq, neq) and an ISO 8601 time`,
    );
  }
  return { operator, value: time.toISOString() };
}

/** `in:a,b,"c,d"` lists of Glance's id and name filters, or one plain value. */
function inList(text: string): string[] {
  if (!text.startsWith('in:')) return [text];
  const values: string[] = [];
  const pattern = /"([^"]*)"|([^,]+)/g;
  for (const match of text.slice(3).matchAll(pattern)) values.push(match[1] ?? match[2]!.trim());
  return values;
}

export async function listVisibleImages(db: ImageDb, viewer: Viewer, query: Query): Promise<ImagePage> {
  const limit = Math.min(integer(query, 'limit', 0) ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const marker = single(query, 'marker');
  const order = sortOrder(query);
  const visibility = oneOf(query, 'visibility', [...VISIBILITIES, 'all'] as const);
  const memberStatus = oneOf(query, 'member_status', [...MEMBER_STATUSES, 'all'] as const) ?? 'accepted';
  const project = viewer.projectId ?? '';

  let select = db.selectFrom('image_image').select('id');

  // Who sees what (visibility.ts explains the rules); community images are listed only when
  // asked for, or to their owner.
  select = select.where((eb) => {
    const owned = eb('owner', '=', project);
    const membership = eb.exists(
      eb
        .selectFrom('image_member')
        .select('image_member.image_id')
        .whereRef('image_member.image_id', '=', 'image_image.id')
        .where('image_member.member_id', '=', project)
        .$if(memberStatus !== 'all', (sub) => sub.where('image_member.status', '=', memberStatus)),
    );
    const sharedWithMe = eb.and([eb('visibility', '=', 'shared'), membership]);
    switch (visibility) {
      case 'public':
        return eb('visibility', '=', 'public');
      case 'community':
        return eb('visibility', '=', 'community');
      case 'private':
        return viewer.isAdmin
          ? eb('visibility', '=', 'private')
          : eb.and([eb('visibility', '=', 'private'), owned]);
      case 'shared':
        return viewer.isAdmin
          ? eb('visibility', '=', 'shared')
          : eb.and([eb('visibility', '=', 'shared'), eb.or([owned, membership])]);
      case 'all':
        return viewer.isAdmin
          ? eb.lit(true)
          : eb.or([owned, eb('visibility', 'in', ['public', 'community']), sharedWithMe]);
      default:
        return viewer.isAdmin
          ? eb.or([eb('visibility', '<>', 'community'), owned])
          : eb.or([owned, eb('visibility', '=', 'public'), sharedWithMe]);
    }
  });

  const ids = single(query, 'id');
  if (ids !== undefined) select = select.where('id', 'in', inList(ids));
  const names = single(query, 'name');
  if (names !== undefined) select = select.where('name', 'in', inList(names));
  const status = oneOf(query, 'status', IMAGE_STATUSES);
  if (status !== undefined) select = select.where('status', '=', status);
  const owner = single(query, 'owner');
  if (owner !== undefined) select = select.where('owner', '=', owner);
  for (const key of ['disk_format', 'container_format'] as const) {
    const value = single(query, key);
    if (value !== undefined) select = select.where(key, 'in', inList(value));
  }
  for (const key of ['size', 'min_ram', 'min_disk'] as const) {
    const value = integer(query, key, 0);
    if (value !== undefined) select = select.where(key, '=', value);
  }
  const sizeMin = integer(query, 'size_min', 0);
  if (sizeMin !== undefined) select = select.where('size', '>=', sizeMin);
  const sizeMax = integer(query, 'size_max', 0);
  if (sizeMax !== undefined) select = select.where('size', '<=', sizeMax);
  const isProtected = booleanFilter(query, 'protected');
  if (isProtected !== undefined) select = select.where('protected', '=', isProtected ? 1 : 0);
  // Hidden images stay out of lists unless asked for (os_hidden=true lists only those).
  select = select.where('os_hidden', '=', booleanFilter(query, 'os_hidden') ? 1 : 0);
  for (const key of ['created_at', 'updated_at'] as const) {
    for (const text of all(query, key)) {
      const { operator, value } = timeFilter(text, key);
      select = select.where(key, operator as '>', value);
    }
  }
  for (const tag of all(query, 'tag')) {
    select = select.where((eb) =>
      eb.exists(
        eb
          .selectFrom('image_tag')
          .select('image_tag.image_id')
          .whereRef('image_tag.image_id', '=', 'image_image.id')
          .where('image_tag.value', '=', tag),
      ),
    );
  }
  for (const [key, value] of Object.entries(query)) {
    if (RESERVED_QUERY_KEYS.has(key) || value === undefined) continue;
    const wanted = Array.isArray(value) ? value.at(-1)! : value;
    select = select.where((eb) =>
      eb.exists(
        eb
          .selectFrom('image_property')
          .select('image_property.image_id')
          .whereRef('image_property.image_id', '=', 'image_image.id')
          .where('image_property.name', '=', key)
          .where('image_property.value', '=', wanted),
      ),
    );
  }

  for (const { key, direction } of order) select = select.orderBy(SORT_COLUMNS[key], direction);
  const ordered = (await select.execute()).map((row) => row.id);

  let start = 0;
  if (marker !== undefined) {
    const index = ordered.indexOf(marker);
    if (index < 0) throw new BadRequest(`Invalid marker. Image ${marker} could not be found.`);
    start = index + 1;
  }
  const pageIds = ordered.slice(start, start + limit);
  const byId = new Map((await getImages(db, pageIds)).map((image) => [image.id, image]));
  const images = pageIds
    .map((id) => byId.get(id))
    .filter((image): image is ImageRecord => image !== undefined);
  const more = start + limit < ordered.length;
  return { images, ...(more && images.length > 0 ? { nextMarker: images.at(-1)!.id } : {}) };
}

/** The query string of the next page: the same query with the new marker. */
export function nextPageLink(query: Query, marker: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key === 'marker' || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, one);
  }
  params.append('marker', marker);
  return `/v2/images?${params.toString()}`;
}
