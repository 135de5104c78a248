import { describe, expect, it } from 'vitest';
import { type CatalogService, microversionHeaders, selectEndpoint, versionedBaseUrl } from './catalog.js';
import { EndpointNotFound } from './errors.js';
import { nextLinkOf, resolveLink } from './pagination.js';

const catalog: CatalogService[] = [
  {
    type: 'volumev3',
    endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://c/volume/v3/p1' }],
  },
  {
    type: 'network',
    endpoints: [
      { interface: 'public', region_id: 'RegionOne', url: 'http://c/network' },
      { interface: 'internal', region_id: 'RegionOne', url: 'http://internal:9696/' },
      // Keystone's v2-era responses name the region without region_id.
      { interface: 'public', region: 'RegionTwo', url: 'http://two/network' },
    ],
  },
];

describe('endpoint selection', () => {
  it('matches service type, interface and region; any region when none is named', () => {
    const pick = (serviceType: string, iface: 'public' | 'internal' | 'admin', regionName?: string) =>
      selectEndpoint(catalog, { serviceType, interface: iface, regionName });
    expect(pick('network', 'public')).toBe('http://c/network');
    expect(pick('network', 'internal', 'RegionOne')).toBe('http://internal:9696/');
    expect(pick('network', 'public', 'RegionTwo')).toBe('http://two/network');
    expect(pick('block-storage', 'public')).toBe('http://c/volume/v3/p1');
    expect(pick('volumev3', 'public')).toBe('http://c/volume/v3/p1');
    expect(() => pick('network', 'admin')).toThrow(
      new EndpointNotFound('the catalog has no admin network endpoint'),
    );
    expect(() => pick('image', 'public', 'RegionOne')).toThrow(
      /no public image endpoint in region RegionOne/,
    );
  });

  it('appends the version openstacksdk appends, once', () => {
    expect(versionedBaseUrl('network', 'http://c/network')).toBe('http://c/network/v2.0');
    expect(versionedBaseUrl('network', 'http://internal:9696/')).toBe('http://internal:9696/v2.0');
    expect(versionedBaseUrl('network', 'http://c/network/v2.0/')).toBe('http://c/network/v2.0');
    expect(versionedBaseUrl('image', 'http://c/image')).toBe('http://c/image/v2');
    expect(versionedBaseUrl('compute', 'http://c/compute/v2.1')).toBe('http://c/compute/v2.1');
    expect(versionedBaseUrl('compute', 'http://c:8774/v2.1/0123abcd')).toBe('http://c:8774/v2.1/0123abcd');
    expect(versionedBaseUrl('identity', 'http://c/identity')).toBe('http://c/identity/v3');
    expect(versionedBaseUrl('identity', 'http://c:5000/v3/')).toBe('http://c:5000/v3');
    expect(versionedBaseUrl('placement', 'http://c/placement')).toBe('http://c/placement');
    expect(versionedBaseUrl('volumev3', 'http://c/volume/v3/p1')).toBe('http://c/volume/v3/p1');
  });

  it('names the microversion the way each service reads it', () => {
    expect(microversionHeaders('compute', '2.61')).toEqual({
      'X-OpenStack-Nova-API-Version': '2.61',
      'OpenStack-API-Version': 'compute 2.61',
    });
    expect(microversionHeaders('placement', '1.39')).toEqual({ 'OpenStack-API-Version': 'placement 1.39' });
    expect(microversionHeaders('volumev3', '3.60')).toEqual({ 'OpenStack-API-Version': 'volume 3.60' });
  });
});

describe('next-page links', () => {
  it('reads Neutron/Nova <collection>_links, Keystone links.next and Glance next', () => {
    expect(
      nextLinkOf(
        {
          networks: [],
          networks_links: [
            { rel: 'previous', href: 'p' },
            { rel: 'next', href: 'http://c/n?marker=1' },
          ],
        },
        'networks',
      ),
    ).toBe('http://c/n?marker=1');
    expect(nextLinkOf({ projects: [], links: { self: 's', next: null } }, 'projects')).toBeUndefined();
    expect(nextLinkOf({ projects: [], links: { next: 'http://c/v3/projects?marker=2' } }, 'projects')).toBe(
      'http://c/v3/projects?marker=2',
    );
    expect(nextLinkOf({ images: [], next: '/v2/images?marker=3' }, 'images')).toBe('/v2/images?marker=3');
  });

  it("resolves Glance's version-relative path after the endpoint's version, and absolute links as they are", () => {
    expect(resolveLink('/v2/images?marker=3', 'http://c/image/v2')).toBe('http://c/image/v2/images?marker=3');
    expect(resolveLink('/v2/images?marker=3', 'http://glance:9292/v2')).toBe(
      'http://glance:9292/v2/images?marker=3',
    );
    expect(resolveLink('http://other/network/v2.0/networks?marker=1', 'http://c/network/v2.0')).toBe(
      'http://other/network/v2.0/networks?marker=1',
    );
    expect(resolveLink('/elsewhere?x=1', 'http://c/image/v2')).toBe('http://c/elsewhere?x=1');
  });
});
