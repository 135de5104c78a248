// The operator's headline, as a user lives it: `kubectl apply -f examples/nebula-network.yaml`
// (Project, User, Image, Network, Subnet, Router with an external gateway, SecurityGroup,
// FloatingIP, in no particular order) against `overcast up` → everything Available; the
// `openstack` CLI as the new tenant user sees exactly those resources; what the admin changes
// with the CLI behind the operator's back is put back on resync; `kubectl get openstack`
// shows them with their IDs; `kubectl delete -f` removes them all from the cloud in dependency
// order and the objects disappear. Only the example's credentials and image URL are changed,
// to point at this test's cloud.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { qcow2Image } from './harness/images.js';
import { type CliCloud, startCliCloud } from './harness/openstack-cli.js';
import {
  condition,
  type OpenStackObject,
  type OperatorTestbed,
  startOperatorTestbed,
} from './harness/operator.js';
import { openrcToken } from './harness/overcast-up.js';

const EXAMPLE = join(import.meta.dirname, '..', 'examples', 'nebula-network.yaml');
const NAMESPACE = 'nebula';
/** Every object of the example, as Kind/name. */
const EXPECTED = [
  'FloatingIP/nebula-ip',
  'Image/cirros',
  'Network/nebula-net',
  'Network/public',
  'Project/nebula',
  'Router/nebula-router',
  'SecurityGroup/nebula-ssh',
  'Subnet/nebula-subnet',
  'User/nebula-user',
];
const TENANT = { OS_USERNAME: 'nebula', OS_PASSWORD: 'nebula-secret-password', OS_PROJECT_NAME: 'nebula' };

let cli: CliCloud;
let bed: OperatorTestbed;
let imageServer: Server;
let exampleFile: string;
const image = qcow2Image(1n << 30n, 64 * 1024);

async function allObjects(): Promise<OpenStackObject[]> {
  const { stdout } = await bed.kubectl(['get', 'openstack', '-n', NAMESPACE, '-o', 'json']);
  return JSON.parse(stdout).items;
}

const names = (listed: { Name: string }[]) => listed.map((entry) => entry.Name).sort();

