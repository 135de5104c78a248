// The core area in-process on SQLite, as users reach it: networks with their segments, MTU and
// provider attributes, subnets with Neutron's CIDR, gateway and pool rules, ports with IPAM and
// DHCP ports, projects kept apart, and every refusal Neutron makes. No answer may be a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../../lib/bus/index.js';
import { createLogger } from '../../../lib/log.js';
import {
  type Method,
  type ServiceCall,
  startTestCloud,
  type TestCloud,
} from '../../common/test-cloud.suite.js';
import { PLUGIN_TOPIC } from './port-status.js';

let cloud: TestCloud;
let net: ServiceCall;
let admin: string;
let alice: { projectId: string; token: string };
let bob: { projectId: string; token: string };

async function createNetwork(token: string, body: Record<string, unknown> = {}) {
  const { status, body: response } = await net(token, 'POST', '/v2.0/networks', {
    network: { name: 'n', ...body },
  });
  expect(status).toBe(201);
  return response.network;
}

async function createSubnet(
  token: string,
  networkId: string,
  cidr: string,
  extra: Record<string, unknown> = {},
) {
  const { status, body } = await net(token, 'POST', '/v2.0/subnets', {
    subnet: { network_id: networkId, ip_version: cidr.includes(':') ? 6 : 4, cidr, ...extra },
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return body.subnet;
}

beforeAll(async () => {
  cloud = await startTestCloud();
  net = cloud.service('/network');
  admin = await cloud.adminToken();
  alice = await cloud.memberProject(admin, 'alice');
  bob = await cloud.memberProject(admin, 'bob');
});

afterAll(() => cloud.close());

describe('networks', () => {
  it('a tenant network gets a VXLAN segment, MTU 1450 and Neutron attributes; provider attributes for admins only', async () => {
    const network = await createNetwork(alice.token, { name: 'nebula_net' });
    expect(network).toMatchObject({
      name: 'nebula_net',
      admin_state_up: true,
      status: 'ACTIVE',
      shared: false,
      'router:external': false,
      port_security_enabled: true,
      mtu: 1450,
      subnets: [],
      availability_zones: [],
      tags: [],
      revision_number: 1,
      project_id: alice.projectId,
      tenant_id: alice.projectId,
    });
    expect(network.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(network).not.toHaveProperty('provider:network_type');
    const asAdmin = (await net(admin, 'GET', `/v2.0/networks/${network.id}`)).body.network;
    expect(asAdmin['provider:network_type']).toBe('vxlan');
    expect(asAdmin['provider:physical_network']).toBeNull();
    expect(asAdmin['provider:segmentation_id']).toBeGreaterThanOrEqual(1);
    expect(asAdmin['provider:segmentation_id']).toBeLessThanOrEqual(1000);
  });

  it('takes an MTU up to the largest its segment allows, on create and update (net-mtu-writable)', async () => {
    const network = await createNetwork(alice.token, { name: 'small-mtu', mtu: 1400 });
    expect(network.mtu).toBe(1400);
    const updated = await net(alice.token, 'PUT', `/v2.0/networks/${network.id}`, { network: { mtu: 1450 } });
    expect(updated.body.network.mtu).toBe(1450);
    for (const [mtu, message] of [
      [1451, 'Invalid input for operation: Requested MTU is too big, maximum is 1450.'],
      [67, 'Invalid input for operation: Requested MTU is too small, minimum is 68.'],
    ] as const) {
      const refused = await net(alice.token, 'POST', '/v2.0/networks', { network: { name: 'refused', mtu } });
      expect(refused.status).toBe(400);
      expect(refused.body.NeutronError).toMatchObject({ type: 'InvalidInput', message });
      const refusedUpdate = await net(alice.token, 'PUT', `/v2.0/networks/${network.id}`, {
        network: { mtu },
      });
      expect(refusedUpdate.status).toBe(400);
    }
    // A refused create leaves no network (and no segment) behind.
    const listed = await net(alice.token, 'GET', '/v2.0/networks?name=refused');
    expect(listed.body.networks).toEqual([]);
    expect((await net(alice.token, 'GET', `/v2.0/networks/${network.id}`)).body.network.mtu).toBe(1450);
  });

  it('refuses provider, shared and external attributes from a tenant with 403', async () => {
    for (const body of [
      { 'provider:network_type': 'vxlan' },
      { 'provider:network_type': 'flat', 'provider:physical_network': 'physnet' },
      { shared: true },
      { 'router:external': true },
    ]) {
      const { status, body: error } = await net(alice.token, 'POST', '/v2.0/networks', { network: body });
      expect(status, JSON.stringify(body)).toBe(403);
      expect(error.NeutronError.type).toBe('HTTPForbidden');
    }
  });

  it('refuses provider attributes in a tenant update with 403, and a tenant filtering on them sees nothing', async () => {
    const network = await createNetwork(alice.token, { name: 'provider-probe' });
    for (const body of [
      { 'provider:network_type': 'flat' },
      { 'provider:physical_network': 'physnet' },
      { 'provider:segmentation_id': 7 },
    ]) {
      const { status, body: error } = await net(alice.token, 'PUT', `/v2.0/networks/${network.id}`, {
        network: body,
      });
      expect(status, JSON.stringify(body)).toBe(403);
      expect(error.NeutronError.type).toBe('HTTPForbidden');
    }
    const filtered = await net(
      alice.token,
      'GET',
      '/v2.0/networks?name=provider-probe&provider:network_type=vxlan',
    );
    expect(filtered.body.networks).toEqual([]);
    const asAdmin = await net(admin, 'GET', '/v2.0/networks?name=provider-probe&provider:network_type=vxlan');
    expect(asAdmin.body.networks.map((seen: { id: string }) => seen.id)).toEqual([network.id]);
  });

  it('an admin creates a flat external shared network with MTU 1500; one flat network per physnet', async () => {
    const body = {
      name: 'public',
      shared: true,
      'router:external': true,
      'provider:network_type': 'flat',
      'provider:physical_network': 'physnet',
    };
    const network = await createNetwork(admin, body);
    expect(network).toMatchObject({
      mtu: 1500,
      shared: true,
      'router:external': true,
      'provider:network_type': 'flat',
      'provider:physical_network': 'physnet',
      'provider:segmentation_id': null,
    });
    const again = await net(admin, 'POST', '/v2.0/networks', { network: body });
    expect(again.status).toBe(409);
    expect(again.body.NeutronError.type).toBe('FlatNetworkInUse');
    // Tenants see it (shared and external), without the provider attributes.
    const seen = (await net(bob.token, 'GET', `/v2.0/networks?name=public`)).body.networks;
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toHaveProperty('provider:physical_network');
    expect(seen[0]['router:external']).toBe(true);
  });

  it('VLAN provider networks: a taken id is 409, an unknown physnet 400; VXLAN ids too', async () => {
    const vlan = await createNetwork(admin, {
      'provider:network_type': 'vlan',
      'provider:physical_network': 'physnet',
      'provider:segmentation_id': 101,
    });
    expect(vlan['provider:segmentation_id']).toBe(101);
    const taken = await net(admin, 'POST', '/v2.0/networks', {
      network: {
        'provider:network_type': 'vlan',
        'provider:physical_network': 'physnet',
        'provider:segmentation_id': 101,
      },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.NeutronError.type).toBe('VlanIdInUse');
    const unknown = await net(admin, 'POST', '/v2.0/networks', {
      network: {
        'provider:network_type': 'vlan',
        'provider:physical_network': 'elsewhere',
        'provider:segmentation_id': 5,
      },
    });
    expect(unknown.status).toBe(400);
    const vxlan = await createNetwork(admin, {
      'provider:network_type': 'vxlan',
      'provider:segmentation_id': 5000,
    });
    expect(vxlan['provider:segmentation_id']).toBe(5000);
    const vxlanTaken = await net(admin, 'POST', '/v2.0/networks', {
      network: { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 5000 },
    });
    expect(vxlanTaken.status).toBe(409);
    expect(vxlanTaken.body.NeutronError.type).toBe('TunnelIdInUse');
    // Deleting gives the id back.
    expect((await net(admin, 'DELETE', `/v2.0/networks/${vxlan.id}`)).status).toBe(204);
    await createNetwork(admin, { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 5000 });
  });

  it('tenants see their own, shared and external networks only; filters and fields work', async () => {
    const own = await createNetwork(bob.token, { name: 'bob-private' });
    const aliceList = (await net(alice.token, 'GET', '/v2.0/networks')).body.networks;
    expect(aliceList.map((n: { id: string }) => n.id)).not.toContain(own.id);
    expect((await net(alice.token, 'GET', `/v2.0/networks/${own.id}`)).status).toBe(404);
    const adminList = (await net(admin, 'GET', `/v2.0/networks?id=${own.id}`)).body.networks;
    expect(adminList).toHaveLength(1);
    const filtered = (await net(bob.token, 'GET', '/v2.0/networks?shared=true&fields=id&fields=name')).body
      .networks;
    expect(filtered.length).toBeGreaterThan(0);
    for (const network of filtered) expect(Object.keys(network).sort()).toEqual(['id', 'name']);
    const byProject = (await net(admin, 'GET', `/v2.0/networks?tenant_id=${bob.projectId}`)).body.networks;
    expect(byProject.map((n: { name: string }) => n.name)).toContain('bob-private');
    const external = (await net(bob.token, 'GET', '/v2.0/networks?router:external=true')).body.networks;
    expect(external.every((n: Record<string, unknown>) => n['router:external'] === true)).toBe(true);
    const missing = await net(alice.token, 'GET', '/v2.0/networks/00000000-0000-0000-0000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.NeutronError.type).toBe('NetworkNotFound');
  });

  it('updates bump the revision; another tenant cannot update; unknown attributes are 400', async () => {
    const network = await createNetwork(alice.token);
    const updated = await net(alice.token, 'PUT', `/v2.0/networks/${network.id}`, {
      network: { name: 'renamed' },
    });
    expect(updated.body.network).toMatchObject({ name: 'renamed', revision_number: 2 });
    expect(
      (await net(bob.token, 'PUT', `/v2.0/networks/${network.id}`, { network: { name: 'x' } })).status,
    ).toBe(404);
    expect(
      (await net(alice.token, 'PUT', `/v2.0/networks/${network.id}`, { network: { shared: true } })).status,
    ).toBe(403);
    expect((await net(alice.token, 'POST', '/v2.0/networks', { network: { bogus: 1 } })).status).toBe(400);
    expect((await net(alice.token, 'POST', '/v2.0/networks', { nope: {} })).status).toBe(400);
  });
});

describe('subnets', () => {
  it('fills in gateway, pools and DHCP as Neutron, and creates the DHCP port', async () => {
    const network = await createNetwork(alice.token);
    const subnet = await createSubnet(alice.token, network.id, '192.168.50.0/24', { name: 'nebula_subnet' });
    expect(subnet).toMatchObject({
      name: 'nebula_subnet',
      ip_version: 4,
      cidr: '192.168.50.0/24',
      gateway_ip: '192.168.50.1',
      allocation_pools: [{ start: '192.168.50.2', end: '192.168.50.254' }],
      enable_dhcp: true,
      dns_nameservers: [],
      host_routes: [],
      subnetpool_id: null,
      project_id: alice.projectId,
    });
    const ports = (await net(alice.token, 'GET', `/v2.0/ports?network_id=${network.id}`)).body.ports;
    expect(ports).toHaveLength(1);
    expect(ports[0].device_owner).toBe('network:dhcp');
    expect(ports[0].fixed_ips).toEqual([{ subnet_id: subnet.id, ip_address: '192.168.50.2' }]);
    const shown = (await net(alice.token, 'GET', `/v2.0/networks/${network.id}`)).body.network;
    expect(shown.subnets).toEqual([subnet.id]);
  });

  it('gateway null means none; explicit pools are kept; IPv6 basics', async () => {
    const network = await createNetwork(alice.token);
    const noGateway = await createSubnet(alice.token, network.id, '10.1.0.0/24', {
      gateway_ip: null,
      enable_dhcp: false,
    });
    expect(noGateway.gateway_ip).toBeNull();
    expect(noGateway.allocation_pools).toEqual([{ start: '10.1.0.1', end: '10.1.0.254' }]);
    const pooled = await createSubnet(alice.token, network.id, '10.2.0.0/24', {
      allocation_pools: [{ start: '10.2.0.10', end: '10.2.0.20' }],
      dns_nameservers: ['8.8.8.8'],
      host_routes: [{ destination: '10.9.0.0/16', nexthop: '10.2.0.1' }],
    });
    expect(pooled.allocation_pools).toEqual([{ start: '10.2.0.10', end: '10.2.0.20' }]);
    expect(pooled.dns_nameservers).toEqual(['8.8.8.8']);
    const v6 = await createSubnet(alice.token, network.id, '2001:db8::/64');
    expect(v6).toMatchObject({ ip_version: 6, gateway_ip: '2001:db8::1' });
    expect(v6.allocation_pools).toEqual([{ start: '2001:db8::2', end: '2001:db8::ffff:ffff:ffff:ffff' }]);
  });

  it('refuses host bits, overlaps, a gateway outside the CIDR, pools outside it or overlapping or holding the gateway', async () => {
    const network = await createNetwork(alice.token);
    await createSubnet(alice.token, network.id, '172.16.0.0/24');
    const cases: [Record<string, unknown>, number][] = [
      [{ cidr: '172.17.0.5/24' }, 400],
      [{ cidr: 'not-a-cidr' }, 400],
      [{ cidr: '172.16.0.128/25' }, 400],
      [{ cidr: '172.16.0.0/16' }, 400],
      [{ cidr: '172.18.0.0/24', gateway_ip: '10.0.0.1' }, 400],
      [{ cidr: '172.18.0.0/24', allocation_pools: [{ start: '172.18.0.10', end: '172.18.1.5' }] }, 400],
      [
        {
          cidr: '172.18.0.0/24',
          allocation_pools: [
            { start: '172.18.0.10', end: '172.18.0.20' },
            { start: '172.18.0.15', end: '172.18.0.30' },
          ],
        },
        400,
      ],
      [{ cidr: '172.18.0.0/24', allocation_pools: [{ start: '172.18.0.1', end: '172.18.0.9' }] }, 409],
      [{ cidr: '172.18.0.0/24', ip_version: 6 }, 400],
    ];
    for (const [extra, status] of cases) {
      const response = await net(alice.token, 'POST', '/v2.0/subnets', {
        subnet: { network_id: network.id, ip_version: 4, ...extra },
      });
      expect(response.status, JSON.stringify(extra)).toBe(status);
      expect(response.body.NeutronError.message).toBeTruthy();
    }
    const hostBits = await net(alice.token, 'POST', '/v2.0/subnets', {
      subnet: { network_id: network.id, ip_version: 4, cidr: '172.17.0.5/24' },
    });
    expect(hostBits.body.NeutronError.message).toContain("'172.17.0.0/24' is recommended");
  });

  it("a subnet on another project's network is 404, on a shared one 403", async () => {
    const bobs = await createNetwork(bob.token);
    expect(
      (
        await net(alice.token, 'POST', '/v2.0/subnets', {
          subnet: { network_id: bobs.id, ip_version: 4, cidr: '10.5.0.0/24' },
        })
      ).status,
    ).toBe(404);
    const shared = await createNetwork(admin, { shared: true });
    expect(
      (
        await net(alice.token, 'POST', '/v2.0/subnets', {
          subnet: { network_id: shared.id, ip_version: 4, cidr: '10.5.0.0/24' },
        })
      ).status,
    ).toBe(403);
  });

  it("an external network's subnets are hidden from other projects unless it is also shared", async () => {
    const visibleTo = async (token: string, networkId: string, subnetId: string) => ({
      listed: (await net(token, 'GET', `/v2.0/subnets?network_id=${networkId}`)).body.subnets.length,
      shown: (await net(token, 'GET', `/v2.0/subnets/${subnetId}`)).status,
    });
    const external = await createNetwork(admin, { 'router:external': true });
    const hidden = await createSubnet(admin, external.id, '172.30.0.0/24');
    expect(await visibleTo(alice.token, external.id, hidden.id)).toEqual({ listed: 0, shown: 404 });
    expect(await visibleTo(admin, external.id, hidden.id)).toEqual({ listed: 1, shown: 200 });
    const sharedExternal = await createNetwork(admin, { 'router:external': true, shared: true });
    const seen = await createSubnet(admin, sharedExternal.id, '172.31.0.0/24');
    expect(await visibleTo(alice.token, sharedExternal.id, seen.id)).toEqual({ listed: 1, shown: 200 });
  });

  it('pools change only when no allocated address would fall outside them; in-use subnets are not deleted', async () => {
    const network = await createNetwork(alice.token);
    const subnet = await createSubnet(alice.token, network.id, '10.3.0.0/24');
    const port = (await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } })).body
      .port;
    expect(port.fixed_ips[0].ip_address).toBe('10.3.0.3');
    const shrink = await net(alice.token, 'PUT', `/v2.0/subnets/${subnet.id}`, {
      subnet: { allocation_pools: [{ start: '10.3.0.100', end: '10.3.0.200' }] },
    });
    expect(shrink.status).toBe(409);
    const keep = await net(alice.token, 'PUT', `/v2.0/subnets/${subnet.id}`, {
      subnet: { allocation_pools: [{ start: '10.3.0.2', end: '10.3.0.200' }], name: 'kept' },
    });
    expect(keep.status).toBe(200);
    expect(keep.body.subnet).toMatchObject({ name: 'kept', revision_number: 2 });
    const inUse = await net(alice.token, 'DELETE', `/v2.0/subnets/${subnet.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.NeutronError.type).toBe('SubnetInUse');
    expect((await net(alice.token, 'DELETE', `/v2.0/ports/${port.id}`)).status).toBe(204);
    // Only the DHCP port is left: the subnet goes, and the DHCP port with it.
    expect((await net(alice.token, 'DELETE', `/v2.0/subnets/${subnet.id}`)).status).toBe(204);
    expect((await net(alice.token, 'GET', `/v2.0/ports?network_id=${network.id}`)).body.ports).toEqual([]);
    expect(
      (await net(alice.token, 'PUT', `/v2.0/subnets/${subnet.id}`, { subnet: { name: 'x' } })).status,
    ).toBe(404);
  });
});

describe('ports', () => {
  it("puts a port that names no groups in its project's default group, as Neutron, unless port security is off or the port is the cloud's own", async () => {
    const carol = await cloud.memberProject(admin, 'carol-ports');
    const network = await createNetwork(carol.token);
    await createSubnet(carol.token, network.id, '10.44.0.0/24');
    const plain = (await net(carol.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } })).body
      .port;
    // The project had no default group before its first port: the port made it.
    const groups = (await net(carol.token, 'GET', '/v2.0/security-groups?name=default')).body.security_groups;
    expect(groups).toHaveLength(1);
    expect(plain.security_groups).toEqual([groups[0].id]);
    const unsecured = (
      await net(carol.token, 'POST', '/v2.0/ports', {
        port: { network_id: network.id, port_security_enabled: false },
      })
    ).body.port;
    expect(unsecured.security_groups).toEqual([]);
    const chosen = (
      await net(carol.token, 'POST', '/v2.0/ports', { port: { network_id: network.id, security_groups: [] } })
    ).body.port;
    expect(chosen.security_groups).toEqual([]);
    const dhcp = (
      await net(carol.token, 'GET', `/v2.0/ports?network_id=${network.id}&device_owner=network:dhcp`)
    ).body.ports;
    expect(dhcp).toHaveLength(1);
    expect(dhcp[0].security_groups).toEqual([]);
  });

  it('gets a MAC from base_mac, an address, binding attributes for admins, and DOWN status', async () => {
    const network = await createNetwork(alice.token);
    const subnet = await createSubnet(alice.token, network.id, '10.4.0.0/24');
    const { status, body } = await net(alice.token, 'POST', '/v2.0/ports', {
      port: { network_id: network.id, name: 'p1', admin_state_up: true },
    });
    expect(status).toBe(201);
    const port = body.port;
    const defaultGroup = (await net(alice.token, 'GET', '/v2.0/security-groups?name=default')).body
      .security_groups[0];
    expect(port.mac_address).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(port).toMatchObject({
      name: 'p1',
      status: 'DOWN',
      device_owner: '',
      security_groups: [defaultGroup.id],
      allowed_address_pairs: [],
      extra_dhcp_opts: [],
      port_security_enabled: true,
      'binding:vnic_type': 'normal',
      fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.4.0.3' }],
    });
    expect(port).not.toHaveProperty('binding:host_id');
    const asAdmin = (await net(admin, 'GET', `/v2.0/ports/${port.id}`)).body.port;
    expect(asAdmin).toMatchObject({
      'binding:host_id': '',
      'binding:vif_type': 'unbound',
      'binding:profile': {},
    });
    const bound = await net(admin, 'PUT', `/v2.0/ports/${port.id}`, {
      port: { 'binding:host_id': 'compute-1' },
    });
    expect(bound.body.port).toMatchObject({ 'binding:host_id': 'compute-1', 'binding:vif_type': 'ovs' });
    expect(bound.body.port['binding:vif_details'].bridge_name).toBe('br-int');
    const tenantBinds = await net(alice.token, 'PUT', `/v2.0/ports/${port.id}`, {
      port: { 'binding:host_id': 'x' },
    });
    expect(tenantBinds.status).toBe(403);
  });

  it('takes explicit addresses once, filters by fixed_ips and device_id, stores security groups and address pairs', async () => {
    const network = await createNetwork(alice.token);
    const subnet = await createSubnet(alice.token, network.id, '10.6.0.0/24');
    const sg = '11111111-2222-3333-4444-555555555555';
    const first = await net(alice.token, 'POST', '/v2.0/ports', {
      port: {
        network_id: network.id,
        device_id: 'vm-1',
        fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.6.0.50' }],
        security_groups: [sg],
        allowed_address_pairs: [{ ip_address: '10.6.0.200' }],
      },
    });
    expect(first.status).toBe(201);
    expect(first.body.port.security_groups).toEqual([sg]);
    expect(first.body.port.allowed_address_pairs).toEqual([
      { ip_address: '10.6.0.200', mac_address: first.body.port.mac_address },
    ]);
    const again = await net(alice.token, 'POST', '/v2.0/ports', {
      port: { network_id: network.id, fixed_ips: [{ ip_address: '10.6.0.50' }] },
    });
    expect(again.status).toBe(409);
    expect(again.body.NeutronError.type).toBe('IpAddressInUse');
    const outside = await net(alice.token, 'POST', '/v2.0/ports', {
      port: { network_id: network.id, fixed_ips: [{ ip_address: '10.7.0.5' }] },
    });
    expect(outside.status).toBe(400);
    const byIp = (await net(alice.token, 'GET', '/v2.0/ports?fixed_ips=ip_address%3D10.6.0.50')).body.ports;
    expect(byIp.map((p: { id: string }) => p.id)).toEqual([first.body.port.id]);
    const byDevice = (await net(alice.token, 'GET', '/v2.0/ports?device_id=vm-1')).body.ports;
    expect(byDevice).toHaveLength(1);
    const moved = await net(alice.token, 'PUT', `/v2.0/ports/${first.body.port.id}`, {
      port: { fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.6.0.60' }], security_groups: [] },
    });
    expect(moved.body.port.fixed_ips).toEqual([{ subnet_id: subnet.id, ip_address: '10.6.0.60' }]);
    expect(moved.body.port.security_groups).toEqual([]);
    // The old address is free again.
    const reuse = await net(alice.token, 'POST', '/v2.0/ports', {
      port: { network_id: network.id, fixed_ips: [{ ip_address: '10.6.0.50' }] },
    });
    expect(reuse.status).toBe(201);
    const noSecurity = await net(alice.token, 'POST', '/v2.0/ports', {
      port: { network_id: network.id, port_security_enabled: false, security_groups: [sg] },
    });
    expect(noSecurity.status).toBe(409);
  });

  it('a filtered list shows a port with several security groups as the port does, and follows their change', async () => {
    const network = await createNetwork(alice.token);
    const [low, high] = ['0aaaaaaa-2222-3333-4444-555555555555', 'faaaaaaa-2222-3333-4444-555555555555'];
    const created = await net(alice.token, 'POST', '/v2.0/ports', {
      port: { network_id: network.id, device_id: 'vm-groups', security_groups: [high, low] },
    });
    expect(created.status).toBe(201);
    const listed = async () => (await net(alice.token, 'GET', '/v2.0/ports?device_id=vm-groups')).body.ports;
    const shown = (await net(alice.token, 'GET', `/v2.0/ports/${created.body.port.id}`)).body.port;
    expect([...shown.security_groups].sort()).toEqual([low, high]);
    expect((await listed())[0].security_groups).toEqual(shown.security_groups);
    await net(alice.token, 'PUT', `/v2.0/ports/${created.body.port.id}`, {
      port: { security_groups: [high] },
    });
    expect((await listed())[0].security_groups).toEqual([high]);
  });

  it('lists show every change of a port at once, and binding attributes to admins only', async () => {
    const network = await createNetwork(alice.token);
    const port = (
      await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id, name: 'before' } })
    ).body.port;
    const list = async (token: string) =>
      (await net(token, 'GET', `/v2.0/ports?network_id=${network.id}`)).body.ports.find(
        (candidate: { id: string }) => candidate.id === port.id,
      );
    expect((await list(alice.token)).name).toBe('before');
    expect(await list(alice.token)).not.toHaveProperty('binding:host_id');
    expect((await list(admin))['binding:host_id']).toBe('');
    await net(alice.token, 'PUT', `/v2.0/ports/${port.id}`, { port: { name: 'after' } });
    expect((await list(alice.token)).name).toBe('after');
    // A list answered again as it was must not hide a port added since.
    await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id, name: 'second' } });
    expect((await net(alice.token, 'GET', `/v2.0/ports?network_id=${network.id}`)).body.ports).toHaveLength(
      2,
    );
    const group = '99999999-2222-3333-4444-555555555555';
    await net(alice.token, 'PUT', `/v2.0/ports/${port.id}`, { port: { security_groups: [group] } });
    expect((await list(alice.token)).security_groups).toEqual([group]);
    await net(admin, 'PUT', `/v2.0/ports/${port.id}`, { port: { 'binding:host_id': 'compute-9' } });
    expect((await list(admin))['binding:vif_type']).toBe('ovs');
    await net(alice.token, 'DELETE', `/v2.0/ports/${port.id}`);
    expect(await list(alice.token)).toBeUndefined();
  });

  it('turns ACTIVE when the node it is bound to reports it up, DOWN when down; other hosts are ignored', async () => {
    const network = await createNetwork(alice.token);
    const port = (await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } })).body
      .port;
    await net(admin, 'PUT', `/v2.0/ports/${port.id}`, { port: { 'binding:host_id': 'compute-7' } });
    const agent = await createBus('memory://', { log: createLogger('test', 'silent') });
    try {
      const elsewhere = await agent.call({ topic: PLUGIN_TOPIC }, 'update_device_up', {
        device: port.id,
        host: 'other',
      });
      expect(elsewhere).toEqual({ found: false });
      expect((await net(alice.token, 'GET', `/v2.0/ports/${port.id}`)).body.port.status).toBe('DOWN');
      await agent.call({ topic: PLUGIN_TOPIC }, 'update_device_up', { device: port.id, host: 'compute-7' });
      const up = (await net(alice.token, 'GET', `/v2.0/ports/${port.id}`)).body.port;
      expect(up.status).toBe('ACTIVE');
      await agent.call({ topic: PLUGIN_TOPIC }, 'update_device_down', { device: port.id, host: 'compute-7' });
      expect((await net(alice.token, 'GET', `/v2.0/ports/${port.id}`)).body.port.status).toBe('DOWN');
    } finally {
      await agent.close();
    }
  });

  it('filters ports by part of an address (ip-substring-filtering)', async () => {
    const network = await createNetwork(alice.token);
    const subnet = await createSubnet(alice.token, network.id, '10.64.0.0/24', { enable_dhcp: false });
    const portAt = async (address: string) =>
      (
        await net(alice.token, 'POST', '/v2.0/ports', {
          port: { network_id: network.id, fixed_ips: [{ subnet_id: subnet.id, ip_address: address }] },
        })
      ).body.port.id;
    const nine = await portAt('10.64.0.9');
    const ten = await portAt('10.64.0.10');
    const matching = async (part: string) =>
      (
        await net(
          alice.token,
          'GET',
          `/v2.0/ports?network_id=${network.id}&fixed_ips=ip_address_substr%3D${part}`,
        )
      ).body.ports
        .map((port: { id: string }) => port.id)
        .sort();
    expect(await matching('10.64.0.1')).toEqual([ten]);
    expect(await matching('64.0.')).toEqual([nine, ten].sort());
    expect(await matching('10.65.')).toEqual([]);
  });

  it('answers 409 IpAddressGenerationFailure when the pool is exhausted', async () => {
    const network = await createNetwork(alice.token);
    await createSubnet(alice.token, network.id, '10.8.0.0/29', {
      allocation_pools: [{ start: '10.8.0.2', end: '10.8.0.4' }],
    });
    // .2 is the DHCP port's; .3 and .4 are left.
    const addresses = [];
    for (let index = 0; index < 2; index++) {
      const { status, body } = await net(alice.token, 'POST', '/v2.0/ports', {
        port: { network_id: network.id },
      });
      expect(status).toBe(201);
      addresses.push(body.port.fixed_ips[0].ip_address);
    }
    expect(addresses.sort()).toEqual(['10.8.0.3', '10.8.0.4']);
    const full = await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } });
    expect(full.status).toBe(409);
    expect(full.body.NeutronError.type).toBe('IpAddressGenerationFailure');
  });

  it("a port on another project's network is 404 NetworkNotFound; on a shared one it works", async () => {
    const bobs = await createNetwork(bob.token);
    const denied = await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: bobs.id } });
    expect(denied.status).toBe(404);
    expect(denied.body.NeutronError.type).toBe('NetworkNotFound');
    const shared = await createNetwork(admin, { shared: true });
    await createSubnet(admin, shared.id, '10.9.0.0/24');
    const allowed = await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: shared.id } });
    expect(allowed.status).toBe(201);
    expect(allowed.body.port.project_id).toBe(alice.projectId);
    // Bob does not see Alice's port; the shared network's owner (admin) does.
    expect((await net(bob.token, 'GET', `/v2.0/ports/${allowed.body.port.id}`)).status).toBe(404);
    expect((await net(admin, 'GET', `/v2.0/ports/${allowed.body.port.id}`)).status).toBe(200);
    // Unsharing is refused while Alice uses it.
    const unshare = await net(admin, 'PUT', `/v2.0/networks/${shared.id}`, { network: { shared: false } });
    expect(unshare.status).toBe(409);
  });

  it('a network with ports cannot be deleted; with only its DHCP port it can', async () => {
    const network = await createNetwork(alice.token);
    await createSubnet(alice.token, network.id, '10.10.0.0/24');
    const port = (await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } })).body
      .port;
    const refused = await net(alice.token, 'DELETE', `/v2.0/networks/${network.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.NeutronError.type).toBe('NetworkInUse');
    await net(alice.token, 'DELETE', `/v2.0/ports/${port.id}`);
    expect((await net(alice.token, 'DELETE', `/v2.0/networks/${network.id}`)).status).toBe(204);
    expect((await net(alice.token, 'GET', `/v2.0/networks/${network.id}`)).status).toBe(404);
    expect((await net(admin, 'GET', `/v2.0/subnets?network_id=${network.id}`)).body.subnets).toEqual([]);
  });

  it('refuses bad MACs, duplicate MACs on a network and a DHCP owner on a foreign network', async () => {
    const network = await createNetwork(alice.token);
    expect(
      (await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id, mac_address: 'zz' } }))
        .status,
    ).toBe(400);
    const mac = 'fa:16:3e:aa:bb:cc';
    expect(
      (await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id, mac_address: mac } }))
        .status,
    ).toBe(201);
    const duplicate = await net(alice.token, 'POST', '/v2.0/ports', {
      port: { network_id: network.id, mac_address: mac },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.NeutronError.type).toBe('MacAddressInUse');
  });
});

