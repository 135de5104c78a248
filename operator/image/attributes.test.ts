import { describe, expect, it } from 'vitest';
import {
  createBody,
  customProperties,
  type GlanceImage,
  imagePatch,
  MANAGED_PROPERTIES_KEY,
  managedPropertyKeys,
  mutableAttributes,
} from './attributes.js';

const image = (fields: Partial<GlanceImage> = {}): GlanceImage => ({
  id: 'f3c1',
  name: 'cirros',
  status: 'active',
  visibility: 'shared',
  protected: false,
  min_ram: 0,
  min_disk: 0,
  tags: [],
  os_hash_algo: 'sha512',
  os_hash_value: 'ab'.repeat(64),
  checksum: 'cd'.repeat(16),
  ...fields,
});

describe('mutableAttributes', () => {
  it('names the image after the object unless the spec names it, and leaves out what the spec does not say', () => {
    expect(mutableAttributes({}, 'cirros')).toEqual({ name: 'cirros', properties: {} });
    expect(
      mutableAttributes(
        { name: 'CirrOS 0.6', minRamMegabytes: 64, protected: true, tags: ['a'], properties: { k: 'v' } },
        'cirros',
      ),
    ).toEqual({ name: 'CirrOS 0.6', min_ram: 64, protected: true, tags: ['a'], properties: { k: 'v' } });
  });
});

describe('createBody', () => {
  it('puts properties at the top level with their record, the formats and the owner', () => {
    const body = createBody(
      { name: 'cirros', visibility: 'private', properties: { os_distro: 'cirros', hw_disk_bus: 'scsi' } },
      { url: 'http://x/c.img', diskFormat: 'qcow2' },
      'p1',
    );
    expect(body).toEqual({
      name: 'cirros',
      visibility: 'private',
      os_distro: 'cirros',
      hw_disk_bus: 'scsi',
      [MANAGED_PROPERTIES_KEY]: '["hw_disk_bus","os_distro"]',
      disk_format: 'qcow2',
      container_format: 'bare',
      owner: 'p1',
    });
  });

  it('records nothing when no property is set', () => {
    expect(createBody({ name: 'x', properties: {} }, undefined, undefined)).toEqual({ name: 'x' });
  });
});

describe('customProperties and managedPropertyKeys', () => {
  it("leaves out Glance's own attributes (os_hash_*, os_glance_*, stores) and the record", () => {
    const found = image({
      hw_disk_bus: 'scsi',
      os_glance_importing_to_stores: '',
      stores: 'file',
      [MANAGED_PROPERTIES_KEY]: '["hw_disk_bus"]',
    });
    expect(customProperties(found)).toEqual({ hw_disk_bus: 'scsi' });
    expect(managedPropertyKeys(found)).toEqual(['hw_disk_bus']);
  });

  it('takes an unreadable record as nothing set', () => {
    expect(managedPropertyKeys(image({ [MANAGED_PROPERTIES_KEY]: 'not json' }))).toEqual([]);
    expect(managedPropertyKeys(image({ [MANAGED_PROPERTIES_KEY]: '{"a":1}' }))).toEqual([]);
    expect(managedPropertyKeys(image())).toEqual([]);
  });
});

describe('imagePatch', () => {
  it('is empty when the image is as desired (tags in any order)', () => {
    const found = image({ tags: ['b', 'a'], os_distro: 'cirros', [MANAGED_PROPERTIES_KEY]: '["os_distro"]' });
    expect(
      imagePatch(found, {
        name: 'cirros',
        visibility: 'shared',
        protected: false,
        tags: ['a', 'b'],
        properties: { os_distro: 'cirros' },
      }),
    ).toEqual([]);
  });

  it('replaces the core attributes that differ and adds or overwrites properties with their record', () => {
    const found = image({ os_distro: 'ubuntu', [MANAGED_PROPERTIES_KEY]: '["os_distro"]' });
    expect(
      imagePatch(found, {
        name: 'renamed',
        min_ram: 128,
        tags: ['x'],
        properties: { os_distro: 'cirros', 'a/b~c': '1' },
      }),
    ).toEqual([
      { op: 'replace', path: '/name', value: 'renamed' },
      { op: 'replace', path: '/min_ram', value: 128 },
      { op: 'replace', path: '/tags', value: ['x'] },
      { op: 'add', path: '/os_distro', value: 'cirros' },
      { op: 'add', path: '/a~1b~0c', value: '1' },
      { op: 'add', path: `/${MANAGED_PROPERTIES_KEY}`, value: '["a/b~c","os_distro"]' },
    ]);
  });

  it("removes only the properties the operator set and the spec dropped, never others' or Glance's", () => {
    const found = image({
      hw_disk_bus: 'scsi',
      os_distro: 'cirros',
      owner_specified_by_user: 'kept',
      // A tampered record naming Glance's own attribute and one already gone.
      [MANAGED_PROPERTIES_KEY]: '["hw_disk_bus","os_distro","os_hash_value","gone"]',
    });
    expect(imagePatch(found, { name: 'cirros', properties: { os_distro: 'cirros' } })).toEqual([
      { op: 'remove', path: '/hw_disk_bus' },
      { op: 'add', path: `/${MANAGED_PROPERTIES_KEY}`, value: '["os_distro"]' },
    ]);
    expect(imagePatch(found, { name: 'cirros', properties: {} })).toEqual([
      { op: 'remove', path: '/hw_disk_bus' },
      { op: 'remove', path: '/os_distro' },
      { op: 'remove', path: `/${MANAGED_PROPERTIES_KEY}` },
    ]);
  });

  it('leaves tags alone when the spec does not list them', () => {
    expect(imagePatch(image({ tags: ['theirs'] }), { name: 'cirros', properties: {} })).toEqual([]);
  });
});
