// The image API in-process on SQLite: metadata life cycle, JSON patch, listing filters and
// pagination, visibility between projects, members, and the negative cases (bad formats,
// read-only attributes, malformed patches, protected images); no answer may be a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceCall, startTestCloud, type TestCloud } from '../common/test-cloud.suite.js';

let cloud: TestCloud;
let image: ServiceCall;
let admin: string;

beforeAll(async () => {
  cloud = await startTestCloud();
  image = cloud.service('/image');
  admin = await cloud.adminToken();
});

afterAll(() => cloud.close());

const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

describe('image metadata', () => {
  it('creates, shows, patches and deletes an image as Glance does', async () => {
    const created = await image(admin, 'POST', '/v2/images', {
      name: 'cirros',
      disk_format: 'qcow2',
      container_format: 'bare',
      min_ram: 64,
      tags: ['base'],
      hw_cpu_policy: 'dedicated',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'cirros',
      status: 'queued',
      visibility: 'shared',
      protected: false,
      min_ram: 64,
      min_disk: 0,
      size: null,
      tags: ['base'],
      hw_cpu_policy: 'dedicated',
      self: `/v2/images/${created.body.id}`,
      file: `/v2/images/${created.body.id}/file`,
      schema: '/v2/schemas/image',
    });
    const id = created.body.id as string;
    expect((await image(admin, 'GET', `/v2/images/${id}`)).body.name).toBe('cirros');

    const patched = await image(
      admin,
      'PATCH',
      `/v2/images/${id}`,
      [
        { op: 'replace', path: '/name', value: 'cirros-0.6' },
        { op: 'add', path: '/cpu_arch', value: 'x86_64' },
        { op: 'remove', path: '/hw_cpu_policy' },
        { op: 'add', path: '/tags', value: ['base', 'small'] },
        // The older form Glance also takes, and tempest sends.
        { replace: '/min_disk', value: 1 },
      ],
      PATCH_TYPE,
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'cirros-0.6',
      cpu_arch: 'x86_64',
      tags: ['base', 'small'],
      min_disk: 1,
    });
    expect(patched.body).not.toHaveProperty('hw_cpu_policy');

    expect((await image(admin, 'PUT', `/v2/images/${id}/tags/extra`)).status).toBe(204);
    expect((await image(admin, 'GET', `/v2/images/${id}`)).body.tags).toEqual(['base', 'extra', 'small']);
    expect((await image(admin, 'DELETE', `/v2/images/${id}/tags/missing`)).status).toBe(404);

    expect((await image(admin, 'DELETE', `/v2/images/${id}`)).status).toBe(204);
    expect((await image(admin, 'GET', `/v2/images/${id}`)).status).toBe(404);
  });

  it('refuses bad formats, read-only attributes and malformed patches with 4xx', async () => {
    expect((await image(admin, 'POST', '/v2/images', { disk_format: 'floppy' })).status).toBe(400);
    expect((await image(admin, 'POST', '/v2/images', { status: 'active' })).status).toBe(403);
    expect((await image(admin, 'POST', '/v2/images', { min_ram: -1 })).status).toBe(400);
    expect((await image(admin, 'POST', '/v2/images', { custom: 5 })).status).toBe(400);
    const id = (await image(admin, 'POST', '/v2/images', { name: 'patchy' })).body.id as string;
    const patch = (document: unknown, type = PATCH_TYPE) =>
      image(admin, 'PATCH', `/v2/images/${id}`, document, type);
    expect((await patch([{ op: 'replace', path: '/status', value: 'active' }])).status).toBe(403);
    expect((await patch([{ op: 'replace', path: '/checksum', value: 'x' }])).status).toBe(403);
    expect((await patch([{ op: 'replace', path: '/id', value: 'x' }])).status).toBe(403);
    expect((await patch([{ op: 'move', path: '/name', from: '/x' }])).status).toBe(400);
    expect((await patch({ op: 'replace', path: '/name', value: 'x' })).status).toBe(400);
    expect((await patch([{ op: 'replace', path: 'name', value: 'x' }])).status).toBe(400);
    expect((await patch([{ op: 'replace', path: '/not_there', value: 'x' }])).status).toBe(409);
    expect((await patch([{ op: 'remove', path: '/name' }])).status).toBe(403);
    expect((await patch([{ op: 'replace', path: '/name', value: 'x' }], 'application/json')).status).toBe(
      415,
    );
    // All or nothing: a refused operation leaves the earlier ones unapplied.
    expect(
      (
        await patch([
          { op: 'replace', path: '/name', value: 'half' },
          { op: 'replace', path: '/size', value: 1 },
        ])
      ).status,
    ).toBe(403);
    expect((await image(admin, 'GET', `/v2/images/${id}`)).body.name).toBe('patchy');
  });

  it('refuses to delete a protected image until it is unprotected', async () => {
    const id = (await image(admin, 'POST', '/v2/images', { name: 'keep', protected: true })).body
      .id as string;
    expect((await image(admin, 'DELETE', `/v2/images/${id}`)).status).toBe(403);
    await image(
      admin,
      'PATCH',
      `/v2/images/${id}`,
      [{ op: 'replace', path: '/protected', value: false }],
      PATCH_TYPE,
    );
    expect((await image(admin, 'DELETE', `/v2/images/${id}`)).status).toBe(204);
  });

  it('lists with filters, sorting and marker pagination', async () => {
    const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    for (const name of names) {
      await image(admin, 'POST', '/v2/images', { name, disk_format: 'raw', tags: ['paging'], batch: 'p' });
    }
    const all: string[] = [];
    let next: string | undefined = '/v2/images?tag=paging&sort=name:asc&limit=2';
    while (next) {
      const page = await image(admin, 'GET', next);
      expect(page.status).toBe(200);
      all.push(...page.body.images.map((entry: { name: string }) => entry.name));
      next = page.body.next;
    }
    expect(all).toEqual(names);
    const descending = await image(admin, 'GET', '/v2/images?batch=p&sort_key=name&sort_dir=desc');
    expect(descending.body.images.map((entry: { name: string }) => entry.name)).toEqual([...names].reverse());
    const byName = await image(admin, 'GET', '/v2/images?name=page-c');
    expect(byName.body.images).toHaveLength(1);
    expect((await image(admin, 'GET', '/v2/images?sort_key=bogus')).status).toBe(400);
    expect((await image(admin, 'GET', '/v2/images?marker=not-an-image')).status).toBe(400);
    expect(
      (await image(admin, 'GET', '/v2/images?created_at=gt:2000-01-01T00:00:00Z&batch=p')).body.images,
    ).toHaveLength(5);
    expect(
      (await image(admin, 'GET', '/v2/images?created_at=gt:2999-01-01T00:00:00Z&batch=p')).body.images,
    ).toHaveLength(0);
  });
});

