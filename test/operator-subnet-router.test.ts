// The Subnet and Router actuators end to end: the harness's real kube-apiserver, the real
// api-server on loopback, the operator in this process. Each scenario of the floor is
// asserted on the object's status and on the cloud through the Neutron API: create (minimal
// and full), update, dependencies applied late, import (by ID, by filter past a trap, a filter
// naming a Network), import errors, external deletion, resync, the Subnet's router interface
// (attach, move, detach, removed before the subnet), and the deletion guard holding a Router
// and a Network while a Subnet names them.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OpenStackClient } from '../lib/openstack/index.js';
import { condition, type OperatorTestbed, startOperatorTestbed } from './harness/operator.js';

let bed: OperatorTestbed;
let cloud: OpenStackClient;

beforeAll(async () => {
  bed = await startOperatorTestbed('opsr');
  cloud = bed.cloud;
}, 180_000);

afterAll(async () => {
  await bed?.close();
});

const neutron = () => cloud.service('network');
const WAIT = { timeout: 30_000, interval: 250 };

// biome-ignore lint/suspicious/noExplicitAny: Neutron's documents as the API sends them
type Json = Record<string, any>;

/** The resource as Neutron shows it, or undefined when it is gone. */
async function inCloud(
  collection: 'subnets' | 'routers' | 'networks',
  id: string,
): Promise<Json | undefined> {
  const response = await neutron()
    .get<Json>(`/${collection}/${id}`)
    .catch((error: { status?: number }) => {
      if (error.status === 404) return undefined;
      throw error;
    });
  return response?.body[collection.slice(0, -1)];
}

async function create(collection: 'subnets' | 'routers' | 'networks', fields: Json): Promise<Json> {
  const key = collection.slice(0, -1);
  return (await neutron().post<Json>(`/${collection}`, { [key]: fields })).body[key];
}

/** The router interfaces on a subnet: which router, on which address. */
async function interfacesOf(subnetId: string): Promise<{ router: string; address: string }[]> {
  const found = [];
  for await (const port of neutron().list<Json>('/ports', 'ports', {
    query: { fixed_ips: `subnet_id=${subnetId}` },
  }))
    if (port.device_owner === 'network:router_interface')
      found.push({ router: port.device_id, address: port.fixed_ips[0].ip_address });
  return found;
}

const idOf = async (kind: string, name: string) => (await bed.get(kind, name))?.status?.id as string;
const reasonsOf = async (name: string) => (await bed.eventsOf(name)).map((event) => event.reason);

async function progressing(kind: string, name: string, expected: Json) {
  return vi.waitFor(async () => {
    const object = await bed.get(kind, name);
    expect(condition(object, 'Progressing')).toMatchObject(expected);
    return object;
  }, WAIT);
}

