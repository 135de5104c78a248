// The tempest harness reads results the way stestr writes them: streams made by the subunit
// library itself (the one stestr and tempest use, from Debian), and the identity test list
// resolved by the real tempest. The full run against the real Keystone is too slow for the
// suite; bench/identity/tempest-peer.ts does it by hand.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/exec.js';
import { DEBIAN_PYTHON, debianPythonEnvironment, TEMPEST_COMMAND } from '../lib/kit/openstack.js';
import { parseSubunit, testsOf } from './harness/subunit.js';
import {
  outcomesFromStream,
  readTestList,
  storedRunAsV2,
  type TestOutcome,
  writeWorkerFile,
} from './harness/tempest.js';

// Writes the same results twice: argv[1] as a subunit v2 stream (StreamResultToBytes, what
// workers emit) and argv[2] as stestr stores a run (subunit v1 through testtools'
// StreamToExtendedDecorator and subunit's TestProtocolClient, as stestr's file repository
// does). The events are the shapes tempest produces: passes, skips with a reason, failures
// with a traceback sent in chunks, a class whose setUpClass skipped, a test left in progress;
// plus a large attachment, whose length takes the 3-byte form of subunit's numbers, and a
// non-ASCII id.
const PRODUCER = `
import datetime, sys, subunit, testtools
def at(seconds):
    return datetime.datetime(2026, 1, 1, 0, 0, 0, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
def emit(stream):
    stream.startTestRun()
    ok = 'tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token[id-1,smoke]'
    stream.status(test_id=ok, test_status='inprogress', timestamp=at(0), test_tags={'worker-0'}, route_code='0')
    stream.status(test_id=ok, file_name='pythonlogging', file_bytes=b'x' * 20000, mime_type='text/plain;charset=utf8', eof=True, route_code='0')
    stream.status(test_id=ok, test_status='success', timestamp=at(1.25), test_tags={'worker-0'}, route_code='0')
    skip = 'tempest.api.identity.v3.test_users.IdentityV3UsersTest.test_user_account_lockout[id-2]'
    stream.status(test_id=skip, test_status='inprogress', timestamp=at(2))
    stream.status(test_id=skip, file_name='reason', file_bytes='Security compliance not available'.encode(), mime_type='text/plain;charset=utf8', eof=True)
    stream.status(test_id=skip, test_status='skip', timestamp=at(2.5))
    fail = 'tempest.api.identity.admin.v3.test_projects.ProjectsTestJSON.test_project_create_with_parent[id-3]'
    stream.status(test_id=fail, test_status='inprogress', timestamp=at(3))
    stream.status(test_id=fail, file_name='traceback', file_bytes=b'Traceback (most recent call last):\\n  File "test_projects.py", line 80\\n', mime_type='text/x-traceback;charset=utf8')
    stream.status(test_id=fail, file_name='traceback', file_bytes=b'tempest.lib.exceptions.NotFound: Object not found\\n', mime_type='text/x-traceback;charset=utf8', eof=True)
    stream.status(test_id=fail, test_status='fail', timestamp=at(4))
    fixture = 'setUpClass (tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON)'
    stream.status(test_id=fixture, test_status='inprogress', timestamp=at(4))
    stream.status(test_id=fixture, file_name='reason', file_bytes=b"Trusts aren't enabled", mime_type='text/plain;charset=utf8', eof=True)
    stream.status(test_id=fixture, test_status='skip', timestamp=at(4))
    unicode = 'tempest.api.identity.v3.test_x.T.test_caf\\u00e9[id-4]'
    stream.status(test_id=unicode, test_status='inprogress', timestamp=at(5))
    stream.status(test_id=unicode, test_status='success', timestamp=at(5))
    started = 'tempest.api.identity.admin.v3.test_roles.RolesV3TestJSON.test_list_roles[id-5]'
    stream.status(test_id=started, test_status='inprogress', timestamp=at(6))
    stream.stopTestRun()
with open(sys.argv[1], 'wb') as v2:
    emit(subunit.StreamResultToBytes(v2))
with open(sys.argv[2], 'wb') as v1:
    emit(testtools.StreamToExtendedDecorator(subunit.TestProtocolClient(v1)))
`;

