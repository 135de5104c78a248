// The Image kind: an image uploaded from an http(s) URL and checked against an expected hash,
// or an existing image imported.
import { Type } from '@sinclair/typebox';
import type { OpenStackKind } from './convention.js';
import { Name, ObjectWithImmutable, Ref, Str, StringEnum, StringMap, Tags, withRules } from './primitives.js';

const DISK_FORMATS = [
  'raw',
  'qcow2',
  'vmdk',
  'vdi',
  'vhd',
  'vhdx',
  'iso',
  'ploop',
  'aki',
  'ari',
  'ami',
] as const;
const CONTAINER_FORMATS = ['bare', 'ovf', 'ova', 'docker', 'compressed', 'aki', 'ari', 'ami'] as const;
const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
const HASH_ALGORITHMS = ['md5', 'sha256', 'sha512'] as const;

const Hash = Type.Object({
  algorithm: StringEnum(HASH_ALGORITHMS),
  value: Str(128, { pattern: '^[0-9a-fA-F]+$', description: 'Hex digest.' }),
});

const ExpectedHash = withRules(
  { ...Hash, description: 'Hash the downloaded data must have; the upload is refused otherwise.' },
  {
    rule: "size(self.value) == {'md5': 32, 'sha256': 64, 'sha512': 128}[self.algorithm]",
    message: 'value must be a whole hex digest of algorithm',
  },
);

const Content = Type.Object(
  {
    url: Str(2048, {
      pattern: '^https?://',
      description: 'http(s) URL the operator downloads the data from.',
    }),
    expectedHash: Type.Optional(ExpectedHash),
    diskFormat: StringEnum(DISK_FORMATS),
    containerFormat: Type.Optional(StringEnum(CONTAINER_FORMATS, { default: 'bare' })),
  },
  { description: 'The image data; it cannot change once uploaded.' },
);

export const Image = {
  kind: 'Image',
  plural: 'images',
  shortNames: ['osimage'],
  resource: ObjectWithImmutable(
    {
      name: Type.Optional(Name('OpenStack name; defaults to the object name.')),
      projectRef: Type.Optional(
        Ref('Project object that owns the image; defaults to the project of the credentials.'),
      ),
      content: Type.Optional(Content),
      visibility: Type.Optional(StringEnum(VISIBILITIES)),
      protected: Type.Optional(Type.Boolean({ default: false, description: 'Refuse deletion.' })),
      minRamMegabytes: Type.Optional(Type.Integer({ minimum: 0, description: 'RAM a server needs.' })),
      minDiskGigabytes: Type.Optional(Type.Integer({ minimum: 0, description: 'Disk a server needs.' })),
      properties: Type.Optional(StringMap('Image properties, such as hw_disk_bus or os_distro.')),
      tags: Type.Optional(Tags()),
    },
    ['projectRef', 'content'],
  ),
  filter: Type.Object({
    name: Type.Optional(Name()),
    visibility: Type.Optional(StringEnum(VISIBILITIES)),
    tags: Type.Optional(Tags()),
  }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    projectId: Type.Optional(Str(64)),
    status: Type.Optional(Str(32)),
    visibility: Type.Optional(Str(32)),
    protected: Type.Optional(Type.Boolean()),
    diskFormat: Type.Optional(Str(32)),
    containerFormat: Type.Optional(Str(32)),
    sizeBytes: Type.Optional(Type.Integer({ format: 'int64' })),
    virtualSizeBytes: Type.Optional(Type.Integer({ format: 'int64' })),
    hash: Type.Optional(Hash),
    minRamMegabytes: Type.Optional(Type.Integer()),
    minDiskGigabytes: Type.Optional(Type.Integer()),
    properties: Type.Optional(StringMap('Image properties.')),
    tags: Type.Optional(Tags()),
  }),
  columns: [{ name: 'Status', type: 'string', jsonPath: '.status.resource.status' }],
} satisfies OpenStackKind;
