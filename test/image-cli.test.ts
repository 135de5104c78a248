// The seeds' golden-image walk-through, driven by the real `openstack` CLI (Debian's
// python-openstackclient, which speaks Glance through openstacksdk) against `overcast up`, on
// SQLite and on MariaDB: create with data, list, show with hashes, set a property without
// touching the data, save it back byte for byte, delete and free the store; then what a member
// of another project sees, and what a non-admin may not do.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from './harness/databases.js';
import { qcow2Image } from './harness/images.js';
import { type CliCloud, startCliCloud } from './harness/openstack-cli.js';

describe.each(['sqlite', 'mysql'] as const)(
  'image walk-through with the openstack CLI on %s',
  (dialect: Dialect) => {
    let cli: CliCloud;
    let imageFile: string;
    let imageBytes: Buffer;
    let goldenId: string;
    const storeDir = () => join(cli.workDir, 'data', 'images');

    beforeAll(async () => {
      cli = await startCliCloud(dialect, 'image');
      imageBytes = qcow2Image(1n << 30n, 3 * 1024 * 1024);
      imageFile = join(cli.workDir, 'golden.qcow2');
      await writeFile(imageFile, imageBytes);
    });

    afterAll(() => cli?.stop());

    it('creates the golden image from a file and lists it active', async () => {
      const created = await cli.json([
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
      const listed = await cli.json(['image', 'list']);
      expect(listed).toContainEqual(expect.objectContaining({ Name: 'golden', Status: 'active' }));
    });

    it('shows the checksum, sha512 and sizes of the uploaded data', async () => {
      const shown = await cli.json(['image', 'show', 'golden']);
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
      expect((await cli.openstack(['image', 'set', '--property', 'cpu_arch=x86_64', 'golden'])).code).toBe(0);
      const shown = await cli.json(['image', 'show', 'golden']);
      expect(shown.properties).toMatchObject({ cpu_arch: 'x86_64' });
      expect(shown.checksum).toBe(createHash('md5').update(imageBytes).digest('hex'));
      const saved = join(cli.workDir, 'saved.qcow2');
      const save = await cli.openstack(['image', 'save', '--file', saved, 'golden']);
      expect(save.code, save.stderr).toBe(0);
      expect((await readFile(saved)).equals(imageBytes)).toBe(true);
    });

    it("lets a member see the public image but not another project's private one", async () => {
      const nebula = await cli.member(`nebula-${dialect}`);
      const other = await cli.member(`other-${dialect}`);
      const privateImage = await cli.json(
        ['image', 'create', '--private', '--disk-format', 'raw', 'secret'],
        other,
      );
      const seen = (await cli.json(['image', 'list'], nebula)).map((image: { Name: string }) => image.Name);
      expect(seen).toContain('golden');
      expect(seen).not.toContain('secret');
      const show = await cli.openstack(['image', 'show', privateImage.id], nebula);
      expect(show.code).not.toBe(0);
      expect(show.stderr).toMatch(/No Image found|404/i);
      expect(
        (await cli.json(['image', 'list'], other)).map((image: { Name: string }) => image.Name),
      ).toContain('secret');
    });

    it('refuses to make an image public for a non-admin', async () => {
      const member = await cli.member(`publisher-${dialect}`);
      const refused = await cli.openstack(
        ['image', 'create', '--public', '--disk-format', 'raw', 'not-allowed'],
        member,
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/403|Forbidden|not authorized/i);
    });

    it('deletes the golden image and frees its data in the store', async () => {
      expect((await cli.openstack(['image', 'delete', 'golden'])).code).toBe(0);
      expect((await cli.json(['image', 'list'])).map((image: { Name: string }) => image.Name)).not.toContain(
        'golden',
      );
      expect(await readdir(storeDir())).not.toContain(goldenId);
    });
  },
);
