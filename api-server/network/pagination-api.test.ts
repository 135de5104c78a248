// Sorting and paging through the API, in-process on SQLite, as openstacksdk uses them: following the `<collection>_links` next links from the first page, then the previous
// links back from the last, visits every item of each collection once, in the order of the
// unpaged sorted list; a bad sort key, direction or limit is a 400, an unknown marker a 404
// where Neutron answers one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceCall, startTestCloud, type TestCloud } from '../common/test-cloud.suite.js';

let cloud: TestCloud;
let net: ServiceCall;
let carol: { projectId: string; token: string };
let dave: { projectId: string; token: string };
/** A network of carol's that no RBAC policy shares with dave. */
let unsharedNetworkId: string;

interface Link {
  rel: string;
  href: string;
}

type Item = Record<string, unknown> & { id: string };

/** The path below the service prefix that a link points to. */
function pathOf(href: string): string {
  const url = new URL(href);
  expect(url.pathname.startsWith('/network/v2.0/')).toBe(true);
  return `${url.pathname.slice('/network'.length)}${url.search}`;
}

async function page(token: string, path: string, key: string): Promise<{ items: Item[]; links: Link[] }> {
  const { status, body } = await net(token, 'GET', path);
  expect(status, JSON.stringify(body)).toBe(200);
  return { items: body[key], links: body[`${key}_links`] ?? [] };
}

const linkOf = (links: Link[], rel: string) => links.find((link) => link.rel === rel);

/**
 * The ids met following next links from `/v2.0/<collection>?<query>`, and then previous links
 * back from the last page that had items, in list order.
 */
async function walk(token: string, collection: string, query: string) {
  const key = collection.replaceAll('-', '_');
  const forward: string[] = [];
  let current = await page(token, `/v2.0/${collection}?${query}`, key);
  let lastFull = current;
  for (let pages = 0; pages < 100; pages += 1) {
    forward.push(...current.items.map((item) => item.id));
    if (current.items.length > 0) lastFull = current;
    const next = linkOf(current.links, 'next');
    if (!next) break;
    current = await page(token, pathOf(next.href), key);
  }
  const backward = lastFull.items.map((item) => item.id);
  let previous = linkOf(lastFull.links, 'previous');
  for (let pages = 0; previous && pages < 100; pages += 1) {
    const earlier = await page(token, pathOf(previous.href), key);
    backward.unshift(...earlier.items.map((item) => item.id));
    previous = linkOf(earlier.links, 'previous');
  }
  return { forward, backward };
}

/** The unpaged list with the same query: what every walk must meet. */
async function unpaged(token: string, collection: string, query: string): Promise<Item[]> {
  return (await page(token, `/v2.0/${collection}?${query}`, collection.replaceAll('-', '_'))).items;
}

beforeAll(async () => {
  cloud = await startTestCloud();
  net = cloud.service('/network');
  const admin = await cloud.adminToken();
  carol = await cloud.memberProject(admin, 'carol');
  dave = await cloud.memberProject(admin, 'dave');
  const external = (
    await net(admin, 'POST', '/v2.0/networks', { network: { name: 'public', 'router:external': true } })
  ).body.network;
  await net(admin, 'POST', '/v2.0/subnets', {
    subnet: { network_id: external.id, ip_version: 4, cidr: '203.0.113.0/24' },
  });
  // Names repeat so that sorting by name needs the id to break ties.
  const names = ['red', 'blue', 'red', 'green', 'blue'];
  for (const [index, name] of names.entries()) {
    const network = (await net(carol.token, 'POST', '/v2.0/networks', { network: { name } })).body.network;
    await net(carol.token, 'POST', '/v2.0/subnets', {
      subnet: { network_id: network.id, ip_version: 4, cidr: `10.${index}.0.0/24`, name },
    });
    await net(carol.token, 'POST', '/v2.0/ports', { port: { network_id: network.id, name } });
    await net(carol.token, 'POST', '/v2.0/security-groups', { security_group: { name: `${name}-${index}` } });
    await net(carol.token, 'POST', '/v2.0/routers', { router: { name } });
    await net(carol.token, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: external.id } });
    if (index >= 3) unsharedNetworkId = network.id;
    else {
      await net(carol.token, 'POST', '/v2.0/rbac-policies', {
        rbac_policy: {
          object_type: 'network',
          object_id: network.id,
          action: 'access_as_shared',
          target_tenant: dave.projectId,
        },
      });
    }
  }
});

afterAll(() => cloud.close());

