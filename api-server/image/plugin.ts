// Image (Glance v2): version discovery, images and their metadata, their data in a store, tags,
// members for sharing, and the JSON schemas clients read.
import { isAbsolute, join } from 'node:path';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { ServiceDependencies } from '../common/dependencies.js';
import { glanceErrorBody } from '../common/error-bodies.js';
import type { OpenStackService } from '../common/service.js';
import { joinUrl, requestBaseUrl, selfLink } from '../common/versions.js';
import type { ImageService } from './image-service.js';
import { imageMigrations } from './migrations.js';
import { IMAGE_POLICY_DEFAULTS } from './policy.js';
import { dataRoutes } from './routes/data.js';
import { imageRoutes } from './routes/images.js';
import { memberRoutes } from './routes/members.js';
import { schemaRoutes } from './routes/schemas.js';
import { updateImage } from './store.js';
import { createFilesystemStore } from './stores/filesystem.js';
import type { ImageTables } from './tables.js';

export const IMAGE_PREFIX = '/image';

/** The Glance v2 minor versions this server speaks, newest first. */
export const IMAGE_API_VERSIONS = [
  'v2.16',
  'v2.15',
  'v2.9',
  'v2.7',
  'v2.6',
  'v2.5',
  'v2.4',
  'v2.3',
  'v2.2',
  'v2.1',
  'v2.0',
];

/** The media types of Glance's JSON-patch documents (PATCH /v2/images/{id}). */
export const JSON_PATCH_TYPES = [
  'application/openstack-images-v2.1-json-patch',
  'application/openstack-images-v2.0-json-patch',
];

function imageVersions(baseUrl: string) {
  const href = joinUrl(baseUrl, IMAGE_PREFIX, 'v2/');
  return {
    versions: IMAGE_API_VERSIONS.map((id, index) => ({
      id,
      status: index === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [selfLink(href)],
    })),
  };
}

/**
 * Puts the images whose uploads the previous process left half done back to queued (Glance
 * leaves them saving for ever; a client can then never upload again).
 */
async function requeueInterruptedUploads(service: ImageService, log: FastifyBaseLogger): Promise<void> {
  for (const imageId of service.store.interruptedUploads) {
    if (await updateImage(service.db, imageId, { status: 'queued' }, ['saving'])) {
      log.warn({ image_id: imageId }, 'image upload was interrupted by a restart; the image is queued again');
    }
  }
}

const routes: FastifyPluginAsync<ServiceDependencies> = async (app, dependencies) => {
  // Glance answers both its root and /versions with 300 Multiple Choices.
  app.get('/', async (request, reply) => reply.code(300).send(imageVersions(requestBaseUrl(request))));
  app.get('/versions', async (request) => imageVersions(requestBaseUrl(request)));

  // Image data is never buffered: the handler gets the request stream itself.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(JSON_PATCH_TYPES, { parseAs: 'string' }, parseJson);

  const { config } = dependencies;
  const storeDirectory = isAbsolute(config.image.storeDirectory)
    ? config.image.storeDirectory
    : join(config.dataDir, config.image.storeDirectory);
  const service: ImageService = {
    ...dependencies,
    db: dependencies.database.tables<ImageTables>(),
    store: await createFilesystemStore(storeDirectory),
  };
  await requeueInterruptedUploads(service, app.log);
  for (const plugin of [imageRoutes, dataRoutes, memberRoutes, schemaRoutes]) {
    await app.register(plugin, service);
  }
};

export const imageService: OpenStackService = {
  name: 'image',
  type: 'image',
  catalogName: 'glance',
  prefix: IMAGE_PREFIX,
  endpointPath: IMAGE_PREFIX,
  errorBody: glanceErrorBody,
  routes,
  migrations: imageMigrations,
  policyDefaults: IMAGE_POLICY_DEFAULTS,
};