describe('dependencies applied late, and create-minimal', () => {
  it('a Subnet applied before its Network waits, then is made on it', async () => {
    await bed.apply('Subnet', 'web', { resource: { networkRef: 'web-net', cidr: '10.10.0.0/24' } });
    await progressing('Subnet', 'web', {
      status: 'True',
      reason: 'WaitingForDependency',
      message: 'Waiting for Network/web-net to be available',
    });
    await bed.apply('Network', 'web-net', { resource: {} });
    const subnet = await bed.available('Subnet', 'web');
    const networkId = await idOf('Network', 'web-net');
    expect(subnet.status?.resource).toMatchObject({
      name: 'web',
      networkId,
      cidr: '10.10.0.0/24',
      gatewayIP: '10.10.0.1',
      enableDHCP: true,
    });
    expect(await inCloud('subnets', subnet.status?.id as string)).toMatchObject({
      name: 'web',
      network_id: networkId,
      ip_version: 4,
      cidr: '10.10.0.0/24',
      gateway_ip: '10.10.0.1',
      allocation_pools: [{ start: '10.10.0.2', end: '10.10.0.254' }],
      dns_nameservers: [],
      host_routes: [],
      enable_dhcp: true,
    });
    expect(await reasonsOf('web')).toContain('Created');
  });

  it('a Router applied before its external Network waits, then gets its gateway on it', async () => {
    await bed.apply('Router', 'edge', { resource: { externalGateway: { externalNetworkRef: 'public' } } });
    await progressing('Router', 'edge', {
      status: 'True',
      reason: 'WaitingForDependency',
      message: 'Waiting for Network/public to be available',
    });
    // The cloud's external network, made by its administrator and imported, as Nebula does.
    const publicNet = await create('networks', { name: 'public', 'router:external': true });
    const publicSubnet = await create('subnets', {
      name: 'public-subnet',
      network_id: publicNet.id,
      ip_version: 4,
      cidr: '203.0.113.0/24',
    });
    await bed.apply('Network', 'public', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'public' } },
    });
    const router = await bed.available('Router', 'edge');
    expect(router.status?.resource).toMatchObject({
      name: 'edge',
      status: 'ACTIVE',
      adminStateUp: true,
      externalGateway: { networkId: publicNet.id, externalFixedIPs: [{ subnetId: publicSubnet.id }] },
      interfaceSubnetIds: [],
    });
    expect(await inCloud('routers', router.status?.id as string)).toMatchObject({
      name: 'edge',
      admin_state_up: true,
      external_gateway_info: { network_id: publicNet.id, enable_snat: true },
      routes: [],
    });
  });

  it('a Subnet naming a Router applied before it waits, then is attached on its gateway address', async () => {
    await bed.apply('Network', 'inner-net', { resource: {} });
    await bed.apply('Subnet', 'inner', {
      resource: { networkRef: 'inner-net', cidr: '10.30.0.0/24', routerRef: 'core' },
    });
    await progressing('Subnet', 'inner', {
      reason: 'WaitingForDependency',
      message: 'Waiting for Router/core to be available',
    });
    await bed.apply('Router', 'core', { resource: {}, resyncPeriod: '2s' });
    const subnet = await bed.available('Subnet', 'inner');
    const coreId = await idOf('Router', 'core');
    expect(await interfacesOf(subnet.status?.id as string)).toEqual([
      { router: coreId, address: '10.30.0.1' },
    ]);
    // The Router reports the subnets of its interfaces (read again on its resync).
    await vi.waitFor(async () => {
      expect((await bed.get('Router', 'core'))?.status?.resource?.interfaceSubnetIds).toEqual([
        subnet.status?.id,
      ]);
    }, WAIT);
  });
});

