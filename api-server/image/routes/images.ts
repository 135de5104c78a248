// /v2/images: create, show, list, update by JSON patch, delete, tags, and (de/re)activation.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isoNow } from '../../../lib/db/columns.js';
import { isUniqueViolation } from '../../../lib/db/errors.js';
import { withTransaction } from '../../../lib/db/transaction.js';
import { authorize } from '../../common/authorize.js';
import { contextOf, requireAuth } from '../../common/context.js';
import { BadRequest, Conflict, Forbidden, NotFound, UnsupportedMediaType } from '../../common/errors.js';
import {
  applyCoreAttribute,
  CORE_ATTRIBUTES,
  checkPropertyCount,
  checkWritable,
  isUuid,
  validPropertyValue,
} from '../attributes.js';
import type { ImageService } from '../image-service.js';
import { listVisibleImages, nextPageLink } from '../listing.js';
import { applyImagePatch } from '../patch.js';
import {
  addTag,
  deleteImage,
  type ImageCoreChanges,
  type ImageRecord,
  insertImage,
  newImageId,
  removeTag,
  replaceProperties,
  replaceTags,
  updateImage,
} from '../store.js';
import { imageView } from '../views.js';
import { policyTarget, viewerOf, visibleImage } from '../visibility.js';

type ImageParams = { image_id: string };

/** Publishing an image to everyone, or to the community, is a policy decision of its own. */
function visibilityAction(visibility: string | undefined): string | undefined {
  if (visibility === 'public') return 'publicize_image';
  if (visibility === 'community') return 'communitize_image';
  return undefined;
}

