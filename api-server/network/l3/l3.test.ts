// The l3 area in-process on SQLite, as users reach it: routers with interfaces by subnet and by
// port, gateways on an external network, static routes, floating IPs allocated, associated
// through a router and released, the change messages the data plane gets, and every refusal
// Neutron makes. No answer may be a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../../lib/bus/index.js';
import type { MessageBus } from '../../../lib/bus/types.js';
import { createLogger } from '../../../lib/log.js';
import { CHANGE_METHOD, CHANGES_TOPIC, type ChangeMessage } from '../../../lib/messages/network-changes.js';
import {
  type Method,
  type ServiceCall,
  startTestCloud,
  type TestCloud,
} from '../../common/test-cloud.suite.js';

let cloud: TestCloud;
let net: ServiceCall;
let admin: string;
let alice: { projectId: string; token: string };
let bob: { projectId: string; token: string };
let publicNet: { id: string };
let publicSubnet: { id: string };
let node: MessageBus;
const changes: ChangeMessage[] = [];

async function created(token: string, collection: string, resource: string, body: Record<string, unknown>) {
  const response = await net(token, 'POST', `/v2.0/${collection}`, { [resource]: body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body[resource];
}

/** A network with one subnet of `cidr`, owned by the caller. */
async function tenantSubnet(token: string, cidr: string, extra: Record<string, unknown> = {}) {
  const network = await created(token, 'networks', 'network', { name: `net-${cidr}` });
  const subnet = await created(token, 'subnets', 'subnet', {
    network_id: network.id,
    ip_version: 4,
    cidr,
    ...extra,
  });
  return { network, subnet };
}

const addInterface = (token: string, routerId: string, body: Record<string, unknown>) =>
  net(token, 'PUT', `/v2.0/routers/${routerId}/add_router_interface`, body);
const removeInterface = (token: string, routerId: string, body: Record<string, unknown>) =>
  net(token, 'PUT', `/v2.0/routers/${routerId}/remove_router_interface`, body);
const setGateway = (token: string, routerId: string, info: unknown) =>
  net(token, 'PUT', `/v2.0/routers/${routerId}`, { router: { external_gateway_info: info } });

function expectError(
  response: { status: number; body: { NeutronError?: { type: string } } },
  status: number,
  type: string,
) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.NeutronError?.type).toBe(type);
}

/** A router of alice's with an interface on a fresh subnet, a port there, and a gateway on public. */
async function routedPort(cidr: string, gateway = true) {
  const { network, subnet } = await tenantSubnet(alice.token, cidr);
  const router = await created(alice.token, 'routers', 'router', { name: `r-${cidr}` });
  expect((await addInterface(alice.token, router.id, { subnet_id: subnet.id })).status).toBe(200);
  if (gateway)
    expect((await setGateway(alice.token, router.id, { network_id: publicNet.id })).status).toBe(200);
  const port = await created(alice.token, 'ports', 'port', { network_id: network.id });
  return { network, subnet, router, port };
}

beforeAll(async () => {
  cloud = await startTestCloud();
  net = cloud.service('/network');
  admin = await cloud.adminToken();
  alice = await cloud.memberProject(admin, 'alice');
  bob = await cloud.memberProject(admin, 'bob');
  publicNet = await created(admin, 'networks', 'network', {
    name: 'public',
    'router:external': true,
    'provider:network_type': 'flat',
    'provider:physical_network': 'physnet',
  });
  publicSubnet = await created(admin, 'subnets', 'subnet', {
    network_id: publicNet.id,
    ip_version: 4,
    cidr: '203.0.113.0/24',
    allocation_pools: [{ start: '203.0.113.10', end: '203.0.113.200' }],
    enable_dhcp: false,
  });
  // The test cloud's bus is the process's in-memory broker: this node hears its fanouts.
  node = await createBus('memory://', { log: createLogger('test', 'silent') });
  await node.serve(
    { topic: CHANGES_TOPIC, server: 'l3-test-node' },
    {
      [CHANGE_METHOD]: (args) => {
        changes.push(args as unknown as ChangeMessage);
      },
    },
  );
});

afterAll(async () => {
  await node?.close();
  await cloud.close();
});