describe('create-full', () => {
  it('a Subnet with every field it supports', async () => {
    await bed.apply('Network', 'full-net', { resource: {} });
    await bed.apply('Subnet', 'full', {
      resource: {
        name: 'full-subnet',
        description: 'every field',
        networkRef: 'full-net',
        ipVersion: 4,
        cidr: '10.20.0.0/24',
        gateway: { type: 'IP', ip: '10.20.0.254' },
        allocationPools: [
          { start: '10.20.0.10', end: '10.20.0.99' },
          { start: '10.20.0.150', end: '10.20.0.199' },
        ],
        dnsNameservers: ['10.20.0.53', '192.0.2.53'],
        hostRoutes: [{ destination: '172.16.0.0/16', nextHop: '10.20.0.9' }],
        enableDHCP: false,
        routerRef: 'edge',
      },
    });
    const subnet = await bed.available('Subnet', 'full');
    expect(await inCloud('subnets', subnet.status?.id as string)).toMatchObject({
      name: 'full-subnet',
      description: 'every field',
      network_id: await idOf('Network', 'full-net'),
      ip_version: 4,
      cidr: '10.20.0.0/24',
      gateway_ip: '10.20.0.254',
      allocation_pools: [
        { start: '10.20.0.10', end: '10.20.0.99' },
        { start: '10.20.0.150', end: '10.20.0.199' },
      ],
      dns_nameservers: ['10.20.0.53', '192.0.2.53'],
      host_routes: [{ destination: '172.16.0.0/16', nexthop: '10.20.0.9' }],
      enable_dhcp: false,
    });
    expect(subnet.status?.resource).toMatchObject({
      gatewayIP: '10.20.0.254',
      hostRoutes: [{ destination: '172.16.0.0/16', nextHop: '10.20.0.9' }],
      enableDHCP: false,
    });
    expect(await interfacesOf(subnet.status?.id as string)).toEqual([
      { router: await idOf('Router', 'edge'), address: '10.20.0.254' },
    ]);
  });

  it('an IPv6 Subnet with its gateway spelled otherwise than Neutron does, settled without updates', async () => {
    await bed.apply('Subnet', 'six', {
      resource: {
        networkRef: 'full-net',
        ipVersion: 6,
        cidr: '2001:db8:50::/64',
        gateway: { type: 'IP', ip: '2001:DB8:50:0::FE' },
        dnsNameservers: ['2001:DB8::53'],
      },
      resyncPeriod: '2s',
    });
    const subnet = await bed.available('Subnet', 'six');
    expect(await inCloud('subnets', subnet.status?.id as string)).toMatchObject({
      ip_version: 6,
      cidr: '2001:db8:50::/64',
      gateway_ip: '2001:db8:50::fe',
      dns_nameservers: ['2001:db8::53'],
    });
    // Resyncs find nothing to change: the same address in another spelling is not drift.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(await reasonsOf('six')).toEqual(['Created']);
  });

  it('a Router with every field it supports; its routes wait for a subnet with their next hop', async () => {
    await bed.apply('Router', 'full-router', {
      resource: {
        name: 'full-router-name',
        description: 'every field',
        adminStateUp: false,
        externalGateway: { externalNetworkRef: 'public', enableSNAT: false },
        routes: [{ destination: '172.18.0.0/16', nextHop: '10.40.0.9' }],
      },
    });
    // No subnet on 10.40.0.0/24 is on the router yet: the router is usable (the Subnet naming
    // it waits for that), its routes are pending and looked at again.
    const waiting = await progressing('Router', 'full-router', { status: 'True', reason: 'Progressing' });
    expect(condition(waiting, 'Available')?.status).toBe('True');
    expect(condition(waiting, 'Progressing')?.message).toContain(
      'Routes wait for a subnet with their next hop on the router',
    );
    const routerId = waiting?.status?.id as string;
    await bed.apply('Network', 'behind-net', { resource: {} });
    await bed.apply('Subnet', 'behind', {
      resource: { networkRef: 'behind-net', cidr: '10.40.0.0/24', routerRef: 'full-router' },
    });
    await bed.available('Subnet', 'behind');
    const router = await progressing('Router', 'full-router', { status: 'False', reason: 'Success' });
    expect(router?.status?.id).toBe(routerId);
    const publicId = await idOf('Network', 'public');
    expect(await inCloud('routers', routerId)).toMatchObject({
      name: 'full-router-name',
      description: 'every field',
      admin_state_up: false,
      external_gateway_info: { network_id: publicId, enable_snat: false },
      routes: [{ destination: '172.18.0.0/16', nexthop: '10.40.0.9' }],
    });
    expect(router?.status?.resource).toMatchObject({
      adminStateUp: false,
      externalGateway: { networkId: publicId, enableSNAT: false },
      routes: [{ destination: '172.18.0.0/16', nextHop: '10.40.0.9' }],
      interfaceSubnetIds: [await idOf('Subnet', 'behind')],
    });
  });
});