describe('visibility and sharing', () => {
  it('shows private images to their owner only, public ones to all, and shared ones to accepted members', async () => {
    const alice = await cloud.memberProject(admin, 'alice');
    const bob = await cloud.memberProject(admin, 'bob');
    const privateId = (
      await image(alice.token, 'POST', '/v2/images', { name: 'alice-private', visibility: 'private' })
    ).body.id;
    const sharedId = (await image(alice.token, 'POST', '/v2/images', { name: 'alice-shared' })).body.id;
    const publicId = (await image(admin, 'POST', '/v2/images', { name: 'everyone', visibility: 'public' }))
      .body.id;
    const communityId = (
      await image(alice.token, 'POST', '/v2/images', { name: 'alice-community', visibility: 'community' })
    ).body.id;

    const bobSees = async (query = '') =>
      (await image(bob.token, 'GET', `/v2/images${query}`)).body.images.map(
        (entry: { id: string }) => entry.id,
      );
    expect(await bobSees()).toContain(publicId);
    expect(await bobSees()).not.toContain(privateId);
    expect(await bobSees()).not.toContain(sharedId);
    expect(await bobSees()).not.toContain(communityId);
    expect(await bobSees('?visibility=community')).toContain(communityId);
    expect((await image(bob.token, 'GET', `/v2/images/${privateId}`)).status).toBe(404);
    expect((await image(bob.token, 'GET', `/v2/images/${communityId}`)).status).toBe(200);

    // Sharing: members only for shared images; pending members can show but not list it.
    expect(
      (await image(alice.token, 'POST', `/v2/images/${privateId}/members`, { member: bob.projectId })).status,
    ).toBe(403);
    const added = await image(alice.token, 'POST', `/v2/images/${sharedId}/members`, {
      member: bob.projectId,
    });
    expect(added.body).toMatchObject({ member_id: bob.projectId, status: 'pending', image_id: sharedId });
    expect(
      (await image(alice.token, 'POST', `/v2/images/${sharedId}/members`, { member: bob.projectId })).status,
    ).toBe(409);
    expect((await image(bob.token, 'GET', `/v2/images/${sharedId}`)).status).toBe(200);
    expect(await bobSees()).not.toContain(sharedId);
    expect(await bobSees('?member_status=pending')).toContain(sharedId);
    // The owner cannot accept for the member; the member can.
    expect(
      (
        await image(alice.token, 'PUT', `/v2/images/${sharedId}/members/${bob.projectId}`, {
          status: 'accepted',
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await image(bob.token, 'PUT', `/v2/images/${sharedId}/members/${bob.projectId}`, {
          status: 'accepted',
        })
      ).body.status,
    ).toBe('accepted');
    expect(await bobSees()).toContain(sharedId);
    expect((await image(bob.token, 'GET', `/v2/images/${sharedId}/members`)).body.members).toHaveLength(1);

    // A member may not change or delete someone else's image, or make it public.
    expect(
      (
        await image(
          bob.token,
          'PATCH',
          `/v2/images/${sharedId}`,
          [{ op: 'replace', path: '/name', value: 'x' }],
          PATCH_TYPE,
        )
      ).status,
    ).toBe(403);
    expect((await image(bob.token, 'DELETE', `/v2/images/${sharedId}`)).status).toBe(403);
    expect(
      (await image(alice.token, 'POST', '/v2/images', { name: 'nope', visibility: 'public' })).status,
    ).toBe(403);

    expect(
      (await image(alice.token, 'DELETE', `/v2/images/${sharedId}/members/${bob.projectId}`)).status,
    ).toBe(204);
    expect((await image(bob.token, 'GET', `/v2/images/${sharedId}`)).status).toBe(404);
  });

  it('deactivates only active images, and only for their owner or an admin', async () => {
    const carol = await cloud.memberProject(admin, 'carol');
    const dave = await cloud.memberProject(admin, 'dave');
    const id = (
      await image(carol.token, 'POST', '/v2/images', { name: 'carol-image', visibility: 'community' })
    ).body.id;
    expect((await image(dave.token, 'POST', `/v2/images/${id}/actions/deactivate`)).status).toBe(403);
    // Only an active image (one with data) can be deactivated.
    expect((await image(carol.token, 'POST', `/v2/images/${id}/actions/deactivate`)).status).toBe(403);
  });

  it('serves the schemas clients read', async () => {
    const schema = await image(admin, 'GET', '/v2/schemas/image');
    expect(schema.body.name).toBe('image');
    expect(schema.body.properties.disk_format.enum).toContain('qcow2');
    expect((await image(admin, 'GET', '/v2/schemas/images')).body.properties.images.items.name).toBe('image');
    expect((await image(admin, 'GET', '/v2/schemas/members')).status).toBe(200);
  });
});