beforeAll(async () => {
  cli = await startCliCloud('sqlite', 'nebula');
  // What the cloud's administrator provides: the external network the example imports.
  await cli.json([
    'network',
    'create',
    '--external',
    '--provider-network-type',
    'flat',
    '--provider-physical-network',
    'physnet',
    'public',
  ]);
  await cli.json([
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
  imageServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(image);
  });
  await new Promise<void>((resolve) => imageServer.listen(0, '127.0.0.1', resolve));
  const imageUrl = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}/cirros.qcow2`;
  const example = (await readFile(EXAMPLE, 'utf8'))
    .replace('http://overcast-api.overcast.svc:5000/v3', cli.adminEnv.OS_AUTH_URL as string)
    .replace('password: change-me', `password: ${cli.adminEnv.OS_PASSWORD}`)
    .replace(/url: https:\/\/download\.cirros-cloud\.net\/\S+/, `url: ${imageUrl}`);
  exampleFile = join(cli.workDir, 'nebula-network.yaml');
  await writeFile(exampleFile, example);
  // Every object resyncs every 2 s (the operator's global default, `--resync-period 2s`), so
  // drift made with the CLI is put back within the test's patience.
  bed = await startOperatorTestbed(
    'nebula',
    { framework: { reconciler: { pollMs: 1_000, defaultResyncMs: 2_000 } } },
    NAMESPACE,
  );
}, 300_000);

afterAll(async () => {
  await bed?.close();
  await new Promise((resolve) => imageServer?.close(resolve));
  await cli?.stop();
});

describe('the Nebula example', () => {
  it('kubectl apply: every object becomes Available', { timeout: 200_000 }, async () => {
    await bed.kubectl(['apply', '-f', exampleFile]);
    const objects = await vi.waitFor(
      async () => {
        const listed = await allObjects();
        const waiting = listed.filter(
          (object) =>
            condition(object, 'Available')?.status !== 'True' ||
            condition(object, 'Progressing')?.status !== 'False',
        );
        if (listed.length < EXPECTED.length || waiting.length > 0)
          throw new Error(
            `not yet: ${waiting.map((object) => `${object.kind}/${object.metadata.name}: ${condition(object, 'Progressing')?.message}`).join('; ')}`,
          );
        return listed;
      },
      { timeout: 180_000, interval: 1_000 },
    );
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual(EXPECTED);
  });

  it('the openstack CLI as the new tenant user sees exactly those resources', async () => {
    expect(names(await cli.json(['network', 'list'], TENANT))).toEqual(['nebula-net', 'public']);
    expect(names(await cli.json(['subnet', 'list'], TENANT))).toEqual(['nebula-subnet']);
    const [router] = await cli.json(['router', 'list'], TENANT);
    expect(router).toMatchObject({ Name: 'nebula-router' });
    const shown = await cli.json(['router', 'show', 'nebula-router'], TENANT);
    expect(shown.external_gateway_info.network_id).toBe((await cli.json(['network', 'show', 'public'])).id);
    expect(
      names(await cli.json(['security', 'group', 'list'], TENANT)).filter((name) => name !== 'default'),
    ).toEqual(['nebula-ssh']);
    const addresses = await cli.json(['floating', 'ip', 'list'], TENANT);
    expect(addresses).toHaveLength(1);
    expect(addresses[0]['Floating IP Address']).toMatch(/^203\.0\.113\./);
    expect(names(await cli.json(['image', 'list'], TENANT))).toEqual(['cirros-0.6.2']);
    const shownImage = await cli.json(['image', 'show', 'cirros-0.6.2'], TENANT);
    expect(shownImage).toMatchObject({ status: 'active', size: image.length, disk_format: 'qcow2' });
  });

  it('what the admin changes behind the operator with the openstack CLI is put back on resync, with Events', async () => {
    const specified = (await cli.json(['network', 'show', 'nebula-net'])).description;
    expect(
      (await cli.openstack(['network', 'set', '--description', 'changed by hand', 'nebula-net'])).code,
    ).toBe(0);
    const ssh = (await cli.json(['security', 'group', 'rule', 'list', 'nebula-ssh'])).find(
      (rule: { 'Port Range': string }) => rule['Port Range'] === '22:22',
    );
    expect(ssh).toBeDefined();
    expect((await cli.openstack(['security', 'group', 'rule', 'delete', ssh.ID])).code).toBe(0);
    await vi.waitFor(
      async () => {
        expect((await cli.json(['network', 'show', 'nebula-net'])).description).toBe(specified);
        const ranges = (await cli.json(['security', 'group', 'rule', 'list', 'nebula-ssh'])).map(
          (rule: { 'Port Range': string }) => rule['Port Range'],
        );
        expect(ranges).toContain('22:22');
      },
      { timeout: 60_000, interval: 1_000 },
    );
    expect(await bed.reasonsOf('nebula-net')).toContain('DriftCorrected');
    expect(await bed.reasonsOf('nebula-ssh')).toContain('DriftCorrected');
  });

  it('kubectl get openstack shows them with the IDs the CLI takes', async () => {
    const { stdout } = await bed.kubectl(['get', 'openstack', '-n', NAMESPACE]);
    const networkId = (await cli.json(['network', 'show', 'nebula-net'])).id as string;
    const subnetId = (await cli.json(['subnet', 'show', 'nebula-subnet'])).id as string;
    expect(stdout).toContain(networkId);
    expect(stdout).toContain(subnetId);
    for (const object of await allObjects()) expect(object.status?.id).toMatch(/^[0-9a-f-]{32,36}$/);
  });

  it('kubectl delete -f removes everything from the cloud in dependency order, and the objects go', async () => {
    const ids = Object.fromEntries(
      (await allObjects()).map((object) => [
        `${object.kind}/${object.metadata.name}`,
        object.status?.id as string,
      ]),
    );
    // Where each resource is looked up while the deletion runs, to learn the order they went in.
    const paths: Record<string, string> = {
      'Subnet/nebula-subnet': `/network/v2.0/subnets/${ids['Subnet/nebula-subnet']}`,
      'Network/nebula-net': `/network/v2.0/networks/${ids['Network/nebula-net']}`,
      'Router/nebula-router': `/network/v2.0/routers/${ids['Router/nebula-router']}`,
      'FloatingIP/nebula-ip': `/network/v2.0/floatingips/${ids['FloatingIP/nebula-ip']}`,
      'SecurityGroup/nebula-ssh': `/network/v2.0/security-groups/${ids['SecurityGroup/nebula-ssh']}`,
      'Image/cirros': `/image/v2/images/${ids['Image/cirros']}`,
      'Project/nebula': `/identity/v3/projects/${ids['Project/nebula']}`,
      'User/nebula-user': `/identity/v3/users/${ids['User/nebula-user']}`,
    };
    const token = await openrcToken(cli.baseUrl, cli.adminEnv);
    const goneAt = new Map<string, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const [name, path] of Object.entries(paths)) {
          if (goneAt.has(name)) continue;
          const response = await fetch(`${cli.baseUrl}${path}`, { headers: { 'x-auth-token': token } });
          if (response.status === 404) goneAt.set(name, performance.now());
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await bed.kubectl(['delete', '-f', exampleFile, '--timeout=180s']);
    await vi.waitFor(() => expect([...goneAt.keys()].sort()).toEqual(Object.keys(paths).sort()), {
      timeout: 30_000,
    });
    watching = false;
    await watcher;
    expect(await allObjects()).toEqual([]);
    // What refers to something went before it: the subnet before its network and router, and
    // the project after everything in it.
    const at = (name: string) => goneAt.get(name) as number;
    expect(at('Subnet/nebula-subnet')).toBeLessThan(at('Network/nebula-net'));
    expect(at('Subnet/nebula-subnet')).toBeLessThan(at('Router/nebula-router'));
    for (const name of Object.keys(paths).filter(
      (name) => name !== 'Project/nebula' && name !== 'User/nebula-user',
    ))
      expect(at(name), name).toBeLessThan(at('Project/nebula'));
    // The imported external network is the administrator's: left as it was.
    expect((await cli.json(['network', 'show', 'public'])).id).toBe(ids['Network/public']);
  });
});
