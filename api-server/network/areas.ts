// The areas the network service is made of (see area.ts), in migration order.
import type { NetworkArea } from './area.js';
import { coreArea } from './core/area.js';
import { l3Area } from './l3/area.js';
import { securityArea } from './security/area.js';

export const NETWORK_AREAS: NetworkArea[] = [coreArea, securityArea, l3Area];
