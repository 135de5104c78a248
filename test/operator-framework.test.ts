// The reconciler framework end to end, with the Network actuator: the real kube-apiserver of the
// harness, the real api-server listening on loopback, and the operator in this process. A
// Network applied with credentials in a Secret becomes Available with status.id and exists in
// the cloud; deleting it deletes the network; imports find what the filter names; the watch
// survives a real 410 Gone; the operator holds its Lease and serves its metrics.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesClient } from '../lib/kubernetes/index.js';
import { createLogger } from '../lib/log.js';
import type { OpenStackClient } from '../lib/openstack/index.js';
import type { LiveCloud } from '../lib/openstack/live-cloud.suite.js';
import type { KindSpec } from '../operator/crds/convention.js';
import { Network } from '../operator/crds/network.js';
import { FINALIZER } from '../operator/framework/finalizer.js';
import { customResourceSource, type KubeObject } from '../operator/framework/informer.js';
import { loadKubeConfig, type RunningOperator, startOperator } from '../operator/main.js';
import { required } from './harness/inject.js';
import { condition, type OperatorTestbed, startOperatorTestbed } from './harness/operator.js';

let bed: OperatorTestbed;
let namespace: string;
const leaseOf = (inNamespace: string) => `overcast-operator-${inNamespace}`;
let LEASE: string;
let live: LiveCloud;
let cloud: OpenStackClient;
let operator: RunningOperator;
let watchesOpened = 0;
/** Every Network the operator's watch delivered, in order: each version its writes made. */
const watchedNetworks: KubeObject[] = [];

const kubectl = (args: string[], input?: string) => bed.kubectl(args, input);
const getNetwork = (name: string) => bed.get('Network', name);
const settled = (name: string) => bed.settled('Network', name);
const eventsOf = (name: string) => bed.eventsOf(name);
const apply = (name: string, spec: Partial<KindSpec<typeof Network>>) => bed.apply('Network', name, spec);
const leaderElectionIn = (inNamespace: string) => ({
  namespace: inNamespace,
  name: leaseOf(inNamespace),
  leaseDurationSeconds: 5,
  retryPeriodMs: 500,
});

beforeAll(async () => {
  const kubernetes = new KubernetesClient(loadKubeConfig({ kubeconfig: required('kubeconfig') }));
  bed = await startOperatorTestbed('opfw', (inNamespace) => ({
    leaderElection: { ...leaderElectionIn(inNamespace), identity: 'replica-1' },
    http: { host: '127.0.0.1', port: 0 },
    framework: {
      // The first Network watch starts from resourceVersion 1, long out of the apiserver's
      // window: a real 410 Gone, which the informer must answer with a fresh list.
      sourceFor: (resource) => {
        const real = customResourceSource(kubernetes, resource);
        if (resource.plural !== Network.plural) return real;
        return {
          list: () => real.list(),
          watch: (resourceVersion, onEvent, onEnd) =>
            real.watch(
              watchesOpened++ === 0 ? '1' : resourceVersion,
              (type, object) => {
                watchedNetworks.push(object);
                onEvent(type, object);
              },
              onEnd,
            ),
        };
      },
    },
  }));
  ({ namespace, live, cloud, operator } = bed);
  LEASE = leaseOf(namespace);
}, 180_000);

afterAll(async () => {
  bed.operator = operator;
  await bed?.close();
});

const neutron = () => cloud.service('network');

async function networkInCloud(id: string): Promise<{ name: string; description: string } | undefined> {
  const response = await neutron()
    .get(`/networks/${id}`)
    .catch((error: { status?: number }) => {
      if (error.status === 404) return undefined;
      throw error;
    });
  return response?.body.network;
}

