// What a client may write on an image, shared by create (POST) and update (JSON patch): the
// core attributes with their types and allowed values, the ones only the server sets, and the
// rules for custom properties. Errors are worded as Glance words them.
import { BadRequest, Forbidden, PayloadTooLarge } from '../common/errors.js';
import {
  CONTAINER_FORMATS,
  DISK_FORMATS,
  type ImageCoreChanges,
  type ImageRecord,
  VISIBILITIES,
  type Visibility,
} from './store.js';

/** Set by the server alone; writing them is refused with 403 as Glance does. */
export const READ_ONLY_ATTRIBUTES = new Set([
  'checksum',
  'created_at',
  'direct_url',
  'file',
  'os_hash_algo',
  'os_hash_value',
  'schema',
  'self',
  'size',
  'status',
  'updated_at',
  'virtual_size',
]);

/** Names Glance keeps for itself; neither core attributes nor usable as custom properties. */
export const RESERVED_ATTRIBUTES = new Set(['deleted', 'deleted_at', 'location', 'locations']);
const RESERVED_PREFIX = 'os_glance';

/** Glance's image_tag_quota and image_property_quota defaults. */
export const MAX_TAGS = 128;
export const MAX_PROPERTIES = 128;
const MAX_NAME_LENGTH = 255;

/** The writable core attributes; everything else a client sends is a custom property. */
export const CORE_ATTRIBUTES = new Set([
  'id',
  'name',
  'visibility',
  'protected',
  'os_hidden',
  'owner',
  'disk_format',
  'container_format',
  'min_ram',
  'min_disk',
  'tags',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

function invalid(name: string, value: unknown, expected: string): BadRequest {
  return new BadRequest(
    `Provided object does not match schema 'image': ${JSON.stringify(value)} is not ${expected} (${name})`,
  );
}

/** Refuses what no client may write, whatever the operation. */
export function checkWritable(name: string): void {
  if (READ_ONLY_ATTRIBUTES.has(name)) throw new Forbidden(`Attribute '${name}' is read-only.`);
  if (RESERVED_ATTRIBUTES.has(name) || name.startsWith(RESERVED_PREFIX)) {
    throw new Forbidden(`Attribute '${name}' is reserved.`);
  }
}

function oneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  nullable: boolean,
): T | null {
  if (value === null && nullable) return null;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(name, value, `one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function nonNegativeInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) {
    throw invalid(name, value, 'a non-negative integer');
  }
  return value;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(name, value, 'a boolean');
  return value;
}

export function validTags(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid('tags', value, 'an array of strings');
  for (const tag of value) {
    if (typeof tag !== 'string' || tag.length > MAX_NAME_LENGTH) {
      throw invalid('tags', tag, `a string of at most ${MAX_NAME_LENGTH} characters`);
    }
  }
  const tags = [...new Set(value as string[])];
  // Glance answers too many tags or properties with 413.
  if (tags.length > MAX_TAGS) throw new PayloadTooLarge(`Maximum tag limit exceeded (${MAX_TAGS}).`);
  return tags;
}

/**
 * Applies one core attribute's new value to `changes` (and `tags`), validating it. `id` is
 * only accepted at creation; the caller checks that.
 */
export function applyCoreAttribute(
  changes: ImageCoreChanges & { tags?: string[] },
  name: string,
  value: unknown,
): void {
  switch (name) {
    case 'name':
      if (value !== null && (typeof value !== 'string' || value.length > MAX_NAME_LENGTH)) {
        throw invalid(name, value, `a string of at most ${MAX_NAME_LENGTH} characters or null`);
      }
      changes.name = value as string | null;
      return;
    case 'visibility':
      changes.visibility = oneOf(name, value, VISIBILITIES, false) as Visibility;
      return;
    case 'protected':
      changes.protected = boolean(name, value);
      return;
    case 'os_hidden':
      changes.osHidden = boolean(name, value);
      return;
    case 'owner':
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
        throw invalid(name, value, 'a project id');
      }
      changes.owner = value;
      return;
    case 'disk_format':
      changes.diskFormat = oneOf(name, value, DISK_FORMATS, true);
      return;
    case 'container_format':
      changes.containerFormat = oneOf(name, value, CONTAINER_FORMATS, true);
      return;
    case 'min_ram':
      changes.minRam = nonNegativeInteger(name, value);
      return;
    case 'min_disk':
      changes.minDisk = nonNegativeInteger(name, value);
      return;
    case 'tags':
      changes.tags = validTags(value);
      return;
    default:
      throw new BadRequest(`Unknown core attribute ${name}`);
  }
}

/** A custom property's value: Glance stores and returns strings only. */
export function validPropertyValue(name: string, value: unknown): string {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new BadRequest(`Property names are 1 to ${MAX_NAME_LENGTH} characters: '${name}'`);
  }
  if (typeof value !== 'string') throw invalid(name, value, 'a string');
  return value;
}

export function checkPropertyCount(properties: Record<string, string>): void {
  if (Object.keys(properties).length > MAX_PROPERTIES) {
    throw new PayloadTooLarge(`Maximum number of image properties exceeded (${MAX_PROPERTIES}).`);
  }
}

/** The attributes of an image as a JSON patch sees them (its document). */
export function coreValue(image: ImageRecord, name: string): unknown {
  switch (name) {
    case 'name':
      return image.name;
    case 'visibility':
      return image.visibility;
    case 'protected':
      return image.protected;
    case 'os_hidden':
      return image.osHidden;
    case 'owner':
      return image.owner;
    case 'disk_format':
      return image.diskFormat;
    case 'container_format':
      return image.containerFormat;
    case 'min_ram':
      return image.minRam;
    case 'min_disk':
      return image.minDisk;
    case 'tags':
      return image.tags;
    default:
      return undefined;
  }
}
