// The OpenStack services this api-server serves, in the order db-sync migrates them.
import type { OpenStackService } from './common/service.js';
import { computeService } from './compute/plugin.js';
import { identityService } from './identity/plugin.js';
import { imageService } from './image/plugin.js';
import { networkService } from './network/plugin.js';
import { placementService } from './placement/plugin.js';

export const SERVICES: readonly OpenStackService[] = [
  identityService,
  imageService,
  placementService,
  computeService,
  networkService,
];

export const SERVICE_MIGRATIONS = SERVICES.map((service) => service.migrations);
