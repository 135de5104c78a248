// /v2/schemas/*: the JSON schemas glanceclient reads to validate and display images, built from
// the same lists of formats, states and visibilities the API enforces.
import type { FastifyPluginAsync } from 'fastify';
import type { ImageService } from '../image-service.js';
import { CONTAINER_FORMATS, DISK_FORMATS, IMAGE_STATUSES, MEMBER_STATUSES, VISIBILITIES } from '../store.js';

const nullableString = (maxLength: number, description: string) => ({
  type: ['null', 'string'],
  maxLength,
  description,
});

const readOnly = (schema: Record<string, unknown>) => ({ ...schema, readOnly: true });

function imageSchema() {
  return {
    name: 'image',
    additionalProperties: { type: 'string' },
    properties: {
      id: {
        type: 'string',
        pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
        description: 'An identifier for the image',
      },
      name: nullableString(255, 'Descriptive name for the image'),
      status: readOnly({ type: 'string', enum: [...IMAGE_STATUSES], description: 'Status of the image' }),
      visibility: { type: 'string', enum: [...VISIBILITIES], description: 'Scope of image accessibility' },
      protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
      os_hidden: {
        type: 'boolean',
        description: 'If true, image will not appear in default image list response.',
      },
      checksum: readOnly({ ...nullableString(32, 'md5 hash of image contents.') }),
      os_hash_algo: readOnly({ ...nullableString(64, 'Algorithm used to calculate the os_hash_value') }),
      os_hash_value: readOnly({ ...nullableString(128, 'Hexdigest of the image contents') }),
      owner: nullableString(255, 'Owner of the image'),
      size: readOnly({ type: ['null', 'integer'], description: 'Size of image file in bytes' }),
      virtual_size: readOnly({ type: ['null', 'integer'], description: 'Virtual size of image in bytes' }),
      container_format: {
        type: ['null', 'string'],
        enum: [null, ...CONTAINER_FORMATS],
        description: 'Format of the container',
      },
      disk_format: {
        type: ['null', 'string'],
        enum: [null, ...DISK_FORMATS],
        description: 'Format of the disk',
      },
      created_at: readOnly({ type: 'string', description: 'Date and time of image registration' }),
      updated_at: readOnly({ type: 'string', description: 'Date and time of the last image modification' }),
      tags: {
        type: 'array',
        items: { type: 'string', maxLength: 255 },
        description: 'List of strings related to the image',
      },
      direct_url: readOnly({
        type: 'string',
        description: 'URL to access the image file kept in external store',
      }),
      min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
      min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
      self: readOnly({ type: 'string', description: 'An image self url' }),
      file: readOnly({ type: 'string', description: 'An image file url' }),
      schema: readOnly({ type: 'string', description: 'An image schema url' }),
      kernel_id: {
        type: ['null', 'string'],
        pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
        description:
          'ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.',
        is_base: false,
      },
      ramdisk_id: {
        type: ['null', 'string'],
        pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
        description:
          'ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.',
        is_base: false,
      },
    },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

function memberSchema() {
  return {
    name: 'member',
    properties: {
      created_at: { type: 'string', description: 'Date and time of image member creation' },
      image_id: { type: 'string', description: 'An identifier for the image' },
      member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
      schema: readOnly({ type: 'string' }),
      status: { type: 'string', enum: [...MEMBER_STATUSES], description: 'The status of this image member' },
      updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
    },
  };
}

export const schemaRoutes: FastifyPluginAsync<ImageService> = async (app) => {
  const image = imageSchema();
  const member = memberSchema();
  app.get('/v2/schemas/image', async () => image);
  app.get('/v2/schemas/images', async () => ({
    name: 'images',
    properties: {
      images: { type: 'array', items: image },
      schema: { type: 'string' },
      first: { type: 'string' },
      next: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  }));
  app.get('/v2/schemas/member', async () => member);
  app.get('/v2/schemas/members', async () => ({
    name: 'members',
    properties: { members: { type: 'array', items: member }, schema: { type: 'string' } },
    links: [{ rel: 'describedby', href: '{schema}' }],
  }));
};
