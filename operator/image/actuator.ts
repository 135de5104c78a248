// The Image kind's actuator: Glance v2 images through lib/openstack. The create makes the image
// record (queued, no data); update streams its data in from spec.resource.content (upload.ts)
// while it is queued, and keeps the mutable attributes as the spec says with a JSON patch
// (attributes.ts). The generic reconciler (operator/framework/reconciler.ts) calls it.
import { NotFound } from '../../lib/openstack/index.js';
import type { KindSpec } from '../crds/convention.js';
import { Image } from '../crds/image.js';
import { ifFound } from '../framework/actuator-helpers.js';
import { TerminalError } from '../framework/errors.js';
import type { Actuator, ActuatorContext, Dependency } from '../framework/reconciler.js';
import {
  createBody,
  customProperties,
  type GlanceImage,
  imagePatch,
  isGlanceAttribute,
  MANAGED_PROPERTIES_KEY,
  type MutableAttributes,
  mutableAttributes,
  type PatchOperation,
} from './attributes.js';
import { uploadContent } from './upload.js';

type ImageSpec = KindSpec<typeof Image>;

const JSON_PATCH = 'application/openstack-images-v2.1-json-patch';
const HASH_ALGORITHMS = new Set(['md5', 'sha256', 'sha512']);

const spec = (context: ActuatorContext) => context.object.spec as ImageSpec;
const glance = (context: ActuatorContext) => context.client.service('image');
const imagePath = (id: string) => `/images/${encodeURIComponent(id)}`;

/** The project the image is (or would be) owned by: the named one, else the credentials' own. */
async function ownerOf(context: ActuatorContext): Promise<string | undefined> {
  const projectRef = spec(context).resource?.projectRef;
  if (projectRef !== undefined) return context.dependencyIds.get(`Project/${projectRef}`);
  return context.client.projectId();
}

/** What the spec asks of the mutable attributes; a property named like Glance's own is refused. */
function desiredOf(context: ActuatorContext): MutableAttributes {
  const desired = mutableAttributes(spec(context).resource ?? {}, context.object.metadata.name);
  const clash = Object.keys(desired.properties).find(
    (key) => isGlanceAttribute(key) || key === MANAGED_PROPERTIES_KEY,
  );
  if (clash !== undefined)
    throw new TerminalError(`properties may not set ${clash}: Glance or the operator owns that name`);
  return desired;
}

async function patchImage(
  context: ActuatorContext,
  id: string,
  operations: PatchOperation[],
): Promise<GlanceImage> {
  return (
    await glance(context).patch<GlanceImage>(imagePath(id), undefined, {
      rawBody: JSON.stringify(operations),
      contentType: JSON_PATCH,
    })
  ).body;
}

/** Every image `query` lists, whoever owns it (community images are listed only when asked). */
async function listImages(context: ActuatorContext, query: Record<string, string | string[] | undefined>) {
  const found: GlanceImage[] = [];
  for await (const image of glance(context).list<GlanceImage>('/images', 'images', {
    query: { visibility: 'all', ...query },
  }))
    found.push(image);
  return found;
}

export const imageActuator: Actuator<GlanceImage> = {
  kind: Image,

  dependencies(object): Dependency[] {
    const projectRef = (object.spec as ImageSpec).resource?.projectRef;
    return projectRef ? [{ kind: 'Project', name: projectRef }] : [];
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    return (await ifFound(glance(context).get<GlanceImage>(imagePath(id))))?.body;
  },

  async listForAdoption(context) {
    const name = spec(context).resource?.name ?? context.object.metadata.name;
    const owner = await ownerOf(context);
    const candidates = await listImages(context, { name, owner });
    // Only what the create would have made: this name, this owner (never a namesake shared
    // with the project, or a public image of another one).
    return candidates.filter(
      (candidate) => candidate.name === name && (owner === undefined || candidate.owner === owner),
    );
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const candidates = await listImages(context, {
      name: filter.name,
      visibility: filter.visibility,
      tag: filter.tags,
    });
    // Filters a server ignored must not widen the match.
    return candidates.filter(
      (candidate) =>
        (filter.name === undefined || candidate.name === filter.name) &&
        (filter.visibility === undefined || candidate.visibility === filter.visibility) &&
        (filter.tags ?? []).every((tag) => candidate.tags?.includes(tag)),
    );
  },

  async create(context) {
    const resource = spec(context).resource ?? {};
    const owner =
      resource.projectRef === undefined
        ? undefined
        : context.dependencyIds.get(`Project/${resource.projectRef}`);
    const body = createBody(desiredOf(context), resource.content, owner);
    return (await glance(context).post<GlanceImage>('/images', body)).body;
  },

  async update(context, current) {
    const content = spec(context).resource?.content;
    let image = current;
    let changed = false;
    if (image.status === 'killed')
      throw new TerminalError(
        `Image ${image.id} is killed: Glance could not store its data; delete the object to start again`,
        'UnrecoverableError',
      );
    if (image.status === 'queued') {
      if (!content)
        throw new TerminalError(
          `Image ${image.id} has no data and spec.resource.content names none to upload`,
        );
      await uploadContent(glance(context), image.id, content);
      image = (await imageActuator.getById(context, image.id)) ?? image;
      changed = true;
    }
    const operations = imagePatch(image, desiredOf(context));
    if (operations.length > 0) {
      image = await patchImage(context, image.id, operations);
      changed = true;
    }
    return changed ? image : undefined;
  },

  async delete(context, current) {
    try {
      // Deleting the object with onDelete: delete is the owner asking for the image to go;
      // `protected` guards it from everyone else, so the operator lifts it first. (To keep a
      // protected image, delete the object with onDelete: detach.)
      if (current.protected)
        await patchImage(context, current.id, [{ op: 'replace', path: '/protected', value: false }]);
      await glance(context).delete(imagePath(current.id));
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
    }
  },

  observe(found) {
    const properties = customProperties(found);
    const resource = {
      name: found.name ?? undefined,
      projectId: found.owner ?? undefined,
      status: found.status,
      visibility: found.visibility,
      protected: found.protected,
      diskFormat: found.disk_format ?? undefined,
      containerFormat: found.container_format ?? undefined,
      sizeBytes: found.size ?? undefined,
      virtualSizeBytes: found.virtual_size ?? undefined,
      hash:
        found.os_hash_algo && found.os_hash_value && HASH_ALGORITHMS.has(found.os_hash_algo)
          ? { algorithm: found.os_hash_algo, value: found.os_hash_value }
          : undefined,
      minRamMegabytes: found.min_ram,
      minDiskGigabytes: found.min_disk,
      properties: Object.keys(properties).length > 0 ? properties : undefined,
      tags: found.tags,
    };
    return {
      // Undefined fields are left out: the status schema has no nulls.
      resource: JSON.parse(JSON.stringify(resource)),
      available: found.status === 'active',
      message: STATUS_MESSAGES[found.status] ?? `Image is ${found.status}`,
    };
  },
};

/** Why an image that is not active cannot be used yet, in plain words. */
const STATUS_MESSAGES: Record<string, string> = {
  queued: 'Image is queued: its data is not uploaded yet',
  saving: 'Image is saving: its data is being uploaded',
  importing: 'Image is importing its data',
  uploading: 'Image is uploading its data',
  deactivated: 'Image is deactivated: its data cannot be downloaded',
  killed: 'Image is killed: Glance could not store its data',
};
