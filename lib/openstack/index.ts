// The shared OpenStack client: see README.md beside this file.
export * from './catalog.js';
export * from './client.js';
export * from './config.js';
export * from './errors.js';
export * from './pagination.js';
export * from './retry.js';
export * from './session.js';