describe('update', () => {
  it('a Subnet: the mutable fields change in the cloud, with an Updated Event', async () => {
    const id = await idOf('Subnet', 'full');
    await bed.apply('Subnet', 'full', {
      resource: {
        name: 'full-renamed',
        description: 'changed',
        networkRef: 'full-net',
        cidr: '10.20.0.0/24',
        gateway: { type: 'IP', ip: '10.20.0.253' },
        allocationPools: [{ start: '10.20.0.10', end: '10.20.0.120' }],
        dnsNameservers: ['192.0.2.53'],
        enableDHCP: true,
        routerRef: 'edge',
      },
    });
    await vi.waitFor(async () => {
      expect((await bed.get('Subnet', 'full'))?.status?.resource?.name).toBe('full-renamed');
    }, WAIT);
    const updated = await bed.available('Subnet', 'full');
    expect(updated.status?.id).toBe(id);
    expect(await inCloud('subnets', id)).toMatchObject({
      name: 'full-renamed',
      description: 'changed',
      gateway_ip: '10.20.0.253',
      allocation_pools: [{ start: '10.20.0.10', end: '10.20.0.120' }],
      dns_nameservers: ['192.0.2.53'],
      host_routes: [],
      enable_dhcp: true,
    });
    // The interface followed the gateway to its new address.
    expect(await interfacesOf(id)).toEqual([
      { router: await idOf('Router', 'edge'), address: '10.20.0.253' },
    ]);
    const event = (await bed.eventsOf('full')).find((found) => found.reason === 'Updated');
    expect(event?.message).toContain('resource.description');
  });

  it('a Router: routes, state and description change, and the gateway is cleared', async () => {
    const id = await idOf('Router', 'full-router');
    await bed.apply('Router', 'full-router', {
      resource: {
        name: 'full-router-name',
        description: 'changed',
        adminStateUp: true,
        routes: [{ destination: '172.19.0.0/16', nextHop: '10.40.0.8' }],
      },
    });
    await vi.waitFor(async () => {
      expect((await bed.get('Router', 'full-router'))?.status?.resource?.description).toBe('changed');
    }, WAIT);
    expect(await inCloud('routers', id)).toMatchObject({
      description: 'changed',
      admin_state_up: true,
      external_gateway_info: null,
      routes: [{ destination: '172.19.0.0/16', nexthop: '10.40.0.8' }],
    });
    const event = (await bed.eventsOf('full-router')).find((found) => found.reason === 'Updated');
    expect(event?.message).toContain('resource.externalGateway');
  });

  it("a Subnet's routerRef moves its interface, and its removal detaches it, leaving others' interfaces", async () => {
    const subnetId = await idOf('Subnet', 'inner');
    const [coreId, edgeId] = [await idOf('Router', 'core'), await idOf('Router', 'edge')];
    await bed.apply('Subnet', 'inner', {
      resource: { networkRef: 'inner-net', cidr: '10.30.0.0/24', routerRef: 'edge' },
    });
    await vi.waitFor(async () => {
      expect(await interfacesOf(subnetId)).toEqual([{ router: edgeId, address: '10.30.0.1' }]);
    }, WAIT);
    expect((await bed.eventsOf('inner')).find((event) => event.reason === 'Updated')?.message).toContain(
      'resource.routerRef',
    );
    // Someone attaches the subnet to core by a port of their own, on another address.
    const port = (
      await neutron().post<Json>('/ports', {
        port: {
          network_id: await idOf('Network', 'inner-net'),
          fixed_ips: [{ subnet_id: subnetId, ip_address: '10.30.0.50' }],
        },
      })
    ).body.port;
    await neutron().put(`/routers/${coreId}/add_router_interface`, { port_id: port.id });
    await bed.apply('Subnet', 'inner', { resource: { networkRef: 'inner-net', cidr: '10.30.0.0/24' } });
    await vi.waitFor(async () => {
      expect(await interfacesOf(subnetId)).toEqual([{ router: coreId, address: '10.30.0.50' }]);
    }, WAIT);
    await bed.available('Subnet', 'inner');
    await neutron().put(`/routers/${coreId}/remove_router_interface`, { port_id: port.id });
  });
});