describe('routers', () => {
  it('creates a router and attaches a subnet: the interface port holds the gateway IP; Neutron answers', async () => {
    const { network, subnet } = await tenantSubnet(alice.token, '192.168.50.0/24');
    const router = await created(alice.token, 'routers', 'router', {
      name: 'nebula_router',
      admin_state_up: true,
    });
    expect(router).toMatchObject({
      name: 'nebula_router',
      admin_state_up: true,
      status: 'ACTIVE',
      external_gateway_info: null,
      routes: [],
      project_id: alice.projectId,
      tenant_id: alice.projectId,
      revision_number: 1,
    });
    const added = await addInterface(alice.token, router.id, { subnet_id: subnet.id });
    expect(added.status).toBe(200);
    expect(Object.keys(added.body).sort()).toEqual(
      ['id', 'network_id', 'port_id', 'project_id', 'subnet_id', 'subnet_ids', 'tenant_id'].sort(),
    );
    expect(added.body).toMatchObject({
      id: router.id,
      project_id: alice.projectId,
      tenant_id: alice.projectId,
      subnet_id: subnet.id,
      subnet_ids: [subnet.id],
      network_id: network.id,
    });
    const port = (await net(alice.token, 'GET', `/v2.0/ports/${added.body.port_id}`)).body.port;
    expect(port).toMatchObject({
      device_owner: 'network:router_interface',
      device_id: router.id,
      fixed_ips: [{ subnet_id: subnet.id, ip_address: '192.168.50.1' }],
    });
    const listed = (await net(alice.token, 'GET', `/v2.0/ports?device_id=${router.id}`)).body.ports;
    expect(listed.map((item: { id: string }) => item.id)).toEqual([added.body.port_id]);

    const removed = await removeInterface(alice.token, router.id, { subnet_id: subnet.id });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ id: router.id, port_id: added.body.port_id, subnet_id: subnet.id });
    expect((await net(alice.token, 'GET', `/v2.0/ports/${added.body.port_id}`)).status).toBe(404);
    expect((await net(alice.token, 'DELETE', `/v2.0/routers/${router.id}`)).status).toBe(204);
    expect((await net(alice.token, 'GET', `/v2.0/routers/${router.id}`)).status).toBe(404);
  });

  it('refuses a subnet without gateway, one attached already or overlapping another interface subnet', async () => {
    const router = await created(alice.token, 'routers', 'router', { name: 'r1' });
    const { subnet } = await tenantSubnet(alice.token, '10.1.0.0/24');
    const { subnet: overlapping } = await tenantSubnet(alice.token, '10.1.0.0/16');
    const { subnet: noGateway } = await tenantSubnet(alice.token, '10.2.0.0/24', { gateway_ip: null });
    expect((await addInterface(alice.token, router.id, { subnet_id: subnet.id })).status).toBe(200);

    const again = await addInterface(alice.token, router.id, { subnet_id: subnet.id });
    expectError(again, 400, 'BadRequest');
    expect(again.body.NeutronError.message).toBe(
      `Bad router request: Router already has a port on subnet ${subnet.id}.`,
    );
    const overlap = await addInterface(alice.token, router.id, { subnet_id: overlapping.id });
    expectError(overlap, 400, 'BadRequest');
    expect(overlap.body.NeutronError.message).toContain('overlaps with cidr 10.1.0.0/24');
    const gatewayless = await addInterface(alice.token, router.id, { subnet_id: noGateway.id });
    expectError(gatewayless, 400, 'BadRequest');
    expect(gatewayless.body.NeutronError.message).toBe(
      'Bad router request: Subnet for router interface must have a gateway IP.',
    );
    expectError(await addInterface(alice.token, router.id, {}), 400, 'BadRequest');
    expectError(
      await addInterface(alice.token, router.id, { subnet_id: subnet.id, port_id: subnet.id }),
      400,
      'BadRequest',
    );
    expectError(
      await addInterface(alice.token, router.id, { subnet_id: '3b0a1c1e-0000-4000-8000-000000000000' }),
      404,
      'SubnetNotFound',
    );
    // Another router cannot take the same gateway address.
    const other = await created(alice.token, 'routers', 'router', { name: 'r2' });
    expectError(await addInterface(alice.token, other.id, { subnet_id: subnet.id }), 409, 'IpAddressInUse');
  });

  it('refuses deleting a router with interfaces, and the interface port, subnet and network it uses', async () => {
    const { network, subnet } = await tenantSubnet(alice.token, '10.3.0.0/24');
    const router = await created(alice.token, 'routers', 'router', { name: 'busy' });
    const added = await addInterface(alice.token, router.id, { subnet_id: subnet.id });
    const inUse = await net(alice.token, 'DELETE', `/v2.0/routers/${router.id}`);
    expectError(inUse, 409, 'RouterInUse');
    expect(inUse.body.NeutronError.message).toBe(`Router ${router.id} still has ports`);
    const portDelete = await net(alice.token, 'DELETE', `/v2.0/ports/${added.body.port_id}`);
    expectError(portDelete, 409, 'L3PortInUse');
    expect(portDelete.body.NeutronError.message).toBe(
      `Port ${added.body.port_id} has owner network:router_interface and therefore cannot be deleted directly via the port API.`,
    );
    expectError(await net(alice.token, 'DELETE', `/v2.0/subnets/${subnet.id}`), 409, 'SubnetInUse');
    expectError(await net(alice.token, 'DELETE', `/v2.0/networks/${network.id}`), 409, 'NetworkInUse');

    const { subnet: elsewhere } = await tenantSubnet(alice.token, '10.4.0.0/24');
    const notThere = await removeInterface(alice.token, router.id, { subnet_id: elsewhere.id });
    expectError(notThere, 404, 'RouterInterfaceNotFoundForSubnet');
    expect(notThere.body.NeutronError.message).toBe(
      `Router ${router.id} has no interface on subnet ${elsewhere.id}`,
    );
    const stranger = await created(alice.token, 'ports', 'port', { network_id: network.id });
    expectError(
      await removeInterface(alice.token, router.id, { port_id: stranger.id }),
      404,
      'RouterInterfaceNotFound',
    );
    expectError(
      await removeInterface(alice.token, router.id, { port_id: added.body.port_id, subnet_id: elsewhere.id }),
      400,
      'SubnetMismatchForPort',
    );

    expect((await removeInterface(alice.token, router.id, { port_id: added.body.port_id })).status).toBe(200);
    expect((await net(alice.token, 'DELETE', `/v2.0/routers/${router.id}`)).status).toBe(204);
    expect((await net(alice.token, 'DELETE', `/v2.0/ports/${stranger.id}`)).status).toBe(204);
    expect((await net(alice.token, 'DELETE', `/v2.0/networks/${network.id}`)).status).toBe(204);
  });

  it('takes an unattached port as an interface; refuses one in use or without addresses', async () => {
    const { network, subnet } = await tenantSubnet(alice.token, '10.5.0.0/24');
    const router = await created(alice.token, 'routers', 'router', { name: 'by-port' });
    const port = await created(alice.token, 'ports', 'port', {
      network_id: network.id,
      fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.5.0.9' }],
    });
    const added = await addInterface(alice.token, router.id, { port_id: port.id });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ port_id: port.id, subnet_id: subnet.id, network_id: network.id });
    const shown = (await net(alice.token, 'GET', `/v2.0/ports/${port.id}`)).body.port;
    expect(shown).toMatchObject({ device_owner: 'network:router_interface', device_id: router.id });

    const other = await created(alice.token, 'routers', 'router', { name: 'other' });
    expectError(await addInterface(alice.token, other.id, { port_id: port.id }), 409, 'PortInUse');
    const bare = await created(alice.token, 'networks', 'network', { name: 'bare' });
    const addressless = await created(alice.token, 'ports', 'port', { network_id: bare.id });
    const refused = await addInterface(alice.token, other.id, { port_id: addressless.id });
    expectError(refused, 400, 'BadRequest');
    expect(refused.body.NeutronError.message).toBe(
      'Bad router request: Router port must have at least one fixed IP.',
    );

    expect((await removeInterface(alice.token, router.id, { port_id: port.id })).status).toBe(200);
    expect((await net(alice.token, 'GET', `/v2.0/ports/${port.id}`)).status).toBe(404);
  });

  it('sets a gateway on the external network with SNAT, clears it; admins only choose SNAT and addresses', async () => {
    const router = await created(alice.token, 'routers', 'router', { name: 'gw' });
    const set = await setGateway(alice.token, router.id, { network_id: publicNet.id });
    expect(set.status).toBe(200);
    const info = set.body.router.external_gateway_info;
    expect(info).toMatchObject({ network_id: publicNet.id, enable_snat: true });
    expect(info.external_fixed_ips).toHaveLength(1);
    expect(info.external_fixed_ips[0].subnet_id).toBe(publicSubnet.id);
    expect(info.external_fixed_ips[0].ip_address).toMatch(/^203\.0\.113\./);
    const gatewayPorts = (await net(admin, 'GET', `/v2.0/ports?device_id=${router.id}`)).body.ports;
    expect(gatewayPorts).toHaveLength(1);
    expect(gatewayPorts[0]).toMatchObject({
      device_owner: 'network:router_gateway',
      network_id: publicNet.id,
      fixed_ips: info.external_fixed_ips,
    });
    expectError(await net(admin, 'DELETE', `/v2.0/ports/${gatewayPorts[0].id}`), 409, 'L3PortInUse');
    expectError(await net(admin, 'DELETE', `/v2.0/networks/${publicNet.id}`), 409, 'NetworkInUse');
    expectError(
      await net(admin, 'PUT', `/v2.0/networks/${publicNet.id}`, { network: { 'router:external': false } }),
      409,
      'ExternalNetworkInUse',
    );

    expect(
      (await setGateway(alice.token, router.id, { network_id: publicNet.id, enable_snat: false })).status,
    ).toBe(403);
    expect(
      (
        await setGateway(alice.token, router.id, {
          network_id: publicNet.id,
          external_fixed_ips: [{ ip_address: '203.0.113.150' }],
        })
      ).status,
    ).toBe(403);
    const chosen = await setGateway(admin, router.id, {
      network_id: publicNet.id,
      enable_snat: false,
      external_fixed_ips: [{ subnet_id: publicSubnet.id, ip_address: '203.0.113.150' }],
    });
    expect(chosen.status).toBe(200);
    expect(chosen.body.router.external_gateway_info).toEqual({
      network_id: publicNet.id,
      enable_snat: false,
      external_fixed_ips: [{ subnet_id: publicSubnet.id, ip_address: '203.0.113.150' }],
    });

    const internal = await created(alice.token, 'networks', 'network', { name: 'not-external' });
    const notExternal = await setGateway(alice.token, router.id, { network_id: internal.id });
    expectError(notExternal, 400, 'BadRequest');
    expect(notExternal.body.NeutronError.message).toBe(
      `Bad router request: Network ${internal.id} is not an external network.`,
    );
    expectError(
      await setGateway(alice.token, router.id, { network_id: '3b0a1c1e-0000-4000-8000-000000000000' }),
      404,
      'NetworkNotFound',
    );

    const cleared = await setGateway(alice.token, router.id, {});
    expect(cleared.status).toBe(200);
    expect(cleared.body.router.external_gateway_info).toBeNull();
    expect((await net(admin, 'GET', `/v2.0/ports?device_id=${router.id}`)).body.ports).toEqual([]);
    // Created with a gateway at once, and deleted with it.
    const withGateway = await created(alice.token, 'routers', 'router', {
      name: 'gw2',
      external_gateway_info: { network_id: publicNet.id },
    });
    expect(withGateway.external_gateway_info.network_id).toBe(publicNet.id);
    expect((await net(alice.token, 'DELETE', `/v2.0/routers/${withGateway.id}`)).status).toBe(204);
    expect((await net(admin, 'GET', `/v2.0/ports?device_id=${withGateway.id}`)).body.ports).toEqual([]);
  });

  it('keeps static routes whose nexthop is on a connected subnet; refuses others and removing their interface', async () => {
    const { subnet } = await tenantSubnet(alice.token, '10.6.0.0/24');
    const router = await created(alice.token, 'routers', 'router', { name: 'routes' });
    await addInterface(alice.token, router.id, { subnet_id: subnet.id });
    const routes = [{ destination: '172.16.0.0/16', nexthop: '10.6.0.20' }];
    const updated = await net(alice.token, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes } });
    expect(updated.status).toBe(200);
    expect(updated.body.router.routes).toEqual(routes);

    const unconnected = await net(alice.token, 'PUT', `/v2.0/routers/${router.id}`, {
      router: { routes: [{ destination: '172.17.0.0/16', nexthop: '10.99.0.1' }] },
    });
    expectError(unconnected, 400, 'InvalidRoutes');
    expect(unconnected.body.NeutronError.message).toContain('the nexthop is not connected with router');
    const own = await net(alice.token, 'PUT', `/v2.0/routers/${router.id}`, {
      router: { routes: [{ destination: '172.17.0.0/16', nexthop: '10.6.0.1' }] },
    });
    expectError(own, 400, 'InvalidRoutes');
    expect(own.body.NeutronError.message).toContain('the nexthop is used by router');
    expect(
      (
        await net(alice.token, 'PUT', `/v2.0/routers/${router.id}`, {
          router: { routes: [{ destination: '172.17.0.5/16', nexthop: '10.6.0.7' }] },
        })
      ).status,
    ).toBe(400);
    const tooMany = Array.from({ length: 31 }, (_, index) => ({
      destination: `172.${index}.0.0/16`,
      nexthop: '10.6.0.20',
    }));
    expectError(
      await net(alice.token, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: tooMany } }),
      400,
      'RoutesExhausted',
    );

    expectError(
      await removeInterface(alice.token, router.id, { subnet_id: subnet.id }),
      409,
      'RouterInterfaceInUseByRoute',
    );
    await net(alice.token, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: [] } });
    expect((await removeInterface(alice.token, router.id, { subnet_id: subnet.id })).status).toBe(200);
  });

  it("keeps projects apart: another project's router and subnet are not there", async () => {
    const { subnet } = await tenantSubnet(alice.token, '10.7.0.0/24');
    const router = await created(alice.token, 'routers', 'router', { name: 'private' });
    expectError(await net(bob.token, 'GET', `/v2.0/routers/${router.id}`), 404, 'RouterNotFound');
    expectError(
      await net(bob.token, 'PUT', `/v2.0/routers/${router.id}`, { router: { name: 'mine' } }),
      404,
      'RouterNotFound',
    );
    expectError(await net(bob.token, 'DELETE', `/v2.0/routers/${router.id}`), 404, 'RouterNotFound');
    expectError(await addInterface(bob.token, router.id, { subnet_id: subnet.id }), 404, 'RouterNotFound');
    const bobs = await created(bob.token, 'routers', 'router', { name: 'bobs' });
    expectError(await addInterface(bob.token, bobs.id, { subnet_id: subnet.id }), 404, 'SubnetNotFound');
    const names = (await net(bob.token, 'GET', '/v2.0/routers')).body.routers.map(
      (item: { name: string }) => item.name,
    );
    expect(names).toEqual(['bobs']);
    const all = (await net(admin, 'GET', `/v2.0/routers?name=private`)).body.routers;
    expect(all.map((item: { id: string }) => item.id)).toEqual([router.id]);
    const narrowed = (await net(alice.token, 'GET', `/v2.0/routers?name=private&fields=id&fields=name`)).body
      .routers;
    expect(narrowed).toEqual([{ id: router.id, name: 'private' }]);
    // Admins create routers for another project; tenants cannot.
    const forBob = await net(admin, 'POST', '/v2.0/routers', {
      router: { name: 'given', project_id: bob.projectId },
    });
    expect(forBob.body.router.project_id).toBe(bob.projectId);
    expect(
      (await net(alice.token, 'POST', '/v2.0/routers', { router: { name: 'x', project_id: bob.projectId } }))
        .status,
    ).toBe(400);
  });
  it('sorts and pages router lists as Neutron; an unknown marker is 404', async () => {
    const dave = await cloud.memberProject(admin, 'dave');
    for (const name of ['b', 'c', 'a']) await created(dave.token, 'routers', 'router', { name });
    const first = await net(dave.token, 'GET', '/v2.0/routers?sort_key=name&sort_dir=desc&limit=2');
    expect(first.body.routers.map((router: { name: string }) => router.name)).toEqual(['c', 'b']);
    const next = first.body.routers_links.find((link: { rel: string }) => link.rel === 'next');
    expect(next.href).toContain(`marker=${first.body.routers[1].id}`);
    const rest = await net(
      dave.token,
      'GET',
      `/v2.0/routers?sort_key=name&sort_dir=desc&limit=2&marker=${first.body.routers[1].id}`,
    );
    expect(rest.body.routers.map((router: { name: string }) => router.name)).toEqual(['a']);
    expectError(
      await net(dave.token, 'GET', '/v2.0/routers?limit=1&marker=3b0a1c1e-0000-4000-8000-000000000000'),
      404,
      'RouterNotFound',
    );
    expect(
      (await net(dave.token, 'GET', '/v2.0/floatingips?sort_key=floating_ip_address&sort_dir=asc')).status,
    ).toBe(200);
    expect((await net(dave.token, 'GET', '/v2.0/routers?sort_key=color&sort_dir=asc')).status).toBe(400);
  });
});

