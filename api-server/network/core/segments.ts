// Network segments: which type a network is (flat, vlan, vxlan, local), which physical network
// and segmentation id it uses, and its MTU, by the ML2 settings of the configuration.
//
// Allocation is a row per segment in network_segment_allocation, whose primary key is the
// segment: two transactions that pick the same id cannot both commit, on SQLite or MariaDB, so
// concurrent network creates never share a VNI or VLAN. Candidates are picked at random within
// the ranges (so concurrent creates rarely collide) and, when that keeps failing, from the
// ranges' actual free ids.
import type { Transaction } from 'kysely';
import type { Config } from '../../../lib/config.js';
import { isUniqueViolation } from '../../../lib/db/errors.js';
import { ApiError, BadRequest, Conflict } from '../../common/errors.js';
import type { CoreTables } from './tables.js';

export type NetworkType = 'flat' | 'vlan' | 'vxlan' | 'local';
export const NETWORK_TYPES: readonly NetworkType[] = ['flat', 'vlan', 'vxlan', 'local'];

export interface IdRange {
  min: number;
  max: number;
}

/** The configuration's `network` section, parsed. */
export interface SegmentSettings {
  tenantNetworkTypes: NetworkType[];
  vniRanges: IdRange[];
  /** Physical networks that may carry VLANs, with the ranges tenant networks may take. */
  vlanRanges: Map<string, IdRange[]>;
  globalPhysnetMtu: number;
  pathMtu: number;
  physicalNetworkMtus: Map<string, number>;
}

export interface Segment {
  networkType: NetworkType;
  /** '' when the type has none. */
  physicalNetwork: string;
  segmentationId: number | null;
}

const MAX_VNI = 16_777_215;
const MAX_VLAN = 4094;
/** VXLAN over IPv4: outer IP (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
const VXLAN_OVERHEAD = 50;

function split(list: string): string[] {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function parseRange(minText: string, maxText: string, limit: number, what: string): IdRange {
  const min = Number(minText);
  const max = Number(maxText);
  if (!(min >= 1 && max <= limit && min <= max)) {
    throw new Error(`invalid ${what} range ${minText}:${maxText} (1..${limit}, min ≤ max)`);
  }
  return { min, max };
}

/** Throws an Error naming the setting when a value does not make sense. */
export function segmentSettings(config: Config['network']): SegmentSettings {
  const vlanRanges = new Map<string, IdRange[]>();
  for (const item of split(config.networkVlanRanges)) {
    const [physnet, min, max] = item.split(':');
    const ranges = vlanRanges.get(physnet!) ?? [];
    if (min !== undefined && max !== undefined) ranges.push(parseRange(min, max, MAX_VLAN, 'VLAN'));
    vlanRanges.set(physnet!, ranges);
  }
  const physicalNetworkMtus = new Map<string, number>();
  for (const item of split(config.physicalNetworkMtus)) {
    const [physnet, mtu] = item.split(':');
    physicalNetworkMtus.set(physnet!, Number(mtu));
  }
  return {
    tenantNetworkTypes: split(config.tenantNetworkTypes) as NetworkType[],
    vniRanges: split(config.vniRanges).map((item) => {
      const [min, max] = item.split(':');
      return parseRange(min!, max!, MAX_VNI, 'VNI');
    }),
    vlanRanges,
    globalPhysnetMtu: config.globalPhysnetMtu,
    pathMtu: config.pathMtu,
    physicalNetworkMtus,
  };
}

/**
 * The MTU of a network of this segment, as Neutron's ML2 computes it: VXLAN takes the path
 * MTU (or the global one) minus its overhead, flat and VLAN the physical network's MTU capped
 * by the global one.
 */
export function networkMtu(settings: SegmentSettings, segment: Segment): number {
  const global = settings.globalPhysnetMtu;
  switch (segment.networkType) {
    case 'vxlan': {
      const path = settings.pathMtu > 0 ? Math.min(global, settings.pathMtu) : global;
      return path - VXLAN_OVERHEAD;
    }
    case 'vlan':
    case 'flat': {
      const physnet = settings.physicalNetworkMtus.get(segment.physicalNetwork);
      return physnet === undefined ? global : Math.min(global, physnet);
    }
    case 'local':
      return global;
  }
}

/** What a create request asked for with the provider extension (admin only; checked before). */
export interface ProviderRequest {
  networkType?: string;
  physicalNetwork?: string | null;
  segmentationId?: number | null;
}

/** Validates a provider request the way ML2's type drivers do, filling in nothing. */
export function checkProviderSegment(settings: SegmentSettings, request: ProviderRequest): Segment {
  const type = request.networkType;
  if (type === undefined) throw new BadRequest('provider:network_type required');
  if (!(NETWORK_TYPES as readonly string[]).includes(type)) {
    throw new BadRequest(
      `Invalid input for operation: network_type value '${type}' not supported.`,
      'InvalidInput',
    );
  }
  const physnet = request.physicalNetwork ?? undefined;
  const id = request.segmentationId ?? undefined;
  const invalid = (message: string) =>
    new BadRequest(`Invalid input for operation: ${message}.`, 'InvalidInput');
  switch (type as NetworkType) {
    case 'flat':
      if (!physnet) throw invalid('physical_network required for flat provider network');
      if (id !== undefined) throw invalid('segmentation_id specified for flat network');
      return { networkType: 'flat', physicalNetwork: physnet, segmentationId: null };
    case 'vlan':
      if (!physnet) throw invalid('physical_network required for VLAN provider network');
      if (!settings.vlanRanges.has(physnet)) {
        throw invalid(`physical_network '${physnet}' unknown for VLAN provider network`);
      }
      if (id === undefined) throw invalid('segmentation_id required for VLAN provider network');
      if (!Number.isInteger(id) || id < 1 || id > MAX_VLAN) {
        throw invalid(`segmentation_id out of range (1 through ${MAX_VLAN})`);
      }
      return { networkType: 'vlan', physicalNetwork: physnet, segmentationId: id };
    case 'vxlan':
      if (physnet) throw invalid('provider:physical_network specified for vxlan network');
      if (id !== undefined && (!Number.isInteger(id) || id < 1 || id > MAX_VNI)) {
        throw invalid(`segmentation_id out of range (1 through ${MAX_VNI})`);
      }
      return { networkType: 'vxlan', physicalNetwork: '', segmentationId: id ?? null };
    case 'local':
      if (physnet || id !== undefined)
        throw invalid('provider:physical_network and segmentation_id are not allowed for local network');
      return { networkType: 'local', physicalNetwork: '', segmentationId: null };
  }
}