describe('import', () => {
  it('by ID and by filter naming a Network, past a namesake on another network; errors are terminal', async () => {
    const [homeNet, otherNet] = [
      await create('networks', { name: 'import-home' }),
      await create('networks', { name: 'import-other' }),
    ];
    const target = await create('subnets', {
      name: 'shared-name',
      network_id: homeNet.id,
      ip_version: 4,
      cidr: '10.50.0.0/24',
    });
    const trap = await create('subnets', {
      name: 'shared-name',
      network_id: otherNet.id,
      ip_version: 4,
      cidr: '10.51.0.0/24',
    });
    const targetRouter = await create('routers', { name: 'import-router' });
    await create('routers', { name: 'import-router-trap' });
    await bed.apply('Network', 'import-home', { managementPolicy: 'unmanaged', import: { id: homeNet.id } });
    await bed.apply('Subnet', 'by-filter', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'shared-name', networkRef: 'import-home' } },
    });
    await bed.apply('Subnet', 'by-id', { managementPolicy: 'unmanaged', import: { id: trap.id } });
    await bed.apply('Router', 'by-filter', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'import-router' } },
    });
    await bed.apply('Router', 'by-id', { managementPolicy: 'unmanaged', import: { id: targetRouter.id } });
    for (const [kind, name, id] of [
      ['Subnet', 'by-filter', target.id],
      ['Subnet', 'by-id', trap.id],
      ['Router', 'by-filter', targetRouter.id],
      ['Router', 'by-id', targetRouter.id],
    ]) {
      const imported = await bed.available(kind as string, name as string);
      expect(imported.status?.id).toBe(id);
    }
    expect((await bed.get('Subnet', 'by-filter'))?.status?.resource?.cidr).toBe('10.50.0.0/24');

    // A filter matching several, and an ID that does not exist.
    await bed.apply('Subnet', 'ambiguous', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'shared-name' } },
    });
    await bed.apply('Router', 'missing', {
      managementPolicy: 'unmanaged',
      import: { id: '00000000-0000-4000-8000-000000000000' },
    });
    const ambiguous = await bed.settled('Subnet', 'ambiguous');
    expect(condition(ambiguous, 'Progressing')).toMatchObject({
      reason: 'InvalidConfiguration',
      message: '2 Subnets match the import filter; it must match exactly one',
    });
    const missing = await bed.settled('Router', 'missing');
    expect(condition(missing, 'Progressing')).toMatchObject({
      reason: 'InvalidConfiguration',
      message: 'No Router has the ID 00000000-0000-4000-8000-000000000000',
    });
    // Imported resources stay in the cloud when their objects go.
    await bed.remove('Subnet', 'by-id');
    expect(await inCloud('subnets', trap.id)).toBeDefined();
  });
});

describe('external deletion', () => {
  it('a managed Subnet is made again, attached again; a managed Router is made again', async () => {
    await bed.apply('Subnet', 'inner', {
      resource: { networkRef: 'inner-net', cidr: '10.30.0.0/24', routerRef: 'core' },
      resyncPeriod: '2s',
    });
    const first = (await vi.waitFor(async () => {
      const object = await bed.get('Subnet', 'inner');
      expect(await interfacesOf(object?.status?.id as string)).toHaveLength(1);
      return object;
    }, WAIT)) as { status?: { id?: string } };
    const coreId = await idOf('Router', 'core');
    await neutron().put(`/routers/${coreId}/remove_router_interface`, { subnet_id: first.status?.id });
    await neutron().delete(`/subnets/${first.status?.id}`);
    const again = await vi.waitFor(async () => {
      const id = await idOf('Subnet', 'inner');
      expect(id).not.toBe(first.status?.id);
      expect(await interfacesOf(id)).toEqual([{ router: coreId, address: '10.30.0.1' }]);
      return id;
    }, WAIT);
    expect(await inCloud('subnets', again)).toMatchObject({ cidr: '10.30.0.0/24' });
    expect(await reasonsOf('inner')).toContain('ExternalDeletion');

    await bed.apply('Router', 'lonely', { resource: {}, resyncPeriod: '2s' });
    const lonely = (await bed.available('Router', 'lonely')).status?.id as string;
    await neutron().delete(`/routers/${lonely}`);
    await vi.waitFor(async () => {
      const id = await idOf('Router', 'lonely');
      expect(id).not.toBe(lonely);
      expect(await inCloud('routers', id)).toMatchObject({ name: 'lonely' });
    }, WAIT);
    expect(await reasonsOf('lonely')).toContain('ExternalDeletion');
  });

  it('an imported Subnet or Router deleted from the cloud is UnrecoverableError', async () => {
    const network = await create('networks', { name: 'gone-net' });
    const subnet = await create('subnets', {
      name: 'gone-subnet',
      network_id: network.id,
      ip_version: 4,
      cidr: '10.60.0.0/24',
    });
    const router = await create('routers', { name: 'gone-router' });
    for (const [kind, id] of [
      ['Subnet', subnet.id],
      ['Router', router.id],
    ])
      await bed.apply(kind, 'gone', { managementPolicy: 'unmanaged', import: { id }, resyncPeriod: '2s' });
    await bed.available('Subnet', 'gone');
    await bed.available('Router', 'gone');
    await neutron().delete(`/subnets/${subnet.id}`);
    await neutron().delete(`/routers/${router.id}`);
    for (const kind of ['Subnet', 'Router']) {
      const object = await progressing(kind, 'gone', { status: 'False', reason: 'UnrecoverableError' });
      expect(condition(object, 'Available')?.status).toBe('False');
    }
  });
});

