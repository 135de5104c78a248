// Query strings of Neutron's GET requests: `fields=` (repeatable) picks the attributes shown,
// every other key is a filter on an attribute, matched against the rendered value (any of
// repeated values; booleans as true/false; list attributes such as fixed_ips by their
// members' keys, as `fixed_ips=ip_address=10.0.0.5`, or by part of an address with Neutron's
// ip-substring-filtering, `fixed_ips=ip_address_substr=10.0.0.`). Filters on attributes the
// caller may not see match nothing; unknown keys are ignored.
import type { ListFilter } from './store.js';

export type Query = Record<string, string | string[] | undefined>;

const NOT_FILTERS = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse']);

function values(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function fieldsOf(query: Query): string[] | undefined {
  const fields = values(query.fields).flatMap((field) => field.split(','));
  return fields.length > 0 ? fields : undefined;
}

const DATABASE_FILTERS = new Set([
  'id',
  'name',
  'project_id',
  'tenant_id',
  'network_id',
  'device_id',
  'device_owner',
  'mac_address',
]);

/** Whether the database filter alone answers the query (no view-level filters, no fields). */
export function onlyDatabaseFilters(query: Query): boolean {
  return Object.keys(query).every((key) => DATABASE_FILTERS.has(key));
}

/** The filters the database applies (indexed columns), from the query. */
export function databaseFilter(query: Query): ListFilter {
  const filter: ListFilter = {};
  const take = (key: string) => {
    const list = values(query[key]);
    return list.length > 0 ? list : undefined;
  };
  const id = take('id');
  const name = take('name');
  const projectId = take('project_id') ?? take('tenant_id');
  const networkId = take('network_id');
  const deviceId = take('device_id');
  const deviceOwner = take('device_owner');
  const macAddress = take('mac_address');
  if (id) filter.id = id;
  if (name) filter.name = name;
  if (projectId) filter.projectId = projectId;
  if (networkId) filter.networkId = networkId;
  if (deviceId) filter.deviceId = deviceId;
  if (deviceOwner) filter.deviceOwner = deviceOwner;
  if (macAddress) filter.macAddress = macAddress;
  return filter;
}

function matchesScalar(actual: unknown, wanted: string): boolean {
  if (typeof actual === 'boolean') return String(actual) === wanted.toLowerCase();
  if (actual === null) return wanted === '' || wanted === 'None' || wanted === 'null';
  return String(actual) === wanted;
}

function matches(actual: unknown, wanted: string): boolean {
  if (Array.isArray(actual)) {
    const equals = wanted.indexOf('=');
    if (equals > 0) {
      const key = wanted.slice(0, equals);
      const expected = wanted.slice(equals + 1);
      const members = actual.filter(
        (item): item is Record<string, unknown> => typeof item === 'object' && item !== null,
      );
      if (key === 'ip_address_substr') {
        return members.some((item) => String(item.ip_address).includes(expected));
      }
      return members.some((item) => String(item[key]) === expected);
    }
    return actual.some((item) => matchesScalar(item, wanted));
  }
  return matchesScalar(actual, wanted);
}

/** For resources of which policy hides no attribute from anyone. */
export const NOTHING_HIDDEN: ReadonlySet<string> = new Set();

/** Whether a rendered view passes every filter of the query. */
export function passesFilters(
  view: Record<string, unknown>,
  query: Query,
  hidden: ReadonlySet<string>,
): boolean {
  for (const [key, raw] of Object.entries(query)) {
    if (NOT_FILTERS.has(key)) continue;
    const wanted = values(raw);
    if (wanted.length === 0) continue;
    if (hidden.has(key)) return false;
    if (!Object.hasOwn(view, key)) continue;
    const actual = view[key];
    if (!wanted.some((value) => matches(actual, value))) return false;
  }
  return true;
}

/** The view without hidden attributes, narrowed to `fields` when given. */
export function shape(
  view: Record<string, unknown>,
  hidden: ReadonlySet<string>,
  fields: readonly string[] | undefined,
): Record<string, unknown> {
  if (hidden.size === 0 && !fields) return view;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(view)) {
    if (hidden.has(key)) continue;
    if (fields && !fields.includes(key)) continue;
    result[key] = value;
  }
  return result;
}

/** shape() for every view of one request: the hidden attributes and those `fields` leaves out removed. */
export function shaper(
  hidden: ReadonlySet<string>,
  query: Query,
): (view: Record<string, unknown>) => Record<string, unknown> {
  const fields = fieldsOf(query);
  return (view) => shape(view, hidden, fields);
}
