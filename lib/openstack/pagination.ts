// Walking a collection page by page, whichever way the service links its pages:
// Neutron and Nova put `<collection>_links: [{rel: "next", href}]` beside the items, Keystone
// `links: {next}`, Glance a bare `next` path relative to its unversioned endpoint. When no
// link comes back but the caller set a limit and got a full page, the next page is asked for
// with the last item's id as the marker, as openstacksdk does.
import { OpenStackError } from './errors.js';

export type Page = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The next-page reference a page carries, as sent (absolute URL or path), if any. */
export function nextLinkOf(page: Page, collection: string): string | undefined {
  const links = page[`${collection}_links`];
  if (Array.isArray(links)) {
    const next = links.find((link) => isRecord(link) && link.rel === 'next');
    if (isRecord(next) && typeof next.href === 'string') return next.href;
  }
  if (isRecord(page.links) && typeof page.links.next === 'string') return page.links.next;
  if (typeof page.next === 'string') return page.next;
  return undefined;
}

/**
 * `link` as an absolute URL. A path such as Glance's `/v2/images?marker=...` is relative to the
 * endpoint without its version, so when it repeats the version `baseUrl` ends with, it is
 * joined after that version instead of after the host.
 */
export function resolveLink(link: string, baseUrl: string): string {
  if (/^https?:\/\//i.test(link)) return link;
  const base = new URL(baseUrl);
  const version = base.pathname.replace(/\/+$/, '').split('/').pop();
  if (version && link.startsWith(`/${version}/`)) {
    return `${baseUrl.replace(/\/+$/, '')}${link.slice(version.length + 1)}`;
  }
  return new URL(link, base.origin).toString();
}

const idOf = (item: unknown) => (isRecord(item) && typeof item.id === 'string' ? item.id : undefined);

/**
 * The URL of the page after `items`, by marker, when the page holds exactly the caller's limit
 * (a longer page means the server ignored the limit, so it has nothing more to give).
 */
function markerUrl(
  currentUrl: string,
  items: readonly unknown[],
  limit: number | undefined,
): string | undefined {
  const last = idOf(items.at(-1));
  if (limit === undefined || items.length !== limit || last === undefined) return undefined;
  const url = new URL(currentUrl);
  url.searchParams.set('marker', last);
  url.searchParams.set('limit', String(limit));
  return url.toString();
}

export interface PaginateOptions {
  /** Items per page asked for; also what decides the marker fallback. */
  limit?: number;
}

/**
 * Every item of `collection`, fetching pages through `getPage` (which authenticates, retries and
 * throws typed errors) starting at `firstUrl`, until a page has no next reference.
 */
export async function* paginate<T>(
  getPage: (url: string) => Promise<Page>,
  firstUrl: string,
  baseUrl: string,
  collection: string,
  options: PaginateOptions = {},
): AsyncGenerator<T> {
  const seen = new Set<string>();
  let url: string | undefined = firstUrl;
  if (options.limit !== undefined) {
    const first = new URL(firstUrl);
    first.searchParams.set('limit', String(options.limit));
    url = first.toString();
  }
  let byMarker = false;
  let previousFirstId: string | undefined;
  while (url !== undefined) {
    // A server that links a page to itself would otherwise be read forever.
    if (seen.has(url)) throw new OpenStackError(`pagination of ${collection} came back to ${url}`);
    seen.add(url);
    const page = await getPage(url);
    const items = page[collection];
    if (!Array.isArray(items)) {
      throw new OpenStackError(`a page of ${collection} from ${url} has no "${collection}" list`);
    }
    // A server that ignores markers (Keystone) answers the first page again: nothing new.
    if (items.length === 0 || (byMarker && idOf(items[0]) === previousFirstId)) return;
    for (const item of items) yield item as T;
    previousFirstId = idOf(items[0]);
    const link = nextLinkOf(page, collection);
    byMarker = link === undefined;
    url = link !== undefined ? resolveLink(link, baseUrl) : markerUrl(url, items, options.limit);
  }
}
