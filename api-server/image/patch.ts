// Glance's JSON patch (application/openstack-images-v2.1-json-patch): a list of add, replace
// and remove operations on an image's attributes, applied all or nothing. Paths name one
// top-level attribute (/name, /tags, /hw_cpu_policy), with JSON pointer escapes (~1 is /, ~0 is ~).
//
// Glance's rules, as applied here:
//   - core attributes: add and replace both set the value; remove is refused (403);
//   - custom properties: add creates or overwrites; replace needs the property to exist and
//     remove too (409 otherwise);
//   - read-only and reserved attributes: 403; disk and container formats change only while the
//     image has no data (status queued);
//   - any other op (move, copy, test) or a malformed document: 400.
//
// Each operation may be written as RFC 6902 has it, {"op": "replace", "path": "/name", "value": x},
// or in the older form Glance also takes (and tempest sends), {"replace": "/name", "value": x}.
import { BadRequest, Conflict, Forbidden } from '../common/errors.js';
import {
  applyCoreAttribute,
  CORE_ATTRIBUTES,
  checkPropertyCount,
  checkWritable,
  validPropertyValue,
} from './attributes.js';
import type { ImageCoreChanges, ImageRecord } from './store.js';

const OPERATIONS = new Set(['add', 'replace', 'remove']);
/** Only while queued: the data, once there, was checked against them. */
const FORMAT_ATTRIBUTES = new Set(['disk_format', 'container_format']);

function attributeOf(path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.length < 2) {
    throw new BadRequest(
      `Unable to find '${String(path)}' in JSON Schema change: paths name one attribute, like /name`,
    );
  }
  const segments = path.slice(1).split('/');
  if (segments.length !== 1) throw new BadRequest(`Nested paths are not allowed: ${path}`);
  return segments[0]!.replaceAll('~1', '/').replaceAll('~0', '~');
}

export function applyImagePatch(image: ImageRecord, document: unknown): ImageRecord {
  if (!Array.isArray(document)) {
    throw new BadRequest('Request body must be a JSON array of operation objects.');
  }
  const result: ImageRecord = { ...image, tags: [...image.tags], properties: { ...image.properties } };
  for (const change of document) {
    if (typeof change !== 'object' || change === null || Array.isArray(change)) {
      throw new BadRequest('Operations must be JSON objects.');
    }
    const { op, path, value } = normalized(change as Record<string, unknown>);
    if (typeof op !== 'string' || !OPERATIONS.has(op)) {
      throw new BadRequest(
        `Operation objects must contain exactly one of "add", "remove", "replace" (got ${JSON.stringify(op)}).`,
      );
    }
    const name = attributeOf(path);
    checkWritable(name);
    if (name === 'id') throw new Forbidden("Attribute 'id' is read-only.");
    if (op !== 'remove' && value === undefined) {
      throw new BadRequest(`Operation "${op}" requires a member named "value".`);
    }
    if (CORE_ATTRIBUTES.has(name)) {
      if (op === 'remove') throw new Forbidden(`Cannot remove core attribute '${name}'.`);
      if (FORMAT_ATTRIBUTES.has(name) && image.status !== 'queued') {
        throw new Forbidden(`Attribute ${name} can be only replaced for a queued image.`);
      }
      const changes: ImageCoreChanges & { tags?: string[] } = {};
      applyCoreAttribute(changes, name, value);
      Object.assign(result, withoutTags(changes));
      if (changes.tags) result.tags = changes.tags;
      continue;
    }
    const exists = Object.hasOwn(result.properties, name);
    if ((op === 'replace' || op === 'remove') && !exists) {
      throw new Conflict(`Property ${name} does not exist.`);
    }
    if (op === 'remove') delete result.properties[name];
    else result.properties[name] = validPropertyValue(name, value);
  }
  checkPropertyCount(result.properties);
  return result;
}

/** An operation in RFC 6902's form, whichever of the two forms it came in. */
function normalized(change: Record<string, unknown>): { op?: unknown; path?: unknown; value?: unknown } {
  if ('op' in change) return change;
  const named = [...OPERATIONS].filter((name) => name in change);
  if (named.length !== 1) return {};
  const op = named[0]!;
  return { op, path: change[op], ...('value' in change ? { value: change.value } : {}) };
}

function withoutTags(changes: ImageCoreChanges & { tags?: string[] }): ImageCoreChanges {
  const { tags: _tags, ...core } = changes;
  return core;
}