describe('floating IPs', () => {
  it('allocates an address of the external network, held by a port of its own; deleting frees it', async () => {
    const floatingIp = await created(alice.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
    });
    expect(floatingIp).toMatchObject({
      floating_network_id: publicNet.id,
      router_id: null,
      port_id: null,
      fixed_ip_address: null,
      status: 'DOWN',
      port_details: null,
      project_id: alice.projectId,
      tenant_id: alice.projectId,
      description: '',
    });
    const address = floatingIp.floating_ip_address;
    const last = Number(address.split('.')[3]);
    expect(address.startsWith('203.0.113.')).toBe(true);
    expect(last).toBeGreaterThanOrEqual(10);
    expect(last).toBeLessThanOrEqual(200);
    const holders = (await net(admin, 'GET', `/v2.0/ports?device_id=${floatingIp.id}`)).body.ports;
    expect(holders).toHaveLength(1);
    expect(holders[0]).toMatchObject({
      device_owner: 'network:floatingip',
      network_id: publicNet.id,
      fixed_ips: [{ subnet_id: publicSubnet.id, ip_address: address }],
    });
    expectError(await net(admin, 'DELETE', `/v2.0/ports/${holders[0].id}`), 409, 'L3PortInUse');

    expect((await net(alice.token, 'DELETE', `/v2.0/floatingips/${floatingIp.id}`)).status).toBe(204);
    expect((await net(admin, 'GET', `/v2.0/ports?device_id=${floatingIp.id}`)).body.ports).toEqual([]);
    // The address is free again: an admin can take exactly it.
    const again = await created(admin, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
      floating_ip_address: address,
    });
    expect(again.floating_ip_address).toBe(address);
    expectError(
      await net(admin, 'POST', '/v2.0/floatingips', {
        floatingip: { floating_network_id: publicNet.id, floating_ip_address: address },
      }),
      409,
      'IpAddressInUse',
    );
    expect((await net(admin, 'DELETE', `/v2.0/floatingips/${again.id}`)).status).toBe(204);
    const onSubnet = await created(alice.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
      subnet_id: publicSubnet.id,
    });
    expect(onSubnet.floating_ip_address).toMatch(/^203\.0\.113\./);
  });

  it('a deleted external network takes its unassociated floating IPs along; a router gateway keeps it', async () => {
    const external = await created(admin, 'networks', 'network', { 'router:external': true });
    await created(admin, 'subnets', 'subnet', {
      network_id: external.id,
      ip_version: 4,
      cidr: '198.51.100.0/24',
      enable_dhcp: false,
    });
    const floatingIp = await created(admin, 'floatingips', 'floatingip', {
      floating_network_id: external.id,
    });
    const router = await created(admin, 'routers', 'router', { name: 'r-external-delete' });
    expect((await setGateway(admin, router.id, { network_id: external.id })).status).toBe(200);
    // Refused while the gateway port is there, and the floating IP survives the refusal.
    expectError(await net(admin, 'DELETE', `/v2.0/networks/${external.id}`), 409, 'NetworkInUse');
    expect((await net(admin, 'GET', `/v2.0/floatingips/${floatingIp.id}`)).status).toBe(200);
    expect((await setGateway(admin, router.id, null)).status).toBe(200);
    expect((await net(admin, 'DELETE', `/v2.0/networks/${external.id}`)).status).toBe(204);
    expectError(await net(admin, 'GET', `/v2.0/floatingips/${floatingIp.id}`), 404, 'FloatingIPNotFound');
    expect((await net(admin, 'GET', `/v2.0/ports?device_id=${floatingIp.id}`)).body.ports).toEqual([]);
  });

  it('refuses a chosen address from a tenant, a network that is not external, a subnet of another network', async () => {
    expect(
      (
        await net(alice.token, 'POST', '/v2.0/floatingips', {
          floatingip: { floating_network_id: publicNet.id, floating_ip_address: '203.0.113.99' },
        })
      ).status,
    ).toBe(403);
    const { network, subnet } = await tenantSubnet(alice.token, '10.8.0.0/24');
    const notExternal = await net(alice.token, 'POST', '/v2.0/floatingips', {
      floatingip: { floating_network_id: network.id },
    });
    expectError(notExternal, 400, 'BadRequest');
    expect(notExternal.body.NeutronError.message).toBe(
      `Bad floatingip request: Network ${network.id} is not a valid external network.`,
    );
    expectError(
      await net(alice.token, 'POST', '/v2.0/floatingips', {
        floatingip: { floating_network_id: publicNet.id, subnet_id: subnet.id },
      }),
      400,
      'InvalidInput',
    );
    expectError(
      await net(admin, 'POST', '/v2.0/floatingips', {
        floatingip: { floating_network_id: publicNet.id, floating_ip_address: '198.51.100.7' },
      }),
      400,
      'InvalidIpForNetwork',
    );
    expectError(
      await net(alice.token, 'POST', '/v2.0/floatingips', { floatingip: {} }),
      400,
      'HTTPBadRequest',
    );
  });

  it('associates with a port only through a router with a gateway on its network; one per fixed IP', async () => {
    const { subnet, router, port } = await routedPort('10.9.0.0/24', false);
    const floatingIp = await created(alice.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
    });
    const unreachable = await net(alice.token, 'PUT', `/v2.0/floatingips/${floatingIp.id}`, {
      floatingip: { port_id: port.id },
    });
    expectError(unreachable, 404, 'ExternalGatewayForFloatingIPNotFound');
    expect(unreachable.body.NeutronError.message).toBe(
      `External network ${publicNet.id} is not reachable from subnet ${subnet.id}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`,
    );

    expect((await setGateway(alice.token, router.id, { network_id: publicNet.id })).status).toBe(200);
    const associated = await net(alice.token, 'PUT', `/v2.0/floatingips/${floatingIp.id}`, {
      floatingip: { port_id: port.id },
    });
    expect(associated.status).toBe(200);
    expect(associated.body.floatingip).toMatchObject({
      port_id: port.id,
      fixed_ip_address: port.fixed_ips[0].ip_address,
      router_id: router.id,
      status: 'ACTIVE',
      port_details: {
        network_id: port.network_id,
        mac_address: port.mac_address,
        device_owner: '',
        status: 'DOWN',
        admin_state_up: true,
      },
    });

    const second = await created(alice.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
    });
    const taken = await net(alice.token, 'PUT', `/v2.0/floatingips/${second.id}`, {
      floatingip: { port_id: port.id },
    });
    expectError(taken, 409, 'FloatingIPPortAlreadyAssociated');
    expect(taken.body.NeutronError.message).toContain(`using fixed IP ${port.fixed_ips[0].ip_address}`);
    const wrongAddress = await net(alice.token, 'PUT', `/v2.0/floatingips/${second.id}`, {
      floatingip: { port_id: port.id, fixed_ip_address: '10.9.0.250' },
    });
    expectError(wrongAddress, 400, 'BadRequest');
    const addressOnly = await net(alice.token, 'PUT', `/v2.0/floatingips/${second.id}`, {
      floatingip: { fixed_ip_address: port.fixed_ips[0].ip_address },
    });
    expectError(addressOnly, 400, 'BadRequest');
    expect(addressOnly.body.NeutronError.message).toBe(
      'Bad floatingip request: fixed_ip_address cannot be specified without a port_id.',
    );

    const interfaceGone = await removeInterface(alice.token, router.id, { subnet_id: subnet.id });
    expectError(interfaceGone, 409, 'RouterInterfaceInUseByFloatingIP');
    expect(interfaceGone.body.NeutronError.message).toBe(
      `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`,
    );
    expectError(
      await setGateway(alice.token, router.id, null),
      409,
      'RouterExternalGatewayInUseByFloatingIp',
    );

    const disassociated = await net(alice.token, 'PUT', `/v2.0/floatingips/${floatingIp.id}`, {
      floatingip: { port_id: null },
    });
    expect(disassociated.body.floatingip).toMatchObject({
      port_id: null,
      fixed_ip_address: null,
      router_id: null,
      status: 'DOWN',
      port_details: null,
    });
    // Now the second one may have the address; created associated at once.
    const third = await created(alice.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
      port_id: port.id,
      description: 'web',
    });
    expect(third).toMatchObject({
      port_id: port.id,
      router_id: router.id,
      status: 'ACTIVE',
      description: 'web',
    });
    // The port going takes the association with it.
    expect((await net(alice.token, 'DELETE', `/v2.0/ports/${port.id}`)).status).toBe(204);
    const left = (await net(alice.token, 'GET', `/v2.0/floatingips/${third.id}`)).body.floatingip;
    expect(left).toMatchObject({ port_id: null, router_id: null, status: 'DOWN' });
    expect((await removeInterface(alice.token, router.id, { subnet_id: subnet.id })).status).toBe(200);
  });

  it('filters lists by address, port, router, network, status and project; other projects see none', async () => {
    const { router, port } = await routedPort('10.10.0.0/24');
    const bound = await created(alice.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
      port_id: port.id,
    });
    const loose = await created(alice.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
    });
    const ids = async (query: string, token = alice.token) =>
      (await net(token, 'GET', `/v2.0/floatingips${query}`)).body.floatingips.map(
        (item: { id: string }) => item.id,
      );
    expect(await ids(`?port_id=${port.id}`)).toEqual([bound.id]);
    expect(await ids(`?router_id=${router.id}`)).toEqual([bound.id]);
    expect(await ids(`?floating_ip_address=${loose.floating_ip_address}`)).toEqual([loose.id]);
    expect(await ids(`?status=ACTIVE&floating_network_id=${publicNet.id}`)).toContain(bound.id);
    expect(await ids('?status=ACTIVE')).not.toContain(loose.id);
    expect(await ids(`?project_id=${alice.projectId}`)).toEqual(expect.arrayContaining([bound.id, loose.id]));
    expect(await ids('', bob.token)).toEqual([]);
    expect(await ids(`?project_id=${alice.projectId}`, admin)).toEqual(
      expect.arrayContaining([bound.id, loose.id]),
    );
    const fields = (await net(alice.token, 'GET', `/v2.0/floatingips/${bound.id}?fields=floating_ip_address`))
      .body.floatingip;
    expect(fields).toEqual({ floating_ip_address: bound.floating_ip_address });

    expectError(await net(bob.token, 'GET', `/v2.0/floatingips/${bound.id}`), 404, 'FloatingIPNotFound');
    expectError(
      await net(bob.token, 'PUT', `/v2.0/floatingips/${loose.id}`, { floatingip: { port_id: null } }),
      404,
      'FloatingIPNotFound',
    );
    expectError(await net(bob.token, 'DELETE', `/v2.0/floatingips/${loose.id}`), 404, 'FloatingIPNotFound');
    // A tenant cannot point its floating IP at another project's port.
    const bobs = await created(bob.token, 'floatingips', 'floatingip', { floating_network_id: publicNet.id });
    expectError(
      await net(bob.token, 'PUT', `/v2.0/floatingips/${bobs.id}`, { floatingip: { port_id: port.id } }),
      404,
      'PortNotFound',
    );
  });

  it("enforces the project's router and floatingip quotas (Neutron's 10 and 50 by default)", async () => {
    const carol = await cloud.memberProject(admin, 'carol');
    const defaults = (await net(carol.token, 'GET', `/v2.0/quotas/${carol.projectId}`)).body.quota;
    expect(defaults).toMatchObject({ router: 10, floatingip: 50 });
    const quota = await net(admin, 'PUT', `/v2.0/quotas/${carol.projectId}`, {
      quota: { router: 1, floatingip: 1 },
    });
    expect(quota.status).toBe(200);
    await created(carol.token, 'routers', 'router', { name: 'one' });
    expectError(
      await net(carol.token, 'POST', '/v2.0/routers', { router: { name: 'two' } }),
      409,
      'OverQuota',
    );
    await created(carol.token, 'floatingips', 'floatingip', { floating_network_id: publicNet.id });
    expectError(
      await net(carol.token, 'POST', '/v2.0/floatingips', {
        floatingip: { floating_network_id: publicNet.id },
      }),
      409,
      'OverQuota',
    );
    const details = (await net(admin, 'GET', `/v2.0/quotas/${carol.projectId}/details`)).body.quota;
    expect(details.router).toMatchObject({ limit: 1, used: 1 });
    expect(details.floatingip).toMatchObject({ limit: 1, used: 1 });
  });
});