describe('resync', () => {
  it('corrects a change made behind its back with resyncPeriod 2s, and leaves it with 0s', async () => {
    for (const [name, period, cidr] of [
      ['drift-2s', '2s', '10.11.0.0/24'],
      ['drift-0s', '0s', '10.12.0.0/24'],
    ] as const) {
      await bed.apply('Subnet', name, { resource: { networkRef: 'web-net', cidr }, resyncPeriod: period });
      await bed.apply('Router', name, { resource: {}, resyncPeriod: period });
    }
    const changed: [collection: 'subnets' | 'routers', kind: string, name: string, id: string][] = [];
    for (const [collection, kind] of [
      ['subnets', 'Subnet'],
      ['routers', 'Router'],
    ] as const)
      for (const name of ['drift-2s', 'drift-0s']) {
        const id = (await bed.available(kind, name)).status?.id as string;
        const key = collection.slice(0, -1);
        await neutron().put(`/${collection}/${id}`, { [key]: { name: 'changed-behind' } });
        changed.push([collection, kind, name, id]);
      }
    await vi.waitFor(async () => {
      for (const [collection, , name, id] of changed)
        expect((await inCloud(collection, id))?.name).toBe(name === 'drift-2s' ? name : 'changed-behind');
    }, WAIT);
    expect(await reasonsOf('drift-2s')).toContain('DriftCorrected');
    // Long enough for a 2s resync to have happened, had there been one.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const [collection, , name, id] of changed)
      if (name === 'drift-0s') expect((await inCloud(collection, id))?.name).toBe('changed-behind');
  });
});

