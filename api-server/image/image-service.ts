// What the image service's route plugins are handed: the api-server's dependencies, the image
// tables and the store driver that holds image data.
import type { Kysely } from 'kysely';
import type { ServiceDependencies } from '../common/dependencies.js';
import type { ImageStoreDriver } from './stores/driver.js';
import type { ImageTables } from './tables.js';

export interface ImageService extends ServiceDependencies {
  db: Kysely<ImageTables>;
  store: ImageStoreDriver;
}