describe('the data plane and the service documents', () => {
  it('tells the data plane about routers, interfaces, gateways and floating IPs', async () => {
    changes.length = 0;
    const { router, port } = await routedPort('10.11.0.0/24');
    const floatingIp = await created(alice.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
      port_id: port.id,
    });
    await expect
      .poll(
        () => changes.filter((change) => change.kind === 'floatingip' && change.id === floatingIp.id).length,
      )
      .toBeGreaterThanOrEqual(2);
    const kinds = changes.map((change) => `${change.kind}:${change.action}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'router:create',
        'router_interface:create',
        'router_gateway:create',
        'floatingip:create',
      ]),
    );
    const association = changes.find((change) => change.kind === 'floatingip' && change.action === 'update');
    expect(association).toMatchObject({
      version: 1,
      id: floatingIp.id,
      router_id: router.id,
      project_id: alice.projectId,
    });
    expect(changes.find((change) => change.kind === 'router_interface')?.router_id).toBe(router.id);
  });

  it('lists exactly the l3 extensions built, and the routers and floatingips collections', async () => {
    const aliases = (await net(alice.token, 'GET', '/v2.0/extensions')).body.extensions.map(
      (extension: { alias: string }) => extension.alias,
    );
    expect(aliases).toEqual(
      expect.arrayContaining(['router', 'ext-gw-mode', 'extraroute', 'fip-port-details']),
    );
    expect(aliases).not.toContain('l3-ha');
    expect(aliases).not.toContain('dvr');
    expect((await net(alice.token, 'GET', '/v2.0/extensions/router')).status).toBe(200);
    const collections = (await net(alice.token, 'GET', '/v2.0')).body.resources.map(
      (resource: { collection: string }) => resource.collection,
    );
    expect(collections).toEqual(expect.arrayContaining(['routers', 'floatingips']));
  });

  it('answers every malformed body with a 4xx, never a 500', async () => {
    // Bob's: alice has used up her ten routers by now.
    const router = await created(bob.token, 'routers', 'router', { name: 'junk' });
    const floatingIp = await created(bob.token, 'floatingips', 'floatingip', {
      floating_network_id: publicNet.id,
    });
    const junk: [Method, string, unknown][] = [
      ['POST', '/v2.0/routers', null],
      ['POST', '/v2.0/routers', { router: [] }],
      ['POST', '/v2.0/routers', { router: { name: 7 } }],
      ['POST', '/v2.0/routers', { router: { routes: [] } }],
      ['POST', '/v2.0/routers', { router: { external_gateway_info: 'public' } }],
      ['POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: 'x' } } }],
      [
        'POST',
        '/v2.0/routers',
        { router: { external_gateway_info: { network_id: publicNet.id, color: 1 } } },
      ],
      ['POST', '/v2.0/routers', { router: { admin_state_up: 'perhaps' } }],
      ['PUT', `/v2.0/routers/${router.id}`, { router: { routes: 'x' } }],
      ['PUT', `/v2.0/routers/${router.id}`, { router: { routes: [1] } }],
      [
        'PUT',
        `/v2.0/routers/${router.id}`,
        { router: { routes: [{ destination: 'x', nexthop: '1.2.3.4' }] } },
      ],
      [
        'PUT',
        `/v2.0/routers/${router.id}`,
        { router: { routes: [{ destination: '1.0.0.0/8', nexthop: 'x' }] } },
      ],
      [
        'PUT',
        `/v2.0/routers/${router.id}`,
        { router: { routes: [{ destination: '1.0.0.0/8', nexthop: '::1' }] } },
      ],
      ['PUT', `/v2.0/routers/${router.id}`, { router: { status: 'DOWN' } }],
      [
        'PUT',
        `/v2.0/routers/${router.id}`,
        { router: { external_gateway_info: { network_id: publicNet.id, external_fixed_ips: 'x' } } },
      ],
      ['PUT', `/v2.0/routers/${router.id}/add_router_interface`, null],
      ['PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: 5 }],
      ['PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { port_id: 'nope' }],
      ['PUT', '/v2.0/routers/nope/add_router_interface', { subnet_id: publicSubnet.id }],
      ['GET', '/v2.0/routers/nope', undefined],
      ['POST', '/v2.0/floatingips', { floatingip: { floating_network_id: 'x' } }],
      ['POST', '/v2.0/floatingips', { floatingip: { floating_network_id: publicNet.id, port_id: 7 } }],
      [
        'POST',
        '/v2.0/floatingips',
        { floatingip: { floating_network_id: publicNet.id, fixed_ip_address: 'x' } },
      ],
      [
        'POST',
        '/v2.0/floatingips',
        { floatingip: { floating_network_id: publicNet.id, router_id: router.id } },
      ],
      ['PUT', `/v2.0/floatingips/${floatingIp.id}`, { floatingip: { port_id: 'x' } }],
      ['PUT', `/v2.0/floatingips/${floatingIp.id}`, { floatingip: { floating_ip_address: '1.2.3.4' } }],
      ['PUT', `/v2.0/floatingips/${floatingIp.id}`, { floatingip: { port_id: publicSubnet.id } }],
      ['GET', '/v2.0/floatingips/nope', undefined],
      ['DELETE', '/v2.0/floatingips/nope', undefined],
    ];
    for (const [method, url, payload] of junk) {
      const response = await net(bob.token, method, url, payload);
      expect(response.status, `${method} ${url} ${JSON.stringify(payload)}`).toBeGreaterThanOrEqual(400);
      expect(response.body.NeutronError, `${method} ${url}`).toBeDefined();
    }
  });
});