const ID = {
  ok: 'tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token[id-1,smoke]',
  skip: 'tempest.api.identity.v3.test_users.IdentityV3UsersTest.test_user_account_lockout[id-2]',
  fail: 'tempest.api.identity.admin.v3.test_projects.ProjectsTestJSON.test_project_create_with_parent[id-3]',
  trust1: 'tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON.test_trust_impersonate[id-6]',
  trust2: 'tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON.test_get_trusts_all[id-7]',
  unicode: 'tempest.api.identity.v3.test_x.T.test_café[id-4]',
  started: 'tempest.api.identity.admin.v3.test_roles.RolesV3TestJSON.test_list_roles[id-5]',
  absent: 'tempest.api.identity.admin.v3.test_groups.GroupsV3TestJSON.test_group_users_add_list_delete[id-8]',
};

describe('tempest harness', () => {
  let dir: string;
  let stream: Buffer;
  let storedRun: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overcast-subunit-'));
    const v2 = join(dir, 'stream.subunit');
    storedRun = join(dir, 'stored-run');
    await run([DEBIAN_PYTHON, '-c', PRODUCER, v2, storedRun], { env: debianPythonEnvironment() });
    stream = await readFile(v2);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads statuses, timings, tags, route codes and chunked attachments of a subunit v2 stream', () => {
    const parsed = parseSubunit(stream);
    expect(parsed.problem).toBeUndefined();
    const tests = new Map(testsOf(parsed.events).map((test) => [test.id, test]));
    const ok = tests.get(ID.ok)!;
    expect(ok.status).toBe('success');
    expect(ok.stoppedAt! - ok.startedAt!).toBeCloseTo(1250, 3);
    expect(ok.attachments.get('pythonlogging')).toHaveLength(20000);
    expect(parsed.events.find((e) => e.testId === ID.ok && e.status === 'success')?.routeCode).toBe('0');
    expect(parsed.events.find((e) => e.testId === ID.ok)?.tags).toEqual(['worker-0']);
    expect(tests.get(ID.skip)?.attachments.get('reason')).toBe('Security compliance not available');
    expect(tests.get(ID.fail)?.attachments.get('traceback')).toBe(
      'Traceback (most recent call last):\n  File "test_projects.py", line 80\ntempest.lib.exceptions.NotFound: Object not found\n',
    );
    expect(tests.get(ID.unicode)?.status).toBe('success');
    expect(tests.get(ID.started)?.status).toBe('inprogress');
  });

  const selected = [ID.ok, ID.skip, ID.fail, ID.trust1, ID.trust2, ID.unicode, ID.started, ID.absent];
  const expectRealOutcomes = (outcomes: Map<string, TestOutcome>) => {
    expect(outcomes.size).toBe(selected.length);
    expect(outcomes.get(ID.ok)?.status).toBe('passed');
    expect(outcomes.get(ID.skip)).toMatchObject({
      status: 'skipped',
      reason: 'Security compliance not available',
    });
    expect(outcomes.get(ID.fail)).toMatchObject({
      status: 'failed',
      reason: 'tempest.lib.exceptions.NotFound: Object not found',
    });
    expect(outcomes.get(ID.fail)?.details).toContain('Traceback');
    for (const id of [ID.trust1, ID.trust2]) {
      expect(outcomes.get(id)).toMatchObject({
        status: 'skipped',
        reason: "setUpClass: Trusts aren't enabled",
      });
    }
    expect(outcomes.get(ID.unicode)?.status).toBe('passed');
    expect(outcomes.get(ID.started)?.status).toBe('failed');
    expect(outcomes.get(ID.absent)?.status).toBe('failed');
  };

  it('gives every selected test its real outcome, class-level skips and missing results included', () => {
    const outcomes = new Map(outcomesFromStream(selected, stream, false).map((o) => [o.id, o]));
    expectRealOutcomes(outcomes);
    expect(outcomes.get(ID.ok)?.seconds).toBe(1.25);
    expect(outcomes.get(ID.started)?.reason).toMatch(/^no result/);
  });

  it('reads a run as stestr stores it (subunit v1) to the same outcomes', async () => {
    expect((await readFile(storedRun, 'utf8')).startsWith('time: ')).toBe(true);
    const converted = await storedRunAsV2(storedRun, join(dir, 'converted.subunit'));
    expectRealOutcomes(new Map(outcomesFromStream(selected, converted, false).map((o) => [o.id, o])));
  });

  it('reports the test a partial stored run was in the middle of as failed', async () => {
    const text = await readFile(storedRun, 'utf8');
    // Cut inside the failure's traceback: the run was killed while that test was reporting.
    const partial = join(dir, 'partial-run');
    await writeFile(partial, text.slice(0, text.indexOf('NotFound')));
    const converted = await storedRunAsV2(partial, join(dir, 'partial.subunit'));
    const outcomes = new Map(outcomesFromStream(selected, converted, true).map((o) => [o.id, o]));
    expect(outcomes.get(ID.ok)?.status).toBe('passed');
    expect(outcomes.get(ID.fail)?.status).toBe('failed');
    expect(outcomes.get(ID.unicode)).toMatchObject({
      status: 'failed',
      reason: 'no result: the run was stopped by its time limit',
    });
  });

  it('keeps what came before a torn or corrupted packet and says where reading stopped', () => {
    const torn = parseSubunit(stream.subarray(0, stream.length - 3));
    expect(torn.problem).toMatch(/claims \d+ bytes/);
    const complete = parseSubunit(stream).events.length;
    expect(torn.events).toHaveLength(complete - 1);

    const corrupted = Buffer.from(stream);
    corrupted[corrupted.length - 10] = corrupted[corrupted.length - 10]! ^ 0xff;
    const bad = parseSubunit(corrupted);
    expect(bad.problem).toMatch(/CRC32/);
    expect(bad.events).toHaveLength(complete - 1);
  });

  it("a worker file gives each slow class a worker of its own and every other test one of stestr's", async () => {
    const slow = ['\\.test_ports\\.PortsTestJSON\\.', '\\.test_routers\\.RoutersTest\\.'];
    const ids = [
      'tempest.api.network.test_ports.PortsTestJSON.test_a[id-1]',
      'tempest.api.network.test_ports.PortsTestJSON.test_b[id-2]',
      'tempest.api.network.test_ports.PortsIpV6TestJSON.test_a[id-1]',
      'tempest.api.network.test_routers.RoutersTest.test_c[id-3]',
      'tempest.api.network.test_networks.NetworksTest.test_d[id-4]',
      'tempest.api.network.test_networks.BulkNetworkOpsTest.test_e[id-5]',
      'tempest.api.network.admin.test_routers.RoutersAdminTest.test_f[id-6]',
    ];
    const workerDir = join(dir, 'workers');
    await run(['mkdir', '-p', workerDir]);
    const file = await writeWorkerFile(workerDir, slow, 3);
    // stestr's own scheduler, grouping by class as tempest's .stestr.conf does.
    const partitions = await run(
      [
        DEBIAN_PYTHON,
        '-c',
        `import json, re, sys
from stestr.scheduler import generate_worker_partitions
group = lambda test_id: re.match(r'([^\\.]*\\.)*', test_id).group(0)
print(json.dumps(generate_worker_partitions(json.loads(sys.argv[1]), sys.argv[2], group_callback=group)))`,
        JSON.stringify(ids),
        file,
      ],
      { env: debianPythonEnvironment() },
    );
    const workers: string[][] = JSON.parse(partitions.stdout);
    expect(workers.flat().sort()).toEqual([...ids].sort());
    expect(workers).toContainEqual([ids[0], ids[1]]);
    expect(workers).toContainEqual([ids[3]]);
    const rest = workers.filter((worker) => !worker.includes(ids[0]!) && !worker.includes(ids[3]!));
    expect(rest).toHaveLength(3);
  });

  it('the identity list selects only identity v3 tests of the areas Overcast builds', async () => {
    const list = await readTestList(new URL('./harness/tempest-identity.txt', import.meta.url).pathname);
    expect(list.length).toBeGreaterThan(0);
    const home = join(dir, 'home');
    const workspace = join(dir, 'workspace');
    const env = debianPythonEnvironment({ HOME: home });
    await run(['mkdir', '-p', home]);
    await run([TEMPEST_COMMAND, 'init', workspace], { env, timeoutMs: 120_000 });
    const listing = await run(
      [
        TEMPEST_COMMAND,
        'run',
        '--list-tests',
        '--include-list',
        new URL('./harness/tempest-identity.txt', import.meta.url).pathname,
      ],
      { env, cwd: workspace, timeoutMs: 300_000 },
    );
    const ids = listing.stdout.split('\n').filter((line) => line.startsWith('tempest.'));
    expect(ids.length).toBe(104);
    for (const id of ids) {
      expect(id).toMatch(/^tempest\.api\.identity\.(admin\.)?v3\./);
      expect(id).not.toMatch(
        /\.test_(trusts|oauth_consumers|credentials|ec2_credentials|policies|domain_configuration|access_rules|inherits|endpoint_groups|project_tags)\./,
      );
    }
  });
});