describe('bulk create', () => {
  it('makes several networks, subnets and ports in one request, answered in the plural form', async () => {
    const networks = await net(alice.token, 'POST', '/v2.0/networks', {
      networks: [{ name: 'bulk-a' }, { name: 'bulk-b' }],
    });
    expect(networks.status).toBe(201);
    expect(networks.body.networks.map((n: { name: string }) => n.name)).toEqual(['bulk-a', 'bulk-b']);
    const [a, b] = networks.body.networks;
    const subnets = await net(alice.token, 'POST', '/v2.0/subnets', {
      subnets: [
        { network_id: a.id, ip_version: 4, cidr: '10.61.0.0/24' },
        { network_id: b.id, ip_version: 4, cidr: '10.62.0.0/24' },
      ],
    });
    expect(subnets.status, JSON.stringify(subnets.body)).toBe(201);
    expect(subnets.body.subnets.map((s: { gateway_ip: string }) => s.gateway_ip)).toEqual([
      '10.61.0.1',
      '10.62.0.1',
    ]);
    const ports = await net(alice.token, 'POST', '/v2.0/ports', {
      ports: [{ network_id: a.id }, { network_id: a.id }, { network_id: b.id }],
    });
    expect(ports.status, JSON.stringify(ports.body)).toBe(201);
    const addresses = ports.body.ports.map(
      (port: { fixed_ips: { ip_address: string }[] }) => port.fixed_ips[0]!.ip_address,
    );
    expect(new Set(addresses).size).toBe(3);
  });

  it('makes none when one item is refused, and refuses an empty or non-list collection', async () => {
    const network = await createNetwork(alice.token, { name: 'bulk-refused' });
    const overlapping = await net(alice.token, 'POST', '/v2.0/subnets', {
      subnets: [
        { network_id: network.id, ip_version: 4, cidr: '10.63.0.0/24' },
        { network_id: network.id, ip_version: 4, cidr: '10.63.0.0/25' },
      ],
    });
    expect(overlapping.status).toBe(400);
    expect(overlapping.body.NeutronError.type).toBe('InvalidInput');
    const left = await net(alice.token, 'GET', `/v2.0/subnets?network_id=${network.id}`);
    expect(left.body.subnets).toEqual([]);
    const before = (await net(alice.token, 'GET', '/v2.0/networks?name=bulk-none')).body.networks;
    const refused = await net(alice.token, 'POST', '/v2.0/networks', {
      networks: [{ name: 'bulk-none' }, { name: 'bulk-none', 'provider:network_type': 'flat' }],
    });
    expect(refused.status).toBe(403);
    expect((await net(alice.token, 'GET', '/v2.0/networks?name=bulk-none')).body.networks).toEqual(before);
    for (const networks of [[], {}, 'x']) {
      const response = await net(alice.token, 'POST', '/v2.0/networks', { networks });
      expect(response.status).toBe(400);
      expect(response.body.NeutronError.message).toBe('Resources required');
    }
  });
});