describe('the operator framework with the Network actuator', () => {
  it('takes the leader Lease and reports ready, with metrics', async () => {
    await vi.waitFor(
      async () => {
        const lease = JSON.parse(
          (await kubectl(['get', 'lease', LEASE, '-n', namespace, '-o', 'json'])).stdout,
        );
        expect(lease.spec.holderIdentity).toBeTruthy();
      },
      { timeout: 20_000, interval: 250 },
    );
    expect(operator.manager.isLeading).toBe(true);
    const base = `http://127.0.0.1:${operator.manager.httpAddress?.port}`;
    await vi.waitFor(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200), {
      timeout: 20_000,
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('overcast_operator_leader 1');
    expect(metrics).toContain('# TYPE overcast_operator_queue_depth gauge');
  });

  it('creates a managed Network: Available with status.id, the network exists, an Event says so', async () => {
    await apply('nebula-net', { resource: { description: 'made by the operator' } });
    const object = await settled('nebula-net');
    expect(condition(object, 'Available')).toMatchObject({ status: 'True', reason: 'Success' });
    expect(condition(object, 'Progressing')).toMatchObject({ status: 'False', reason: 'Success' });
    expect(object.metadata.finalizers).toContain(FINALIZER);
    // The credentials Secret in use is held too, so deleting it cannot strand the object.
    const secret = JSON.parse(
      (await kubectl(['get', 'secret', 'cloud', '-n', namespace, '-o', 'json'])).stdout,
    );
    expect(secret.metadata.finalizers).toContain(FINALIZER);
    const id = object.status?.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(object.status?.resource).toMatchObject({ name: 'nebula-net', status: 'ACTIVE' });
    expect(await networkInCloud(id)).toMatchObject({
      name: 'nebula-net',
      description: 'made by the operator',
    });
    const events = await eventsOf('nebula-net');
    expect(events.map((event) => event.reason)).toContain('Created');
    // Settled means quiet: its own status writes do not queue it again.
    const successes = () =>
      Number(
        /overcast_operator_reconciles_total\{kind="Network",result="success"\} (\d+)/.exec(
          operator.manager.metrics.render(),
        )?.[1],
      );
    const before = successes();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(successes()).toBe(before);
    // The first watch met a real 410 Gone and the informer listed again.
    expect(operator.manager.informer('Network')?.relists).toBeGreaterThanOrEqual(1);
  });

  it('updates the network when the spec changes, with the changed fields in the Event', async () => {
    await apply('nebula-net', { resource: { description: 'changed' } });
    await vi.waitFor(
      async () => {
        const object = await getNetwork('nebula-net');
        expect(object?.status?.resource?.description).toBe('changed');
        expect(condition(object, 'Available')?.observedGeneration).toBe(object?.metadata.generation);
      },
      { timeout: 30_000, interval: 250 },
    );
    const id = (await getNetwork('nebula-net'))?.status?.id as string;
    expect((await networkInCloud(id))?.description).toBe('changed');
    const updated = (await eventsOf('nebula-net')).find((event) => event.reason === 'Updated');
    expect(updated?.message).toContain('resource.description');
  });

  it('adopts the network a create before a crash left behind instead of making a second one', async () => {
    // What a crash between the create and the status.id write leaves: the network, no ID.
    const leftBehind = (await neutron().post('/networks', { network: { name: 'crashed' } })).body.network;
    // A namesake in another project, which the admin's credentials see too: not ours.
    const other = await live.test.memberProject(live.adminToken, `other-${namespace}`);
    const trap = (
      await neutron().post('/networks', { network: { name: 'crashed', project_id: other.projectId } })
    ).body.network;
    await apply('crashed', { resource: {} });
    const object = await settled('crashed');
    expect(object.status?.id).toBe(leftBehind.id);
    expect((await eventsOf('crashed')).map((event) => event.reason)).toEqual(['Adopted']);
    const named = [];
    for await (const network of neutron().list('/networks', 'networks', { query: { name: 'crashed' } }))
      named.push(network.id);
    expect(named.sort()).toEqual([leftBehind.id, trap.id].sort());
  });

  it('imports by filter, and reports a filter matching several as InvalidConfiguration', async () => {
    const target = (await neutron().post('/networks', { network: { name: 'shared-target' } })).body.network;
    await apply('imported', { managementPolicy: 'unmanaged', import: { filter: { name: 'shared-target' } } });
    const imported = await settled('imported');
    expect(imported.status?.id).toBe(target.id);
    expect(condition(imported, 'Available')?.status).toBe('True');
    // No finalizer-held deletion of an imported network: it stays in the cloud.
    await bed.remove('Network', 'imported');
    expect(await networkInCloud(target.id)).toBeDefined();

    for (let twin = 0; twin < 2; twin++) await neutron().post('/networks', { network: { name: 'twin' } });
    await apply('ambiguous', { managementPolicy: 'unmanaged', import: { filter: { name: 'twin' } } });
    const ambiguous = await settled('ambiguous');
    expect(condition(ambiguous, 'Progressing')).toMatchObject({ reason: 'InvalidConfiguration' });
    expect(condition(ambiguous, 'Progressing')?.message).toContain('2 Networks match the import filter');
    expect(condition(ambiguous, 'Available')?.status).toBe('False');
  });

  it('waits for a dependency that is not there, in plain words', async () => {
    await apply('in-project', { resource: { projectRef: 'nebula' } });
    await vi.waitFor(
      async () => {
        const progressing = condition(await getNetwork('in-project'), 'Progressing');
        expect(progressing).toMatchObject({
          status: 'True',
          reason: 'WaitingForDependency',
          message: 'Waiting for Project/nebula to be available',
        });
      },
      { timeout: 30_000, interval: 250 },
    );
  });

  it('recreates a managed network deleted behind its back on resync, with an Event', async () => {
    await apply('drifting', { resource: {}, resyncPeriod: '2s' });
    const first = (await settled('drifting')).status?.id as string;
    await neutron().delete(`/networks/${first}`);
    const again = await vi.waitFor(
      async () => {
        const object = await getNetwork('drifting');
        expect(object?.status?.id).not.toBe(first);
        expect(condition(object, 'Available')?.status).toBe('True');
        return object?.status?.id as string;
      },
      { timeout: 30_000, interval: 250 },
    );
    expect(await networkInCloud(again)).toMatchObject({ name: 'drifting' });
    expect((await eventsOf('drifting')).map((event) => event.reason)).toContain('ExternalDeletion');
    // The first version that names the new network must not carry the old one's Available.
    const firstWithNewId = watchedNetworks.find(
      (object) => object.metadata.name === 'drifting' && object.status?.id === again,
    );
    expect(firstWithNewId?.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Available', status: 'False', reason: 'Progressing' }),
    );
  });

  it('corrects a managed network changed behind its back on resync, with a DriftCorrected Event', async () => {
    await apply('corrected', { resource: { description: 'as specified' }, resyncPeriod: '2s' });
    const id = (await settled('corrected')).status?.id as string;
    await neutron().put(`/networks/${id}`, { network: { description: 'changed by hand' } });
    await vi.waitFor(async () => expect((await networkInCloud(id))?.description).toBe('as specified'), {
      timeout: 30_000,
      interval: 250,
    });
    const corrected = (await eventsOf('corrected')).find((event) => event.reason === 'DriftCorrected');
    expect(corrected?.message).toMatch(
      /^Corrected Network .+, changed outside the operator \(description\)$/,
    );
  });

  it('reports an imported network changed in the cloud, in its conditions and an Event, and leaves it', async () => {
    const target = (
      await neutron().post('/networks', { network: { name: 'watched', description: 'before' } })
    ).body.network;
    await apply('watched', { managementPolicy: 'unmanaged', import: { id: target.id }, resyncPeriod: '2s' });
    await settled('watched');
    await neutron().put(`/networks/${target.id}`, { network: { description: 'after' } });
    await vi.waitFor(
      async () => {
        const object = await getNetwork('watched');
        expect(object?.status?.resource?.description).toBe('after');
        expect(condition(object, 'Progressing')?.message).toBe(
          'Imported Network changed in the cloud (description); left as it is',
        );
      },
      { timeout: 30_000, interval: 250 },
    );
    expect((await networkInCloud(target.id))?.description).toBe('after');
    const reported = (await eventsOf('watched')).find((event) => event.reason === 'ExternalChange');
    expect(reported?.message).toBe(`Imported Network ${target.id} changed in the cloud: description`);
  });

  it('imports by id, and reports the imported network deleted from the cloud as UnrecoverableError', async () => {
    const target = (await neutron().post('/networks', { network: { name: 'by-id-target' } })).body.network;
    await apply('by-id', { managementPolicy: 'unmanaged', import: { id: target.id }, resyncPeriod: '2s' });
    const imported = await settled('by-id');
    expect(imported.status?.id).toBe(target.id);
    expect(imported.status?.resource?.name).toBe('by-id-target');
    await neutron().delete(`/networks/${target.id}`);
    await vi.waitFor(
      async () => {
        const object = await getNetwork('by-id');
        expect(condition(object, 'Progressing')).toMatchObject({
          status: 'False',
          reason: 'UnrecoverableError',
        });
        expect(condition(object, 'Available')?.status).toBe('False');
      },
      { timeout: 30_000, interval: 250 },
    );
  });

  it('over quota is InvalidConfiguration, left alone until the spec changes, then goes on', async () => {
    const tenant = await live.test.memberProject(live.adminToken, `quota-${namespace}`);
    await neutron().put(`/quotas/${tenant.projectId}`, { quota: { network: 0 } });
    const tenantYaml = `clouds: {overcast: {auth: {auth_url: '${live.front.url}/identity', username: quota-${namespace}-user, password: pw, user_domain_id: default, project_name: quota-${namespace}, project_domain_id: default}}}`;
    await kubectl([
      'create',
      'secret',
      'generic',
      'tenant',
      '-n',
      namespace,
      `--from-literal=clouds.yaml=${tenantYaml}`,
    ]);
    const tenantCredentials = { secretName: 'tenant', cloudName: 'overcast' };
    // A resync period as short as 1 s: a terminal error is not resynced either.
    await apply('over-quota', { cloudCredentialsRef: tenantCredentials, resource: {}, resyncPeriod: '1s' });
    const refused = await settled('over-quota');
    expect(condition(refused, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'InvalidConfiguration',
    });
    expect(condition(refused, 'Progressing')?.message).toMatch(/^quota exceeded: /);
    expect(condition(refused, 'Available')?.status).toBe('False');
    const warning = (await eventsOf('over-quota')).find((event) => event.reason === 'InvalidConfiguration');
    expect(warning?.type).toBe('Warning');
    // The quota is raised, but the spec did not change: the operator does not try again...
    await neutron().put(`/quotas/${tenant.projectId}`, { quota: { network: 5 } });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(condition(await getNetwork('over-quota'), 'Progressing')?.reason).toBe('InvalidConfiguration');
    // ...until it does.
    await apply('over-quota', {
      cloudCredentialsRef: tenantCredentials,
      resource: { description: 'retry' },
      resyncPeriod: '1s',
    });
    const created = await settled('over-quota');
    expect(condition(created, 'Available')?.status).toBe('True');
    expect((await networkInCloud(created.status?.id as string))?.description).toBe('retry');
  });

  it('bad credentials and an unreachable cloud: said in plain words, retried with backoff, recovered once fixed', async () => {
    const errorsOf = () =>
      [
        ...operator.manager.metrics
          .render()
          .matchAll(/overcast_operator_reconcile_errors_total\{kind="Network",[^}]*\} (\d+)/g),
      ].reduce((sum, match) => sum + Number(match[1]), 0);
    const secret = (yaml: string) =>
      kubectl([
        'create',
        'secret',
        'generic',
        'flaky',
        '-n',
        namespace,
        `--from-literal=clouds.yaml=${yaml}`,
        '--dry-run=client',
        '-o',
        'yaml',
      ]).then(({ stdout }) => kubectl(['apply', '-f', '-'], stdout));
    const flaky = { secretName: 'flaky', cloudName: 'overcast' };
    const waitFor = (name: string, reason: string, message: RegExp) =>
      vi.waitFor(
        async () => {
          const progressing = condition(await getNetwork(name), 'Progressing');
          expect(progressing).toMatchObject({ status: 'True', reason });
          expect(progressing?.message).toMatch(message);
        },
        { timeout: 30_000, interval: 250 },
      );

    await secret(bed.cloudsYaml({ username: 'admin', password: 'wrong', project: 'admin' }));
    await apply('bad-credentials', { cloudCredentialsRef: flaky, resource: {} });
    await waitFor('bad-credentials', 'InvalidConfiguration', /401|credentials|authenticat/i);
    // Backoff: a few attempts over three seconds (200 ms doubling to 2 s), not hundreds.
    const before = errorsOf();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(errorsOf() - before).toBeLessThanOrEqual(6);
    const messages = JSON.stringify(await eventsOf('bad-credentials'));
    expect(messages).not.toContain('wrong');

    // The cloud's address is a port nothing listens on.
    await secret(
      bed
        .cloudsYaml({ username: 'admin', password: 'admin-secret', project: 'admin' })
        .replace(live.front.url, 'http://127.0.0.1:9'),
    );
    await waitFor('bad-credentials', 'TransientError', /127\.0\.0\.1:9|ECONNREFUSED|connect/i);

    await secret(bed.cloudsYaml({ username: 'admin', password: 'admin-secret', project: 'admin' }));
    const recovered = await settled('bad-credentials');
    expect(condition(recovered, 'Available')?.status).toBe('True');
    expect(await networkInCloud(recovered.status?.id as string)).toMatchObject({ name: 'bad-credentials' });
  });

  it('an object whose cloud is gone for good leaves once onDelete is detach, the resource left alone', async () => {
    const yaml = (url: string) =>
      bed
        .cloudsYaml({ username: 'admin', password: 'admin-secret', project: 'admin' })
        .replace(live.front.url, url);
    const secret = async (url: string) =>
      kubectl(
        ['apply', '-f', '-'],
        (
          await kubectl([
            'create',
            'secret',
            'generic',
            'vanishing',
            '-n',
            namespace,
            `--from-literal=clouds.yaml=${yaml(url)}`,
            '--dry-run=client',
            '-o',
            'yaml',
          ])
        ).stdout,
      );
    await secret(live.front.url);
    await apply('stranded', {
      cloudCredentialsRef: { secretName: 'vanishing', cloudName: 'overcast' },
      resource: {},
    });
    const id = (await settled('stranded')).status?.id as string;
    // The cloud goes away: the deletion cannot reach it and the finalizer holds the object.
    await secret('http://127.0.0.1:9');
    await kubectl(['delete', 'networks.openstack.overcast.dev', 'stranded', '-n', namespace, '--wait=false']);
    await vi.waitFor(
      async () =>
        expect(condition(await getNetwork('stranded'), 'Progressing')?.reason).toBe('TransientError'),
      { timeout: 30_000, interval: 250 },
    );
    await kubectl([
      'patch',
      'networks.openstack.overcast.dev',
      'stranded',
      '-n',
      namespace,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { managedOptions: { onDelete: 'detach' } } }),
    ]);
    await vi.waitFor(async () => expect(await getNetwork('stranded')).toBeUndefined(), {
      timeout: 30_000,
      interval: 250,
    });
    expect(await networkInCloud(id)).toMatchObject({ name: 'stranded' });
  });

  it('deletes the network with the object', async () => {
    const id = (await getNetwork('nebula-net'))?.status?.id as string;
    await bed.remove('Network', 'nebula-net');
    expect(await getNetwork('nebula-net')).toBeUndefined();
    expect(await networkInCloud(id)).toBeUndefined();
    expect(await operator.manager.metrics.render()).toMatch(
      /overcast_operator_reconciles_total\{kind="Network",result="success"\} \d+/,
    );
  });
});