describe('walking every collection by its links', () => {
  for (const collection of [
    'networks',
    'subnets',
    'ports',
    'security-groups',
    'security-group-rules',
    'rbac-policies',
    'routers',
    'floatingips',
  ]) {
    it(`${collection}: next links walk the whole list forward, previous links back`, async () => {
      const all = (await unpaged(carol.token, collection, '')).map((item) => item.id);
      expect(all.length).toBeGreaterThanOrEqual(3);
      expect(all).toEqual([...all].sort());
      for (const limit of [1, 2, 3]) {
        const { forward, backward } = await walk(carol.token, collection, `limit=${limit}`);
        expect(forward, `limit ${limit}`).toEqual(all);
        expect(backward, `limit ${limit}`).toEqual(all);
      }
    });
  }

  it('sorts by several keys, id breaking ties, and pages in that order with fields asked for', async () => {
    const query = 'sort_key=name&sort_dir=desc&sort_key=admin_state_up&sort_dir=asc';
    const sorted = await unpaged(carol.token, 'networks', query);
    expect(sorted.map((network) => network.name)).toEqual(['red', 'red', 'public', 'green', 'blue', 'blue']);
    const reds = sorted.filter((network) => network.name === 'red').map((network) => network.id);
    expect(reds).toEqual([...reds].sort());
    const { forward, backward } = await walk(
      carol.token,
      'networks',
      `${query}&limit=2&fields=id&fields=name`,
    );
    expect(forward).toEqual(sorted.map((network) => network.id));
    expect(backward).toEqual(forward);
    const first = await page(carol.token, `/v2.0/networks?${query}&limit=2&fields=name`, 'networks');
    expect(first.items).toEqual([{ name: 'red' }, { name: 'red' }]);
    expect(pathOf(linkOf(first.links, 'next')!.href)).toBe(
      `/v2.0/networks?${query}&limit=2&fields=name&marker=${reds[1]}`,
    );
  });

  it('pages a filtered list, keeping the filter in the links', async () => {
    const blues = (await unpaged(carol.token, 'ports', 'name=blue')).map((port) => port.id);
    expect(blues).toHaveLength(2);
    const { forward, backward } = await walk(carol.token, 'ports', 'name=blue&limit=1');
    expect(forward).toEqual(blues);
    expect(backward).toEqual(blues);
  });

  it('starts after a marker the filter leaves out, by its place in the order', async () => {
    const all = (await unpaged(carol.token, 'subnets', '')).map((subnet) => subnet.id);
    const reds = (await unpaged(carol.token, 'subnets', 'name=red')).map((subnet) => subnet.id);
    const outsider = all.find((id) => !reds.includes(id))!;
    const after = await page(carol.token, `/v2.0/subnets?name=red&limit=5&marker=${outsider}`, 'subnets');
    expect(after.items.map((subnet) => subnet.id)).toEqual(reds.filter((id) => id > outsider));
  });
});

describe('refusals', () => {
  it('refuses an unknown sort key, an unpaired or bad direction and a bad limit with 400', async () => {
    const cases: [string, string][] = [
      ['sort_key=subnets&sort_dir=asc', "['subnets'] is invalid attribute for sort_keys"],
      ['sort_key=id', 'The number of sort_keys and sort_dirs must be same'],
      [
        'sort_key=id&sort_dir=sideways',
        "['sideways'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'",
      ],
      ['limit=-2', "Bad limit request: Limit must be an integer 0 or greater and not '-2'."],
    ];
    for (const collection of ['networks', 'ports', 'security-groups', 'rbac-policies']) {
      for (const [query, message] of cases) {
        const { status, body } = await net(carol.token, 'GET', `/v2.0/${collection}?${query}`);
        expect(status, `${collection}?${query}`).toBe(400);
        expect(body.NeutronError.message).toBe(message);
      }
    }
  });

  it('answers an unknown or invisible marker with the 404 of networks, subnets and ports', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const subnetOfUnshared = (await unpaged(carol.token, 'subnets', `network_id=${unsharedNetworkId}`))[0]!;
    const [carolsPort] = await unpaged(carol.token, 'ports', '');
    const cases: [string, string, string][] = [
      ['networks', 'NetworkNotFound', unsharedNetworkId],
      ['subnets', 'SubnetNotFound', subnetOfUnshared.id],
      ['ports', 'PortNotFound', carolsPort!.id],
    ];
    for (const [collection, type, carols] of cases) {
      const missing = await net(carol.token, 'GET', `/v2.0/${collection}?limit=1&marker=${unknown}`);
      expect(missing.status).toBe(404);
      expect(missing.body.NeutronError.type).toBe(type);
      // Dave sees the networks carol shares with him by RBAC, not this one nor her port.
      const invisible = await net(dave.token, 'GET', `/v2.0/${collection}?limit=1&marker=${carols}`);
      expect(invisible.status, `${collection} marker ${carols}`).toBe(404);
      expect(invisible.body.NeutronError.type).toBe(type);
      // Without a limit a marker means nothing, as in Neutron.
      expect((await net(carol.token, 'GET', `/v2.0/${collection}?marker=${unknown}`)).status).toBe(200);
    }
  });

  it('ignores an unknown marker of security groups, rules and RBAC policies, as Neutron does', async () => {
    for (const collection of ['security-groups', 'security-group-rules', 'rbac-policies']) {
      const first = await unpaged(carol.token, collection, 'limit=2');
      const { status, body } = await net(
        carol.token,
        'GET',
        `/v2.0/${collection}?limit=2&marker=00000000-0000-4000-8000-000000000000`,
      );
      expect(status).toBe(200);
      expect(body[collection.replaceAll('-', '_')]).toEqual(first);
    }
  });
});
