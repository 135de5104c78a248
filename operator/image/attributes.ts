// What the Image actuator wants of a Glance image, in Glance's words, and the JSON patch that
// gets it there. Pure: the actuator reads the image and sends the patch.
//
// Glance puts custom properties next to its own attributes at the top level of an image, so
// which keys are "properties" is everything but Glance's own names. And the operator must only
// remove the properties it set itself (a user, Nova or openstacksdk adds their own): it records
// their keys on the image, in the property MANAGED_PROPERTIES_KEY, in the same create or patch
// that sets them. The record lives with the image, so it survives an operator restart, a
// leader handover and a spec edited while no operator ran, which the spec diff of one process
// (context.diff) would not.
import type { KindSpec } from '../crds/convention.js';
import type { Image } from '../crds/image.js';

/** An image as Glance v2 shows it: core attributes and custom properties side by side. */
export interface GlanceImage {
  id: string;
  name: string | null;
  status: string;
  visibility?: string;
  protected?: boolean;
  owner?: string | null;
  disk_format?: string | null;
  container_format?: string | null;
  size?: number | null;
  virtual_size?: number | null;
  checksum?: string | null;
  os_hash_algo?: string | null;
  os_hash_value?: string | null;
  min_ram?: number;
  min_disk?: number;
  tags?: string[];
  [property: string]: unknown;
}

export type ImageResource = NonNullable<KindSpec<typeof Image>['resource']>;

/** The property in which the operator lists (as a JSON array) the property keys it set. */
export const MANAGED_PROPERTIES_KEY = 'overcast_operator_properties';

/**
 * Glance's own names: its core and server-set attributes, and those its stores and the image
 * import flow add. Never a property the operator reports, sets or removes.
 */
const GLANCE_ATTRIBUTES = new Set([
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'owner',
  'disk_format',
  'container_format',
  'size',
  'virtual_size',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'min_ram',
  'min_disk',
  'tags',
  'created_at',
  'updated_at',
  'self',
  'file',
  'schema',
  'direct_url',
  'locations',
  'location',
  'stores',
  'deleted',
  'deleted_at',
]);

export function isGlanceAttribute(key: string): boolean {
  return GLANCE_ATTRIBUTES.has(key) || key.startsWith('os_glance');
}

/** The image's custom properties (string-valued, Glance's own names and the record left out). */
export function customProperties(image: GlanceImage): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(image)) {
    if (isGlanceAttribute(key) || key === MANAGED_PROPERTIES_KEY || typeof value !== 'string') continue;
    properties[key] = value;
  }
  return properties;
}

/** The property keys the operator set on `image`, from its record (none when unreadable). */
export function managedPropertyKeys(image: GlanceImage): string[] {
  const recorded = image[MANAGED_PROPERTIES_KEY];
  if (typeof recorded !== 'string') return [];
  try {
    const keys: unknown = JSON.parse(recorded);
    return Array.isArray(keys) ? keys.filter((key): key is string => typeof key === 'string') : [];
  } catch {
    return [];
  }
}

/** The record's value for `properties`: their keys, sorted, so equal sets compare equal. */
export function managedPropertiesRecord(properties: Record<string, string>): string {
  return JSON.stringify(Object.keys(properties).sort());
}

/** The attributes Glance can change on an image, from spec.resource (undefined: left alone). */
export interface MutableAttributes {
  name: string;
  visibility?: string;
  protected?: boolean;
  min_ram?: number;
  min_disk?: number;
  tags?: string[];
  /** All the properties the operator sets; those it set before and are not here go. */
  properties: Record<string, string>;
}

export function mutableAttributes(resource: ImageResource, objectName: string): MutableAttributes {
  return JSON.parse(
    JSON.stringify({
      name: resource.name ?? objectName,
      visibility: resource.visibility,
      protected: resource.protected,
      min_ram: resource.minRamMegabytes,
      min_disk: resource.minDiskGigabytes,
      tags: resource.tags,
      properties: resource.properties ?? {},
    }),
  );
}

/** The body of POST /v2/images: the mutable attributes, the formats, and the properties' record. */
export function createBody(
  desired: MutableAttributes,
  content: ImageResource['content'],
  owner: string | undefined,
): Record<string, unknown> {
  const { properties, ...core } = desired;
  const body: Record<string, unknown> = { ...properties, ...core };
  if (Object.keys(properties).length > 0) body[MANAGED_PROPERTIES_KEY] = managedPropertiesRecord(properties);
  if (content) {
    body.disk_format = content.diskFormat;
    body.container_format = content.containerFormat ?? 'bare';
  }
  if (owner !== undefined) body.owner = owner;
  return body;
}

export type PatchOperation =
  | { op: 'replace' | 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** A JSON pointer to one top-level attribute (RFC 6901 escapes). */
const pointer = (key: string) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

const sameTags = (a: readonly string[] = [], b: readonly string[] = []) =>
  a.length === b.length && [...a].sort().every((tag, index) => tag === [...b].sort()[index]);

/**
 * The Glance JSON patch (application/openstack-images-v2.1-json-patch) that makes `image` have
 * `desired`: only what differs; empty when nothing does. Properties are added or overwritten
 * with `add` (Glance's `replace` needs the property to exist); those the operator had set and
 * the spec no longer lists are removed, and the record follows.
 */
export function imagePatch(image: GlanceImage, desired: MutableAttributes): PatchOperation[] {
  const operations: PatchOperation[] = [];
  const { properties, tags, ...core } = desired;
  for (const [key, value] of Object.entries(core)) {
    if (image[key] !== value) operations.push({ op: 'replace', path: pointer(key), value });
  }
  if (tags !== undefined && !sameTags(image.tags, tags))
    operations.push({ op: 'replace', path: '/tags', value: tags });
  for (const [key, value] of Object.entries(properties)) {
    if (image[key] !== value) operations.push({ op: 'add', path: pointer(key), value });
  }
  for (const key of managedPropertyKeys(image)) {
    if (key in properties || isGlanceAttribute(key) || !(key in image)) continue;
    operations.push({ op: 'remove', path: pointer(key) });
  }
  const record = managedPropertiesRecord(properties);
  const recorded = image[MANAGED_PROPERTIES_KEY];
  if (Object.keys(properties).length === 0) {
    if (recorded !== undefined) operations.push({ op: 'remove', path: pointer(MANAGED_PROPERTIES_KEY) });
  } else if (recorded !== record) {
    operations.push({ op: 'add', path: pointer(MANAGED_PROPERTIES_KEY), value: record });
  }
  return operations;
}
