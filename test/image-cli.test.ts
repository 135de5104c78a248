// The seeds' golden-image walk-through, driven by the real `openstack` CLI (Debian's
// python-openstackclient, which speaks Glance through openstacksdk) against `overcast up`, on
// SQLite and on MariaDB: create with data, list, show with hashes, set a property without
// touching the data, save it back byte for byte, delete and free the store; then what a member
// of another project sees, and what a non-admin may not do.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/exec.js';
import { OPENSTACK_COMMAND } from '../lib/kit/openstack.js';
import { createDatabaseFor, type Dialect } from './harness/databases.js';
import { apiPort, type RunningUp, sourceOpenrc, startUp } from './harness/overcast-up.js';

describe.each(['sqlite', 'mysql'] as const)(
  'image walk-through with the openstack CLI on %s',
  (dialect: Dialect) => {
    let workDir: string;
    let up: RunningUp;
    let adminEnv: Record<string, string>;
    let imageFile: string;
    let imageBytes: Buffer;
    let goldenId: string;
    const storeDir = () => join(workDir, 'data', 'images');

    /** Runs `openstack` with the admin's credentials, optionally overridden. */
    const openstack = (args: string[], overrides: Record<string, string> = {}) =>
      run([OPENSTACK_COMMAND, ...args], {
        allowFailure: true,
        timeoutMs: 120_000,
        env: { PATH: '/usr/bin:/bin', HOME: workDir, ...adminEnv, ...overrides },
      });
    const json = async (args: string[], overrides: Record<string, string> = {}) => {
      const result = await openstack([...args, '-f', 'json'], overrides);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      return JSON.parse(result.stdout);
    };

    /** A project with a member user, and that user's credentials for the CLI. */
    async function memberOf(project: string): Promise<Record<string, string>> {
      expect((await openstack(['project', 'create', '--domain', 'default', project])).code).toBe(0);
      const user = `${project}-user`;
      expect(
        (await openstack(['user', 'create', '--domain', 'default', '--password', 'pw', user])).code,
      ).toBe(0);
      expect((await openstack(['role', 'add', '--project', project, '--user', user, 'member'])).code).toBe(0);
      return { OS_USERNAME: user, OS_PASSWORD: 'pw', OS_PROJECT_NAME: project };
    }

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), `overcast-image-${dialect}-`));
      const databaseUrl = await createDatabaseFor(dialect, workDir);
      const port = await apiPort();
      up = await startUp(['--data-dir', join(workDir, 'data'), '--listen', `127.0.0.1:${port}`], {
        OVERCAST_DATABASE_URL: databaseUrl,
      });
      adminEnv = await sourceOpenrc(join(workDir, 'data', 'admin-openrc'));
      // A real qcow2 header (version 3, 1 GiB virtual size) followed by random bytes: enough for
      // the server to read the virtual size, and data whose hashes mean something.
      const header = Buffer.alloc(512);
      header.write('QFI\xfb', 0, 'latin1');
      header.writeUInt32BE(3, 4);
      header.writeBigUInt64BE(1n << 30n, 24);
      imageBytes = Buffer.concat([header, randomBytes(3 * 1024 * 1024)]);
      imageFile = join(workDir, 'golden.qcow2');
      await writeFile(imageFile, imageBytes);
    });

    afterAll(async () => {
      await up?.stop();
      await rm(workDir, { recursive: true, force: true });
    });

    it('creates the golden image from a file and lists it active', async () => {
      const created = await json([
        'image',
        'create',
        '--disk-format',
        'qcow2',
        '--container-format',
        'bare',
        '--public',
        '--min-ram',
        '64',
        '--file',
        imageFile,
        'golden',
      ]);
      expect(created).toMatchObject({
        name: 'golden',
        disk_format: 'qcow2',
        visibility: 'public',
        min_ram: 64,
      });
      goldenId = created.id;
      const listed = await json(['image', 'list']);
      expect(listed).toContainEqual(expect.objectContaining({ Name: 'golden', Status: 'active' }));
    });

    it('shows the checksum, sha512 and sizes of the uploaded data', async () => {
      const shown = await json(['image', 'show', 'golden']);
      expect(shown).toMatchObject({
        status: 'active',
        size: imageBytes.length,
        virtual_size: 1 << 30,
        checksum: createHash('md5').update(imageBytes).digest('hex'),
      });
      // The CLI shows attributes it does not know among the properties.
      expect(shown.properties).toMatchObject({
        os_hash_algo: 'sha512',
        os_hash_value: createHash('sha512').update(imageBytes).digest('hex'),
      });
      expect(await readdir(storeDir())).toEqual([goldenId]);
    });

    it('sets a property without touching the data, which saves back byte for byte', async () => {
      expect((await openstack(['image', 'set', '--property', 'cpu_arch=x86_64', 'golden'])).code).toBe(0);
      const shown = await json(['image', 'show', 'golden']);
      expect(shown.properties).toMatchObject({ cpu_arch: 'x86_64' });
      expect(shown.checksum).toBe(createHash('md5').update(imageBytes).digest('hex'));
      const saved = join(workDir, 'saved.qcow2');
      const save = await openstack(['image', 'save', '--file', saved, 'golden']);
      expect(save.code, save.stderr).toBe(0);
      expect((await readFile(saved)).equals(imageBytes)).toBe(true);
    });

    it("lets a member see the public image but not another project's private one", async () => {
      const nebula = await memberOf(`nebula-${dialect}`);
      const other = await memberOf(`other-${dialect}`);
      const privateImage = await json(
        ['image', 'create', '--private', '--disk-format', 'raw', 'secret'],
        other,
      );
      const seen = (await json(['image', 'list'], nebula)).map((image: { Name: string }) => image.Name);
      expect(seen).toContain('golden');
      expect(seen).not.toContain('secret');
      const show = await openstack(['image', 'show', privateImage.id], nebula);
      expect(show.code).not.toBe(0);
      expect(show.stderr).toMatch(/No Image found|404/i);
      expect((await json(['image', 'list'], other)).map((image: { Name: string }) => image.Name)).toContain(
        'secret',
      );
    });

    it('refuses to make an image public for a non-admin', async () => {
      const member = await memberOf(`publisher-${dialect}`);
      const refused = await openstack(
        ['image', 'create', '--public', '--disk-format', 'raw', 'not-allowed'],
        member,
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/403|Forbidden|not authorized/i);
    });

    it('deletes the golden image and frees its data in the store', async () => {
      expect((await openstack(['image', 'delete', 'golden'])).code).toBe(0);
      expect((await json(['image', 'list'])).map((image: { Name: string }) => image.Name)).not.toContain(
        'golden',
      );
      expect(await readdir(storeDir())).not.toContain(goldenId);
    });
  },
);
