// Neutron's sorting and paging rules on plain views: the checks of sort_key/sort_dir/limit, the
// order (nulls first, booleans and numbers by value, id last), pages after and before a marker,
// and the next/previous links as neutron/api/api_common.py renders them.
import { describe, expect, it } from 'vitest';
import { type PageRequest, pageLinks, readPageRequest, selectPage, type View } from './pagination.js';

const SORT_KEYS = new Set(['id', 'name', 'shared', 'mtu']);

function request(query: string): PageRequest {
  return readPageRequest(new URLSearchParams(query), SORT_KEYS);
}

function refusal(query: string): { status: number; message: string; type: string | undefined } {
  try {
    request(query);
  } catch (error) {
    const { status, message, type } = error as { status: number; message: string; type?: string };
    return { status, message, type };
  }
  throw new Error(`no refusal for ${query}`);
}

const VIEWS: View[] = [
  { id: 'a', name: 'web', shared: true, mtu: 1450 },
  { id: 'b', name: 'db', shared: false, mtu: 9000 },
  { id: 'c', name: null, shared: false, mtu: 1500 },
  { id: 'd', name: 'web', shared: false, mtu: 1450 },
  { id: 'e', name: 'app', shared: true, mtu: 1450 },
];

const ids = (views: readonly View[]) => views.map((view) => view.id);

describe('reading sort and page parameters', () => {
  it('pairs sort keys with directions in order and ends the order with id', () => {
    expect(request('sort_key=name&sort_dir=desc&sort_key=mtu&sort_dir=asc').sorts).toEqual([
      { key: 'name', ascending: false },
      { key: 'mtu', ascending: true },
      { key: 'id', ascending: true },
    ]);
    expect(request('sort_key=id&sort_dir=desc').sorts).toEqual([{ key: 'id', ascending: false }]);
  });

  it('refuses unpaired, unknown and misdirected sort parameters as Neutron words them', () => {
    expect(refusal('sort_key=name')).toEqual({
      status: 400,
      message: 'The number of sort_keys and sort_dirs must be same',
      type: 'HTTPBadRequest',
    });
    expect(refusal('sort_key=subnets&sort_dir=asc&sort_key=bogus&sort_dir=asc')).toMatchObject({
      status: 400,
      message: "['subnets', 'bogus'] is invalid attribute for sort_keys",
    });
    expect(refusal('sort_key=name&sort_dir=up')).toMatchObject({
      status: 400,
      message: "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'",
    });
  });

  it('reads the limit (0 or none: not paged), refusing anything but a non-negative integer', () => {
    expect(request('limit=2&marker=a')).toMatchObject({ limit: 2, marker: 'a', pageReverse: false });
    expect(request('limit=0&marker=a')).toMatchObject({ limit: undefined, marker: undefined });
    expect(request('marker=a')).toMatchObject({ limit: undefined, marker: undefined });
    expect(request('limit=3&page_reverse=TRUE').pageReverse).toBe(true);
    for (const bad of ['-1', 'two', '', '1.5']) {
      expect(refusal(`limit=${bad}`)).toEqual({
        status: 400,
        message: `Bad limit request: Limit must be an integer 0 or greater and not '${bad}'.`,
        type: 'BadRequest',
      });
    }
  });
});

describe('selecting a page', () => {
  it('sorts nulls first, booleans and numbers by value, ties by id', () => {
    expect(ids(selectPage(VIEWS, request('sort_key=name&sort_dir=asc'), undefined))).toEqual([
      'c',
      'e',
      'b',
      'a',
      'd',
    ]);
    expect(
      ids(selectPage(VIEWS, request('sort_key=shared&sort_dir=desc&sort_key=mtu&sort_dir=desc'), undefined)),
    ).toEqual(['a', 'e', 'b', 'c', 'd']);
  });

  it('pages after the marker, or before it in reverse, by the marker’s place in the order', () => {
    const byName = 'sort_key=name&sort_dir=asc&limit=2';
    expect(ids(selectPage(VIEWS, request(byName), undefined))).toEqual(['c', 'e']);
    expect(ids(selectPage(VIEWS, request(`${byName}&marker=e`), VIEWS[4]))).toEqual(['b', 'a']);
    expect(ids(selectPage(VIEWS, request(`${byName}&marker=a`), VIEWS[0]))).toEqual(['d']);
    expect(ids(selectPage(VIEWS, request(`${byName}&marker=a&page_reverse=True`), VIEWS[0]))).toEqual([
      'e',
      'b',
    ]);
    expect(ids(selectPage(VIEWS, request(`${byName}&page_reverse=True`), undefined))).toEqual(['a', 'd']);
    // A marker the list does not hold (filtered out) still places the page by its values.
    const outside = { id: 'bb', name: 'db' };
    expect(ids(selectPage(VIEWS, request(`${byName}&marker=bb`), outside))).toEqual(['a', 'd']);
  });
});

describe('page links', () => {
  const url = 'http://cloud/network/v2.0/networks';

  it('renders next and previous from the request query, marker and page_reverse last', () => {
    const params = new URLSearchParams('marker=x&limit=2&name=my+net&sort_key=name&sort_dir=asc');
    const page = readPageRequest(params, SORT_KEYS);
    expect(pageLinks(url, params, [VIEWS[0]!, VIEWS[1]!], page)).toEqual([
      { rel: 'next', href: `${url}?limit=2&name=my+net&sort_key=name&sort_dir=asc&marker=b` },
      {
        rel: 'previous',
        href: `${url}?limit=2&name=my+net&sort_key=name&sort_dir=asc&marker=a&page_reverse=True`,
      },
    ]);
  });

  it('leaves out next on a short page forward, previous on a short page backward', () => {
    const forward = new URLSearchParams('limit=2');
    expect(pageLinks(url, forward, [VIEWS[0]!], readPageRequest(forward, SORT_KEYS))).toEqual([
      { rel: 'previous', href: `${url}?limit=2&marker=a&page_reverse=True` },
    ]);
    const backward = new URLSearchParams('limit=2&marker=a&page_reverse=True');
    expect(pageLinks(url, backward, [], readPageRequest(backward, SORT_KEYS))).toEqual([
      { rel: 'next', href: `${url}?limit=2` },
    ]);
    const unpaged = new URLSearchParams('name=a');
    expect(pageLinks(url, unpaged, [VIEWS[0]!], readPageRequest(unpaged, SORT_KEYS))).toEqual([]);
  });

  it('quotes values as Python’s urlencode does', () => {
    const params = new URLSearchParams('limit=1&name=a%2Fb%21%20c');
    expect(pageLinks(url, params, [{ id: 'k:1' }], readPageRequest(params, SORT_KEYS))[0]?.href).toBe(
      `${url}?limit=1&name=a%2Fb%21+c&marker=k%3A1`,
    );
  });
});