type Trx = Transaction<CoreTables>;

async function tryInsert(trx: Trx, networkId: string, type: string, physnet: string, id: number) {
  try {
    await trx
      .insertInto('network_segment_allocation')
      .values({ network_type: type, physical_network: physnet, segmentation_id: id, network_id: networkId })
      .execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

const RANDOM_TRIES = 6;

/** A free id in `ranges` on `physnet`, taken for `networkId`; undefined when all are in use. */
async function allocateFromRanges(
  trx: Trx,
  networkId: string,
  type: NetworkType,
  physnet: string,
  ranges: readonly IdRange[],
): Promise<number | undefined> {
  const total = ranges.reduce((sum, range) => sum + range.max - range.min + 1, 0);
  if (total === 0) return undefined;
  const nth = (index: number) => {
    for (const range of ranges) {
      const size = range.max - range.min + 1;
      if (index < size) return range.min + index;
      index -= size;
    }
    return ranges[0]!.min;
  };
  for (let attempt = 0; attempt < RANDOM_TRIES; attempt++) {
    const candidate = nth(Math.floor(Math.random() * total));
    if (await tryInsert(trx, networkId, type, physnet, candidate)) return candidate;
  }
  // The ranges are crowded: look at what is taken and try the free ids, in random order.
  for (let round = 0; round < 4; round++) {
    const taken = new Set(
      (
        await trx
          .selectFrom('network_segment_allocation')
          .select('segmentation_id')
          .where('network_type', '=', type)
          .where('physical_network', '=', physnet)
          .execute()
      ).map((row) => Number(row.segmentation_id)),
    );
    const free: number[] = [];
    for (const range of ranges) {
      for (let id = range.min; id <= range.max && free.length < 256; id++) if (!taken.has(id)) free.push(id);
    }
    if (free.length === 0) return undefined;
    for (let tries = 0; tries < 8 && free.length > 0; tries++) {
      const index = Math.floor(Math.random() * free.length);
      const candidate = free[index]!;
      free.splice(index, 1);
      if (await tryInsert(trx, networkId, type, physnet, candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * Takes a segment for a new network, inside the caller's transaction: the requested one for a
 * provider network (409 when in use), else the first tenant network type in order that has a
 * free id (503 NoNetworkAvailable when none has).
 */
export async function allocateSegment(
  trx: Trx,
  settings: SegmentSettings,
  networkId: string,
  requested: Segment | undefined,
): Promise<Segment> {
  if (requested) {
    const { networkType, physicalNetwork } = requested;
    if (networkType === 'local') return requested;
    if (networkType === 'flat') {
      if (!(await tryInsert(trx, networkId, 'flat', physicalNetwork, 0))) {
        throw new Conflict(
          `Unable to create the flat network. Physical network ${physicalNetwork} is in use.`,
          'FlatNetworkInUse',
        );
      }
      return requested;
    }
    if (requested.segmentationId !== null) {
      if (!(await tryInsert(trx, networkId, networkType, physicalNetwork, requested.segmentationId))) {
        throw networkType === 'vlan'
          ? new Conflict(
              `Unable to create the network. The VLAN ${requested.segmentationId} on physical network ${physicalNetwork} is in use.`,
              'VlanIdInUse',
            )
          : new Conflict(
              `Unable to create the network. The tunnel ID ${requested.segmentationId} is in use.`,
              'TunnelIdInUse',
            );
      }
      return requested;
    }
    // A provider vxlan network without an id takes one from the VNI ranges.
    const id = await allocateFromRanges(trx, networkId, 'vxlan', '', settings.vniRanges);
    if (id === undefined) throw noNetworkAvailable();
    return { ...requested, segmentationId: id };
  }
  for (const type of settings.tenantNetworkTypes) {
    if (type === 'local') return { networkType: 'local', physicalNetwork: '', segmentationId: null };
    if (type === 'vxlan') {
      const id = await allocateFromRanges(trx, networkId, 'vxlan', '', settings.vniRanges);
      if (id !== undefined) return { networkType: 'vxlan', physicalNetwork: '', segmentationId: id };
    }
    if (type === 'vlan') {
      for (const [physnet, ranges] of settings.vlanRanges) {
        const id = await allocateFromRanges(trx, networkId, 'vlan', physnet, ranges);
        if (id !== undefined) return { networkType: 'vlan', physicalNetwork: physnet, segmentationId: id };
      }
    }
  }
  throw noNetworkAvailable();
}

function noNetworkAvailable(): ApiError {
  return new ApiError(
    503,
    'Unable to create the network. No tenant network is available for allocation.',
    'NoNetworkAvailable',
  );
}

/** Gives a network's segment back (network delete), inside the caller's transaction. */
export async function releaseSegment(trx: Trx, networkId: string): Promise<void> {
  await trx.deleteFrom('network_segment_allocation').where('network_id', '=', networkId).execute();
}