describe('two replicas', () => {
  it('the second stands by while the first holds the Lease, takes over when it stops, and reconciles', async () => {
    const standby = await startOperator(
      {
        kubeconfig: bed.kubeconfig,
        leaderElection: { ...leaderElectionIn(namespace), identity: 'replica-2' },
        http: { host: '127.0.0.1', port: 0 },
      },
      createLogger('operator-test-standby', 'silent'),
    );
    const first = operator;
    operator = standby;
    // Several retry periods: the standby sees the Lease held and renewed, and does not lead.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(standby.manager.isLeading).toBe(false);
    expect(first.manager.isLeading).toBe(true);
    const standbyReady = await fetch(`http://127.0.0.1:${standby.manager.httpAddress?.port}/readyz`);
    expect(standbyReady.status).toBe(200);
    await apply('during-standby', { resource: {} });
    await settled('during-standby');

    await first.close();
    await vi.waitFor(() => expect(standby.manager.isLeading).toBe(true), { timeout: 20_000, interval: 200 });
    const lease = JSON.parse((await kubectl(['get', 'lease', LEASE, '-n', namespace, '-o', 'json'])).stdout);
    expect(lease.spec.holderIdentity).toBe('replica-2');
    expect(lease.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
    await apply('after-handover', { resource: {} });
    const object = await settled('after-handover');
    expect(condition(object, 'Available')?.status).toBe('True');
    expect(await networkInCloud(object.status?.id as string)).toMatchObject({ name: 'after-handover' });
  });
});