export const imageRoutes: FastifyPluginAsync<ImageService> = async (app, service) => {
  const { db, policy, identity, store } = service;
  app.addHook('preHandler', requireAuth(identity));

  const viewer = (request: FastifyRequest) => viewerOf(policy, contextOf(request));

  /** The image for a request on /v2/images/{image_id}, or 404 when the caller cannot see it. */
  async function imageOf(request: FastifyRequest<{ Params: ImageParams }>): Promise<ImageRecord> {
    return visibleImage(db, viewer(request), request.params.image_id);
  }

  app.post('/v2/images', async (request, reply) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BadRequest('The request body must be a JSON object describing the image.');
    }
    const context = contextOf(request);
    const projectId = context.scope.kind === 'project' ? context.scope.project.id : undefined;
    const changes: ImageCoreChanges & { tags?: string[] } = {};
    const properties: Record<string, string> = {};
    let id: string | undefined;
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      checkWritable(name);
      if (name === 'id') {
        if (typeof value !== 'string' || !isUuid(value))
          throw new BadRequest(`Invalid image id: ${String(value)}`);
        id = value.toLowerCase();
      } else if (CORE_ATTRIBUTES.has(name)) {
        applyCoreAttribute(changes, name, value);
      } else {
        properties[name] = validPropertyValue(name, value);
      }
    }
    checkPropertyCount(properties);
    const owner = changes.owner ?? projectId;
    if (!owner) throw new Forbidden('Images are created with a project-scoped token.');
    const now = isoNow();
    const image: ImageRecord = {
      id: id ?? newImageId(),
      name: changes.name ?? null,
      status: 'queued',
      // Glance's default since Pike: shareable through members, visible to nobody else.
      visibility: changes.visibility ?? 'shared',
      protected: changes.protected ?? false,
      osHidden: changes.osHidden ?? false,
      owner,
      diskFormat: changes.diskFormat ?? null,
      containerFormat: changes.containerFormat ?? null,
      minRam: changes.minRam ?? 0,
      minDisk: changes.minDisk ?? 0,
      size: null,
      virtualSize: null,
      checksum: null,
      osHashAlgo: null,
      osHashValue: null,
      location: null,
      createdAt: now,
      updatedAt: now,
      tags: changes.tags ?? [],
      properties,
    };
    authorize(policy, request, 'add_image', policyTarget(image));
    const publishing = visibilityAction(image.visibility);
    if (publishing) authorize(policy, request, publishing, policyTarget(image));
    // Someone else's project may own an image only when an admin says so.
    if (owner !== projectId && !viewer(request).isAdmin) {
      throw new Forbidden(`You are not permitted to create images owned by '${owner}'.`);
    }
    try {
      await withTransaction(db, (tx) => insertImage(tx, image));
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`An image with identifier ${image.id} already exists`);
      throw err;
    }
    return reply.code(201).header('location', `/v2/images/${image.id}`).send(imageView(image));
  });

  app.get('/v2/images', async (request) => {
    authorize(policy, request, 'get_images');
    const query = request.query as Record<string, string | string[] | undefined>;
    const page = await listVisibleImages(db, viewer(request), query);
    return {
      images: page.images.map(imageView),
      first: '/v2/images',
      schema: '/v2/schemas/images',
      ...(page.nextMarker ? { next: nextPageLink(query, page.nextMarker) } : {}),
    };
  });

  app.get<{ Params: ImageParams }>('/v2/images/:image_id', async (request) => {
    const image = await imageOf(request);
    authorize(policy, request, 'get_image', policyTarget(image));
    return imageView(image);
  });

  app.patch<{ Params: ImageParams }>('/v2/images/:image_id', async (request) => {
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/openstack-images-v2.')) {
      // Glance's JSON-patch media types only, as Glance (415 otherwise).
      throw new UnsupportedMediaType(
        `Unsupported Content-Type ${contentType || '(none)'}: use application/openstack-images-v2.1-json-patch`,
      );
    }
    const image = await imageOf(request);
    authorize(policy, request, 'modify_image', policyTarget(image));
    const updated = applyImagePatch(image, request.body);
    const publishing =
      updated.visibility !== image.visibility ? visibilityAction(updated.visibility) : undefined;
    if (publishing) authorize(policy, request, publishing, policyTarget(image));
    if (updated.owner !== image.owner && !viewer(request).isAdmin) {
      throw new Forbidden("Only administrators change an image's owner.");
    }
    await withTransaction(db, async (tx) => {
      await updateImage(tx, image.id, {
        name: updated.name,
        visibility: updated.visibility,
        protected: updated.protected,
        osHidden: updated.osHidden,
        owner: updated.owner,
        diskFormat: updated.diskFormat,
        containerFormat: updated.containerFormat,
        minRam: updated.minRam,
        minDisk: updated.minDisk,
      });
      await replaceTags(tx, image.id, updated.tags);
      await replaceProperties(tx, image.id, updated.properties);
    });
    return imageView(await visibleImage(db, viewer(request), image.id));
  });

  app.delete<{ Params: ImageParams }>('/v2/images/:image_id', async (request, reply) => {
    // An upload may activate the image between the read and the deletion, giving it a data
    // location: then the deletion does not happen and the image is read again. Its location
    // is set once, so a second round settles it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const image = await imageOf(request);
      authorize(policy, request, 'delete_image', policyTarget(image));
      if (image.protected) throw new Forbidden(`Image ${image.id} is protected and cannot be deleted.`);
      if (await withTransaction(db, (tx) => deleteImage(tx, image.id, image.location ?? null))) {
        // The row is gone first: a reader can no longer reach the data when it disappears. An
        // upload still running finds the image gone and removes what it stored itself.
        if (image.location) await store.delete(image.location);
        return reply.code(204).send();
      }
    }
    throw new Conflict(`Image ${request.params.image_id} changed while it was being deleted; try again.`);
  });

  app.put<{ Params: ImageParams & { tag: string } }>(
    '/v2/images/:image_id/tags/:tag',
    async (request, reply) => {
      const image = await imageOf(request);
      authorize(policy, request, 'modify_image', policyTarget(image));
      applyCoreAttribute({}, 'tags', [...image.tags, request.params.tag]);
      await addTag(db, image.id, request.params.tag);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: ImageParams & { tag: string } }>(
    '/v2/images/:image_id/tags/:tag',
    async (request, reply) => {
      const image = await imageOf(request);
      authorize(policy, request, 'modify_image', policyTarget(image));
      if (!(await removeTag(db, image.id, request.params.tag))) {
        throw new NotFound(`Tag ${request.params.tag} not found`);
      }
      return reply.code(204).send();
    },
  );

  app.post<{ Params: ImageParams }>('/v2/images/:image_id/actions/deactivate', async (request, reply) => {
    const image = await imageOf(request);
    authorize(policy, request, 'deactivate', policyTarget(image));
    if (
      image.status !== 'deactivated' &&
      !(await updateImage(db, image.id, { status: 'deactivated' }, ['active']))
    ) {
      throw new Forbidden(`Not allowed to deactivate image in status '${image.status}'`);
    }
    return reply.code(204).send();
  });

  app.post<{ Params: ImageParams }>('/v2/images/:image_id/actions/reactivate', async (request, reply) => {
    const image = await imageOf(request);
    authorize(policy, request, 'reactivate', policyTarget(image));
    if (
      image.status !== 'active' &&
      !(await updateImage(db, image.id, { status: 'active' }, ['deactivated']))
    ) {
      throw new Forbidden(`Not allowed to reactivate image in status '${image.status}'`);
    }
    return reply.code(204).send();
  });
};