describe('deletion', () => {
  it('a Router and the Subnet naming it, deleted at once: the Router waits, the Subnet goes first', async () => {
    await bed.apply('Router', 'pair-router', { resource: {} });
    await bed.apply('Network', 'pair-net', { resource: {} });
    await bed.apply('Subnet', 'pair', {
      resource: { networkRef: 'pair-net', cidr: '10.70.0.0/24', routerRef: 'pair-router' },
    });
    const subnetId = (await bed.available('Subnet', 'pair')).status?.id as string;
    const routerId = await idOf('Router', 'pair-router');
    expect(await interfacesOf(subnetId)).toHaveLength(1);
    const subnets = 'subnets.openstack.overcast.dev';
    const routers = 'routers.openstack.overcast.dev';
    // The Router first: it must still wait for the Subnet.
    await bed.kubectl(['delete', routers, 'pair-router', '-n', bed.namespace, '--wait=false']);
    await progressing('Router', 'pair-router', {
      reason: 'WaitingForDependency',
      message: 'Waiting for Subnet/pair to be deleted first',
    });
    expect(await inCloud('routers', routerId)).toBeDefined();
    await bed.kubectl(['delete', subnets, 'pair', '-n', bed.namespace, '--wait=false']);
    await vi.waitFor(async () => {
      expect(await bed.get('Router', 'pair-router')).toBeUndefined();
      expect(await bed.get('Subnet', 'pair')).toBeUndefined();
    }, WAIT);
    expect(await inCloud('subnets', subnetId)).toBeUndefined();
    expect(await inCloud('routers', routerId)).toBeUndefined();
    // In order: the router was never refused for an interface still on it.
    const warnings = (await bed.eventsOf('pair-router')).filter((event) => event.type === 'Warning');
    expect(warnings).toEqual([]);
    expect(await reasonsOf('pair-router')).toContain('Deleted');
  });

  it('a Network is held while a Subnet names it, and goes once the Subnet has', async () => {
    const networkId = await idOf('Network', 'pair-net');
    await bed.apply('Subnet', 'holding', { resource: { networkRef: 'pair-net', cidr: '10.71.0.0/24' } });
    const subnetId = (await bed.available('Subnet', 'holding')).status?.id as string;
    await bed.kubectl([
      'delete',
      'networks.openstack.overcast.dev',
      'pair-net',
      '-n',
      bed.namespace,
      '--wait=false',
    ]);
    await progressing('Network', 'pair-net', {
      reason: 'WaitingForDependency',
      message: 'Waiting for Subnet/holding to be deleted first',
    });
    expect(await inCloud('networks', networkId)).toBeDefined();
    expect(await inCloud('subnets', subnetId)).toBeDefined();
    await bed.remove('Subnet', 'holding');
    await vi.waitFor(async () => expect(await bed.get('Network', 'pair-net')).toBeUndefined(), WAIT);
    expect(await inCloud('subnets', subnetId)).toBeUndefined();
    expect(await inCloud('networks', networkId)).toBeUndefined();
  });

  it('a Router whose route runs through a Subnet naming it, deleted at once with it: all go', async () => {
    const routerId = await idOf('Router', 'full-router');
    const subnetId = await idOf('Subnet', 'behind');
    expect((await inCloud('routers', routerId))?.routes).toHaveLength(1);
    // Neutron refuses to take the interface away while a route needs it: the route goes first.
    await bed.kubectl([
      'delete',
      'routers.openstack.overcast.dev/full-router',
      'subnets.openstack.overcast.dev/behind',
      'networks.openstack.overcast.dev/behind-net',
      '-n',
      bed.namespace,
      '--wait=false',
    ]);
    await vi.waitFor(async () => {
      for (const [kind, name] of [
        ['Router', 'full-router'],
        ['Subnet', 'behind'],
        ['Network', 'behind-net'],
      ])
        expect(await bed.get(kind as string, name as string)).toBeUndefined();
    }, WAIT);
    expect(await inCloud('routers', routerId)).toBeUndefined();
    expect(await inCloud('subnets', subnetId)).toBeUndefined();
  });

  it('deleting a Subnet removes its router interface first', async () => {
    const subnetId = await idOf('Subnet', 'full');
    const edgeId = await idOf('Router', 'edge');
    const onEdge = async () => {
      const subnets = [];
      for await (const port of neutron().list<Json>('/ports', 'ports', { query: { device_id: edgeId } }))
        subnets.push(...port.fixed_ips.map((fixed: Json) => fixed.subnet_id));
      return subnets;
    };
    expect(await onEdge()).toContain(subnetId);
    await bed.remove('Subnet', 'full');
    expect(await inCloud('subnets', subnetId)).toBeUndefined();
    expect(await inCloud('routers', edgeId)).toBeDefined();
    expect(await onEdge()).not.toContain(subnetId);
    expect((await bed.eventsOf('full')).filter((event) => event.type === 'Warning')).toEqual([]);
  });
});