describe('with the security area', () => {
  it("enforces the project's network, subnet and port quotas with 409 OverQuota, and counts usage", async () => {
    const carol = await cloud.memberProject(admin, 'carol');
    const set = await net(admin, 'PUT', `/v2.0/quotas/${carol.projectId}`, {
      quota: { network: 1, subnet: 1, port: 3 },
    });
    expect(set.status).toBe(200);
    const network = await createNetwork(carol.token);
    const overNetworks = await net(carol.token, 'POST', '/v2.0/networks', { network: {} });
    expect(overNetworks.status).toBe(409);
    expect(overNetworks.body.NeutronError.type).toBe('OverQuota');
    await createSubnet(carol.token, network.id, '10.30.0.0/24');
    const overSubnets = await net(carol.token, 'POST', '/v2.0/subnets', {
      subnet: { network_id: network.id, ip_version: 4, cidr: '10.31.0.0/24' },
    });
    expect(overSubnets.status).toBe(409);
    // The DHCP port counts too, as in Neutron (usage is every port row of the project).
    const ports = [];
    for (let index = 0; index < 2; index++) {
      ports.push(await net(carol.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } }));
    }
    expect(ports.map((port) => port.status)).toEqual([201, 201]);
    const overPorts = await net(carol.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } });
    expect(overPorts.status).toBe(409);
    expect(overPorts.body.NeutronError.type).toBe('OverQuota');
  });

  it('an RBAC access_as_shared grant shares a network with one project: visible, shared, portable; the grant stays while used', async () => {
    const network = await createNetwork(bob.token, { name: 'bob-granted' });
    const subnet = await createSubnet(bob.token, network.id, '10.40.0.0/24');
    expect((await net(alice.token, 'GET', `/v2.0/networks/${network.id}`)).status).toBe(404);
    const grant = await net(bob.token, 'POST', '/v2.0/rbac-policies', {
      rbac_policy: {
        object_type: 'network',
        object_id: network.id,
        action: 'access_as_shared',
        target_tenant: alice.projectId,
      },
    });
    expect(grant.status).toBe(201);
    const seen = (await net(alice.token, 'GET', `/v2.0/networks/${network.id}`)).body.network;
    expect(seen.shared).toBe(true);
    const listed = (await net(alice.token, 'GET', '/v2.0/networks?name=bob-granted')).body.networks;
    expect(listed).toHaveLength(1);
    expect((await net(alice.token, 'GET', `/v2.0/subnets/${subnet.id}`)).status).toBe(200);
    const port = await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } });
    expect(port.status).toBe(201);
    // Bob's own view is unchanged: the grant is not a global share.
    expect((await net(bob.token, 'GET', `/v2.0/networks/${network.id}`)).body.network.shared).toBe(false);
    const revoke = await net(bob.token, 'DELETE', `/v2.0/rbac-policies/${grant.body.rbac_policy.id}`);
    expect(revoke.status).toBe(409);
    await net(alice.token, 'DELETE', `/v2.0/ports/${port.body.port.id}`);
    expect((await net(bob.token, 'DELETE', `/v2.0/rbac-policies/${grant.body.rbac_policy.id}`)).status).toBe(
      204,
    );
    expect((await net(alice.token, 'GET', `/v2.0/networks/${network.id}`)).status).toBe(404);
  });

  it('refuses deleting a security group a port uses', async () => {
    const group = (
      await net(alice.token, 'POST', '/v2.0/security-groups', { security_group: { name: 'web' } })
    ).body.security_group;
    const network = await createNetwork(alice.token);
    const port = (
      await net(alice.token, 'POST', '/v2.0/ports', {
        port: { network_id: network.id, security_groups: [group.id] },
      })
    ).body.port;
    expect(port.security_groups).toEqual([group.id]);
    const inUse = await net(alice.token, 'DELETE', `/v2.0/security-groups/${group.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.NeutronError.type).toBe('SecurityGroupInUse');
    await net(alice.token, 'DELETE', `/v2.0/ports/${port.id}`);
    expect((await net(alice.token, 'DELETE', `/v2.0/security-groups/${group.id}`)).status).toBe(204);
  });
});

describe('malformed requests', () => {
  it('answers every malformed body with a 4xx, never a 500', async () => {
    const network = await createNetwork(alice.token);
    const subnet = await createSubnet(alice.token, network.id, '10.50.0.0/24');
    const port = (await net(alice.token, 'POST', '/v2.0/ports', { port: { network_id: network.id } })).body
      .port;
    const junk: [Method, string, unknown][] = [
      ['POST', '/v2.0/networks', null],
      ['POST', '/v2.0/networks', []],
      ['POST', '/v2.0/networks', { network: 'x' }],
      ['POST', '/v2.0/networks', { network: { name: 7 } }],
      ['POST', '/v2.0/networks', { network: { admin_state_up: 'maybe' } }],
      ['POST', '/v2.0/networks', { network: { name: 'x'.repeat(300) } }],
      ['POST', '/v2.0/networks', { network: { availability_zone_hints: ['nova'] } }],
      ['POST', '/v2.0/subnets', { subnet: { network_id: network.id, ip_version: 4 } }],
      ['POST', '/v2.0/subnets', { subnet: { network_id: network.id, ip_version: 5, cidr: '10.0.0.0/8' } }],
      ['POST', '/v2.0/subnets', { subnet: { network_id: network.id, ip_version: 4, cidr: 42 } }],
      ['POST', '/v2.0/subnets', { subnet: { network_id: 'nope', ip_version: 4, cidr: '10.0.0.0/8' } }],
      [
        'POST',
        '/v2.0/subnets',
        {
          subnet: {
            network_id: network.id,
            ip_version: 4,
            cidr: '10.51.0.0/24',
            allocation_pools: [{ start: 1 }],
          },
        },
      ],
      [
        'POST',
        '/v2.0/subnets',
        { subnet: { network_id: network.id, ip_version: 4, cidr: '10.51.0.0/24', dns_nameservers: [1] } },
      ],
      [
        'POST',
        '/v2.0/subnets',
        {
          subnet: {
            network_id: network.id,
            ip_version: 4,
            cidr: '10.51.0.0/24',
            host_routes: [{ destination: 'x' }],
          },
        },
      ],
      [
        'POST',
        '/v2.0/subnets',
        {
          subnet: { network_id: network.id, ip_version: 4, cidr: '10.51.0.0/24', gateway_ip: '2001:db8::1' },
        },
      ],
      ['POST', '/v2.0/ports', { port: {} }],
      ['POST', '/v2.0/ports', { port: { network_id: network.id, fixed_ips: 'x' } }],
      ['POST', '/v2.0/ports', { port: { network_id: network.id, fixed_ips: [{}] } }],
      ['POST', '/v2.0/ports', { port: { network_id: network.id, fixed_ips: [{ subnet_id: 'zz' }] } }],
      [
        'POST',
        '/v2.0/ports',
        { port: { network_id: network.id, fixed_ips: [{ ip_address: '10.50.0.255' }] } },
      ],
      ['POST', '/v2.0/ports', { port: { network_id: network.id, security_groups: ['x'] } }],
      ['POST', '/v2.0/ports', { port: { network_id: network.id, allowed_address_pairs: [{}] } }],
      ['POST', '/v2.0/ports', { port: { network_id: network.id, 'binding:vnic_type': 'odd' } }],
      ['POST', '/v2.0/ports', { port: { network_id: network.id, extra_dhcp_opts: [{ opt_value: 1 }] } }],
      ['PUT', `/v2.0/networks/${network.id}`, { network: { 'provider:network_type': 'flat' } }],
      ['PUT', `/v2.0/subnets/${subnet.id}`, { subnet: { cidr: '10.0.0.0/8' } }],
      ['PUT', `/v2.0/subnets/${subnet.id}`, { subnet: { gateway_ip: '10.50.0.5' } }],
      ['PUT', `/v2.0/ports/${port.id}`, { port: { network_id: network.id } }],
      ['PUT', `/v2.0/ports/${port.id}`, { port: { fixed_ips: [{ ip_address: 'nope' }] } }],
      ['GET', '/v2.0/ports/not-a-uuid', undefined],
      ['DELETE', '/v2.0/subnets/not-a-uuid', undefined],
    ];
    for (const [method, url, body] of junk) {
      const response = await net(alice.token, method, url, body);
      expect(response.status, `${method} ${url} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(response.body.NeutronError).toBeDefined();
    }
  });
});

describe('the service documents', () => {
  it('lists the core extensions and resources', async () => {
    const aliases = (await net(alice.token, 'GET', '/v2.0/extensions')).body.extensions.map(
      (extension: { alias: string }) => extension.alias,
    );
    for (const alias of [
      'provider',
      'external-net',
      'binding',
      'port-security',
      'net-mtu',
      'net-mtu-writable',
      'allowed-address-pairs',
      'ip-substring-filtering',
    ]) {
      expect(aliases).toContain(alias);
    }
    for (const path of ['/v2.0', '/v2.0/']) {
      const collections = (await net(alice.token, 'GET', path)).body.resources.map(
        (resource: { collection: string }) => resource.collection,
      );
      expect(collections).toEqual(expect.arrayContaining(['networks', 'subnets', 'ports']));
    }
  });
});
