// The seeds' network walk-through with the real `openstack` CLI (python-openstackclient over
// openstacksdk) against `overcast up`, on SQLite and on MariaDB, for what the network service serves:
// the admin's flat external shared `public` network and its subnet with an allocation pool, the
// tenant's `nebula_net` (VXLAN, MTU 1450, the type shown to the admin only), `nebula_subnet`
// with Neutron's defaults, a port, and `nebula_router` between it and `public` with a floating IP
// for the port (refused while the router has no gateway).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from './harness/databases.js';
import { type CliCloud, startCliCloud } from './harness/openstack-cli.js';

describe.each(['sqlite', 'mysql'] as const)('networks with the openstack CLI on %s', (dialect: Dialect) => {
  let cli: CliCloud;
  let memberEnv: Record<string, string>;

  beforeAll(async () => {
    cli = await startCliCloud(dialect, 'netcli');
    memberEnv = await cli.member('nebula', 'alice');
  }, 300_000);

  afterAll(() => cli?.stop());

  it('the admin creates the flat external shared public network and its subnet with a pool', async () => {
    const network = await cli.json([
      'network',
      'create',
      '--external',
      '--provider-network-type',
      'flat',
      '--provider-physical-network',
      'physnet',
      '--share',
      'public',
    ]);
    expect(network).toMatchObject({
      name: 'public',
      'router:external': true,
      shared: true,
      'provider:network_type': 'flat',
      'provider:physical_network': 'physnet',
      mtu: 1500,
      status: 'ACTIVE',
    });
    const subnet = await cli.json([
      'subnet',
      'create',
      '--network',
      'public',
      '--subnet-range',
      '203.0.113.0/24',
      '--allocation-pool',
      'start=203.0.113.10,end=203.0.113.100',
      'public_subnet',
    ]);
    expect(subnet).toMatchObject({
      cidr: '203.0.113.0/24',
      gateway_ip: '203.0.113.1',
      allocation_pools: [{ start: '203.0.113.10', end: '203.0.113.100' }],
    });
  });

  it('the tenant creates nebula_net (VXLAN, MTU 1450), its subnet with defaults, and a port', async () => {
    const network = await cli.json(['network', 'create', 'nebula_net'], memberEnv);
    expect(network).toMatchObject({ name: 'nebula_net', mtu: 1450, shared: false, 'router:external': false });
    expect(network['provider:network_type'] ?? null).toBeNull();
    const shown = await cli.json(['network', 'show', 'nebula_net'], memberEnv);
    expect(shown.mtu).toBe(1450);
    const asAdmin = await cli.json(['network', 'show', shown.id]);
    expect(asAdmin['provider:network_type']).toBe('vxlan');
    expect(asAdmin['provider:segmentation_id']).toBeGreaterThan(0);

    const subnet = await cli.json(
      ['subnet', 'create', '--network', 'nebula_net', '--subnet-range', '192.168.50.0/24', 'nebula_subnet'],
      memberEnv,
    );
    expect(subnet).toMatchObject({
      gateway_ip: '192.168.50.1',
      allocation_pools: [{ start: '192.168.50.2', end: '192.168.50.254' }],
      enable_dhcp: true,
      ip_version: 4,
    });

    const port = await cli.json(['port', 'create', '--network', 'nebula_net', 'p1'], memberEnv);
    expect(port).toMatchObject({ name: 'p1', status: 'DOWN' });
    expect(port.mac_address).toMatch(/^fa:16:3e:/);
    expect(JSON.stringify(port.fixed_ips)).toContain('192.168.50.');
    const ports = await cli.json(['port', 'list', '--network', 'nebula_net'], memberEnv);
    expect(ports.map((row: { Name: string }) => row.Name)).toContain('p1');
    const networks = await cli.json(['network', 'list'], memberEnv);
    expect(networks.map((row: { Name: string }) => row.Name).sort()).toEqual(['nebula_net', 'public']);
  });

  it('the tenant routes nebula_subnet to public and gives p1 a floating IP once the router has a gateway', async () => {
    const router = await cli.json(['router', 'create', 'nebula_router'], memberEnv);
    expect(router).toMatchObject({ name: 'nebula_router', admin_state_up: true, status: 'ACTIVE' });
    const added = await cli.openstack(
      ['router', 'add', 'subnet', 'nebula_router', 'nebula_subnet'],
      memberEnv,
    );
    expect(added.code, added.stderr).toBe(0);
    const routerPorts = await cli.json(['port', 'list', '--router', 'nebula_router'], memberEnv);
    expect(routerPorts).toHaveLength(1);
    expect(JSON.stringify(routerPorts[0]['Fixed IP Addresses'])).toContain('192.168.50.1');

    const floating = await cli.json(['floating', 'ip', 'create', 'public'], memberEnv);
    expect(floating.floating_ip_address).toMatch(/^203\.0\.113\./);
    expect(floating.status).toBe('DOWN');
    // No gateway yet: the external network is not reachable from nebula_subnet.
    const unreachable = await cli.openstack(
      ['floating', 'ip', 'set', '--port', 'p1', floating.id],
      memberEnv,
    );
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain('is not reachable from subnet');

    const gateway = await cli.openstack(
      ['router', 'set', '--external-gateway', 'public', 'nebula_router'],
      memberEnv,
    );
    expect(gateway.code, gateway.stderr).toBe(0);
    const withGateway = await cli.json(['router', 'show', 'nebula_router'], memberEnv);
    expect(withGateway.external_gateway_info.network_id).toBeDefined();
    expect(withGateway.external_gateway_info.enable_snat).toBe(true);
    expect(JSON.stringify(withGateway.external_gateway_info.external_fixed_ips)).toContain('203.0.113.');

    const set = await cli.openstack(['floating', 'ip', 'set', '--port', 'p1', floating.id], memberEnv);
    expect(set.code, set.stderr).toBe(0);
    const associated = await cli.json(['floating', 'ip', 'show', floating.floating_ip_address], memberEnv);
    expect(associated).toMatchObject({ router_id: withGateway.id, status: 'ACTIVE' });
    expect(associated.fixed_ip_address).toMatch(/^192\.168\.50\./);
    // The interface cannot go while the floating IP goes through it.
    const busy = await cli.openstack(
      ['router', 'remove', 'subnet', 'nebula_router', 'nebula_subnet'],
      memberEnv,
    );
    expect(busy.code).not.toBe(0);

    const unset = await cli.openstack(['floating', 'ip', 'unset', '--port', floating.id], memberEnv);
    expect(unset.code, unset.stderr).toBe(0);
    const released = await cli.json(['floating', 'ip', 'show', floating.id], memberEnv);
    expect(released).toMatchObject({ port_id: null, fixed_ip_address: null, status: 'DOWN' });
    const removed = await cli.openstack(
      ['router', 'remove', 'subnet', 'nebula_router', 'nebula_subnet'],
      memberEnv,
    );
    expect(removed.code, removed.stderr).toBe(0);
    expect(await cli.json(['port', 'list', '--router', 'nebula_router'], memberEnv)).toEqual([]);
  });

  it('refuses what Neutron refuses: provider attributes from the tenant, deleting a network in use', async () => {
    const provider = await cli.openstack(
      ['network', 'create', '--provider-network-type', 'vxlan', 'mine'],
      memberEnv,
    );
    expect(provider.code).not.toBe(0);
    const inUse = await cli.openstack(['network', 'delete', 'nebula_net'], memberEnv);
    expect(inUse.code).not.toBe(0);
    expect((await cli.openstack(['port', 'delete', 'p1'], memberEnv)).code).toBe(0);
    expect((await cli.openstack(['subnet', 'delete', 'nebula_subnet'], memberEnv)).code).toBe(0);
    expect((await cli.openstack(['network', 'delete', 'nebula_net'], memberEnv)).code).toBe(0);
  });
});
