// Glance v2 response bodies. Images are not wrapped ({"id": ...}, not {"image": {...}}); custom
// properties are top-level keys next to the core attributes; links are paths below the service
// root (/v2/...), as Glance writes them.
import type { ImageRecord, MemberRecord } from './store.js';

/** Glance prints times to the second: 2026-11-23T04:24:20Z. */
export function glanceTime(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

export function imageView(image: ImageRecord): Record<string, unknown> {
  return {
    ...image.properties,
    id: image.id,
    name: image.name,
    status: image.status,
    visibility: image.visibility,
    protected: image.protected,
    os_hidden: image.osHidden,
    checksum: image.checksum,
    os_hash_algo: image.osHashAlgo,
    os_hash_value: image.osHashValue,
    size: image.size,
    virtual_size: image.virtualSize,
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    min_ram: image.minRam,
    min_disk: image.minDisk,
    owner: image.owner,
    created_at: glanceTime(image.createdAt),
    updated_at: glanceTime(image.updatedAt),
    tags: image.tags,
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
  };
}

export function memberView(member: MemberRecord): Record<string, unknown> {
  return {
    image_id: member.imageId,
    member_id: member.memberId,
    status: member.status,
    created_at: glanceTime(member.createdAt),
    updated_at: glanceTime(member.updatedAt),
    schema: '/v2/schemas/member',
  };
}
