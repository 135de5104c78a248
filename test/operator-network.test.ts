// The Network actuator's share of the scenario floor that the framework tests (which
// use Network to show the framework) leave out: create-full, a dependency that appears late,
// import through a reference (a filter naming a Project, past a namesake in another project),
// a missing import ID, and resync turned off; and a Router imported through its Project.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, type OperatorTestbed, resourceCalls, startOperatorTestbed } from './harness/operator.js';

let bed: OperatorTestbed;
const neutron = () => bed.cloud.service('network');
const { post, show } = resourceCalls(neutron);

beforeAll(async () => {
  bed = await startOperatorTestbed('opnet');
}, 180_000);

afterAll(async () => {
  await bed?.close();
});

describe('Network', () => {
  it('create-full: every field it supports, as the cloud shows it', async () => {
    await bed.apply('Network', 'full', {
      resource: {
        name: 'full-net',
        description: 'every field',
        adminStateUp: false,
        mtu: 1400,
        portSecurityEnabled: false,
        shared: true,
        external: true,
        provider: { networkType: 'vlan', physicalNetwork: 'physnet', segmentationId: 321 },
      },
    });
    const object = await bed.available('Network', 'full');
    expect(await show(`/networks/${object.status?.id}`, 'network')).toMatchObject({
      name: 'full-net',
      description: 'every field',
      admin_state_up: false,
      mtu: 1400,
      port_security_enabled: false,
      shared: true,
      'router:external': true,
      'provider:network_type': 'vlan',
      'provider:physical_network': 'physnet',
      'provider:segmentation_id': 321,
    });
    expect(object.status?.resource).toMatchObject({
      name: 'full-net',
      mtu: 1400,
      external: true,
      provider: { networkType: 'vlan', physicalNetwork: 'physnet', segmentationId: 321 },
    });
  });

  it('a Network applied before its Project waits, then is made in that project', async () => {
    await bed.apply('Network', 'late', { resource: { projectRef: 'late-project' } });
    await bed.progressing('Network', 'late', 'WaitingForDependency', 'True');
    await bed.apply('Project', 'late-project', { resource: {} });
    const projectId = (await bed.available('Project', 'late-project')).status?.id;
    const network = await bed.available('Network', 'late');
    expect((await show(`/networks/${network.status?.id}`, 'network'))?.project_id).toBe(projectId);
  });

  it('import by a filter naming a Project takes the network in that project, not its namesake elsewhere', async () => {
    await bed.apply('Project', 'owner', { resource: {} });
    const ownerId = (await bed.available('Project', 'owner')).status?.id as string;
    const target = await post('/networks', 'network', { name: 'twin-name', project_id: ownerId });
    // The trap: the same name in the admin's project, which the admin's credentials also list.
    await post('/networks', 'network', { name: 'twin-name' });
    await bed.apply('Network', 'imported', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'twin-name', projectRef: 'owner' } },
    });
    expect((await bed.available('Network', 'imported')).status?.id).toBe(target.id);
  });

  it('import by an ID that does not exist is terminal', async () => {
    await bed.apply('Network', 'missing', {
      managementPolicy: 'unmanaged',
      import: { id: '00000000-0000-4000-8000-000000000000' },
    });
    const object = await bed.progressing('Network', 'missing', 'InvalidConfiguration');
    expect(condition(object, 'Progressing')?.message).toBe(
      'No Network has the ID 00000000-0000-4000-8000-000000000000',
    );
  });

  it('resync turned off (0s) leaves a change made behind its back', async () => {
    await bed.apply('Network', 'unwatched', {
      resource: { description: 'as specified' },
      resyncPeriod: '0s',
    });
    const id = (await bed.settled('Network', 'unwatched')).status?.id as string;
    await neutron().put(`/networks/${id}`, { network: { description: 'changed by hand' } });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await show(`/networks/${id}`, 'network'))?.description).toBe('changed by hand');
  });
});

describe('Router', () => {
  it('import by a filter naming a Project takes the router in that project, not its namesake elsewhere', async () => {
    const ownerId = (await bed.available('Project', 'owner')).status?.id as string;
    const target = await post('/routers', 'router', { name: 'edge', project_id: ownerId });
    await post('/routers', 'router', { name: 'edge' });
    await bed.apply('Router', 'imported-edge', {
      managementPolicy: 'unmanaged',
      import: { filter: { name: 'edge', projectRef: 'owner' } },
    });
    expect((await bed.available('Router', 'imported-edge')).status?.id).toBe(target.id);
  });
});
