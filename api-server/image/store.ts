// Database access of the image service: kysely queries and the conversion between rows and
// the records the logic works with. Nothing here decides visibility, policy or response shape.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { fromBit, isoNow, toBit } from '../../lib/db/columns.js';
import type { ImageTables } from './tables.js';

export type ImageDb = Kysely<ImageTables> | Transaction<ImageTables>;

export const IMAGE_STATUSES = [
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'pending_delete',
  'deactivated',
  'uploading',
  'importing',
] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export const DISK_FORMATS = [
  'ami',
  'ari',
  'aki',
  'vhd',
  'vhdx',
  'vmdk',
  'raw',
  'qcow2',
  'vdi',
  'iso',
  'ploop',
] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;

export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/** Glance's image ids: UUIDs with dashes. */
export function newImageId(): string {
  return randomUUID();
}

export interface ImageRecord {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: boolean;
  osHidden: boolean;
  /** The owning project's id. */
  owner: string;
  diskFormat: string | null;
  containerFormat: string | null;
  minRam: number;
  minDisk: number;
  size: number | null;
  virtualSize: number | null;
  checksum: string | null;
  osHashAlgo: string | null;
  osHashValue: string | null;
  location: string | null;
  createdAt: string;
  updatedAt: string;
  tags: string[];
  /** Custom properties, always strings as Glance stores them. */
  properties: Record<string, string>;
}

/** The columns of image_image a caller may change, by record field name. */
export type ImageCoreChanges = Partial<
  Pick<
    ImageRecord,
    | 'name'
    | 'status'
    | 'visibility'
    | 'protected'
    | 'osHidden'
    | 'owner'
    | 'diskFormat'
    | 'containerFormat'
    | 'minRam'
    | 'minDisk'
    | 'size'
    | 'virtualSize'
    | 'checksum'
    | 'osHashAlgo'
    | 'osHashValue'
    | 'location'
  >
>;

type ImageRow = ImageTables['image_image'];

function toImage(row: ImageRow, tags: string[], properties: Record<string, string>): ImageRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status as ImageStatus,
    visibility: row.visibility as Visibility,
    protected: fromBit(row.protected),
    osHidden: fromBit(row.os_hidden),
    owner: row.owner,
    diskFormat: row.disk_format,
    containerFormat: row.container_format,
    minRam: row.min_ram,
    minDisk: row.min_disk,
    size: row.size === null ? null : Number(row.size),
    virtualSize: row.virtual_size === null ? null : Number(row.virtual_size),
    checksum: row.checksum,
    osHashAlgo: row.os_hash_algo,
    osHashValue: row.os_hash_value,
    location: row.location,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    tags,
    properties,
  };
}

function toColumns(changes: ImageCoreChanges): Partial<ImageRow> {
  const columns: Partial<ImageRow> = {};
  if (changes.name !== undefined) columns.name = changes.name;
  if (changes.status !== undefined) columns.status = changes.status;
  if (changes.visibility !== undefined) columns.visibility = changes.visibility;
  if (changes.protected !== undefined) columns.protected = toBit(changes.protected);
  if (changes.osHidden !== undefined) columns.os_hidden = toBit(changes.osHidden);
  if (changes.owner !== undefined) columns.owner = changes.owner;
  if (changes.diskFormat !== undefined) columns.disk_format = changes.diskFormat;
  if (changes.containerFormat !== undefined) columns.container_format = changes.containerFormat;
  if (changes.minRam !== undefined) columns.min_ram = changes.minRam;
  if (changes.minDisk !== undefined) columns.min_disk = changes.minDisk;
  if (changes.size !== undefined) columns.size = changes.size;
  if (changes.virtualSize !== undefined) columns.virtual_size = changes.virtualSize;
  if (changes.checksum !== undefined) columns.checksum = changes.checksum;
  if (changes.osHashAlgo !== undefined) columns.os_hash_algo = changes.osHashAlgo;
  if (changes.osHashValue !== undefined) columns.os_hash_value = changes.osHashValue;
  if (changes.location !== undefined) columns.location = changes.location;
  return columns;
}

export async function insertImage(db: ImageDb, image: ImageRecord): Promise<void> {
  await db
    .insertInto('image_image')
    .values({
      id: image.id,
      name: image.name,
      status: image.status,
      visibility: image.visibility,
      protected: toBit(image.protected),
      os_hidden: toBit(image.osHidden),
      owner: image.owner,
      disk_format: image.diskFormat,
      container_format: image.containerFormat,
      min_ram: image.minRam,
      min_disk: image.minDisk,
      size: image.size,
      virtual_size: image.virtualSize,
      checksum: image.checksum,
      os_hash_algo: image.osHashAlgo,
      os_hash_value: image.osHashValue,
      location: image.location,
      created_at: image.createdAt,
      updated_at: image.updatedAt,
    })
    .execute();
  await replaceTags(db, image.id, image.tags);
  await replaceProperties(db, image.id, image.properties);
}

/** The images with these ids, tags and properties included, in no particular order. */
export async function getImages(db: ImageDb, ids: readonly string[]): Promise<ImageRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('image_image').selectAll().where('id', 'in', ids).execute();
  if (rows.length === 0) return [];
  const found = rows.map((row) => row.id);
  const [tagRows, propertyRows] = await Promise.all([
    db.selectFrom('image_tag').selectAll().where('image_id', 'in', found).execute(),
    db.selectFrom('image_property').selectAll().where('image_id', 'in', found).execute(),
  ]);
  const tags = new Map<string, string[]>();
  for (const tag of tagRows) tags.set(tag.image_id, [...(tags.get(tag.image_id) ?? []), tag.value]);
  const properties = new Map<string, Record<string, string>>();
  for (const property of propertyRows) {
    const own = properties.get(property.image_id) ?? {};
    own[property.name] = property.value;
    properties.set(property.image_id, own);
  }
  return rows.map((row) => toImage(row, (tags.get(row.id) ?? []).sort(), properties.get(row.id) ?? {}));
}

export async function getImage(db: ImageDb, id: string): Promise<ImageRecord | undefined> {
  return (await getImages(db, [id]))[0];
}

/**
 * Changes core columns (and stamps updated_at). With `onlyIfStatus`, the change applies only
 * while the image is in one of those states: the status transitions of uploads use it, so two
 * requests racing on one image cannot both win. Returns whether a row was changed.
 */
export async function updateImage(
  db: ImageDb,
  id: string,
  changes: ImageCoreChanges,
  onlyIfStatus?: readonly ImageStatus[],
): Promise<boolean> {
  let query = db
    .updateTable('image_image')
    .set({ ...toColumns(changes), updated_at: isoNow() })
    .where('id', '=', id);
  if (onlyIfStatus) query = query.where('status', 'in', [...onlyIfStatus]);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function replaceTags(db: ImageDb, imageId: string, tags: readonly string[]): Promise<void> {
  await db.deleteFrom('image_tag').where('image_id', '=', imageId).execute();
  const unique = [...new Set(tags)];
  if (unique.length > 0) {
    await db
      .insertInto('image_tag')
      .values(unique.map((value) => ({ image_id: imageId, value })))
      .execute();
  }
}

export async function replaceProperties(
  db: ImageDb,
  imageId: string,
  properties: Record<string, string>,
): Promise<void> {
  await db.deleteFrom('image_property').where('image_id', '=', imageId).execute();
  const entries = Object.entries(properties);
  if (entries.length > 0) {
    await db
      .insertInto('image_property')
      .values(entries.map(([name, value]) => ({ image_id: imageId, name, value })))
      .execute();
  }
}

export async function addTag(db: ImageDb, imageId: string, value: string): Promise<void> {
  const existing = await db
    .selectFrom('image_tag')
    .select('value')
    .where('image_id', '=', imageId)
    .where('value', '=', value)
    .executeTakeFirst();
  if (!existing) await db.insertInto('image_tag').values({ image_id: imageId, value }).execute();
}

/** Returns whether the tag was there. */
export async function removeTag(db: ImageDb, imageId: string, value: string): Promise<boolean> {
  const result = await db
    .deleteFrom('image_tag')
    .where('image_id', '=', imageId)
    .where('value', '=', value)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Deletes the image's row (tags, properties and members go with it) if its data location is
 * still `expectedLocation`; false when the image is gone or its location changed meanwhile (an
 * upload finished between the caller's read and now), so the caller never deletes a row while
 * losing track of the data it pointed to. Run it in a transaction: the first, conditional
 * update holds the row until the deletion commits, so an upload activating it has to wait and
 * then finds nothing to activate.
 */
export async function deleteImage(
  db: ImageDb,
  id: string,
  expectedLocation: string | null,
): Promise<boolean> {
  const claimed = await db
    .updateTable('image_image')
    .set({ updated_at: isoNow() })
    .where('id', '=', id)
    .where((eb) =>
      expectedLocation === null ? eb('location', 'is', null) : eb('location', '=', expectedLocation),
    )
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) return false;
  await db.deleteFrom('image_tag').where('image_id', '=', id).execute();
  await db.deleteFrom('image_property').where('image_id', '=', id).execute();
  await db.deleteFrom('image_member').where('image_id', '=', id).execute();
  await db.deleteFrom('image_image').where('id', '=', id).execute();
  return true;
}

/** Bytes of image data a project's images hold (or are being uploaded into), for its quota. */
export async function storedBytesOf(db: ImageDb, owner: string): Promise<number> {
  const row = await db
    .selectFrom('image_image')
    .select((eb) => eb.fn.sum<number | string | null>('size').as('total'))
    .where('owner', '=', owner)
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

// ---------------------------------------------------------------- members

export interface MemberRecord {
  imageId: string;
  memberId: string;
  status: MemberStatus;
  createdAt: string;
  updatedAt: string;
}

const toMember = (row: ImageTables['image_member']): MemberRecord => ({
  imageId: row.image_id,
  memberId: row.member_id,
  status: row.status as MemberStatus,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export async function listMembers(db: ImageDb, imageId: string): Promise<MemberRecord[]> {
  const rows = await db
    .selectFrom('image_member')
    .selectAll()
    .where('image_id', '=', imageId)
    .orderBy('created_at')
    .orderBy('member_id')
    .execute();
  return rows.map(toMember);
}

export async function getMember(
  db: ImageDb,
  imageId: string,
  memberId: string,
): Promise<MemberRecord | undefined> {
  const row = await db
    .selectFrom('image_member')
    .selectAll()
    .where('image_id', '=', imageId)
    .where('member_id', '=', memberId)
    .executeTakeFirst();
  return row && toMember(row);
}

export async function insertMember(db: ImageDb, member: MemberRecord): Promise<void> {
  await db
    .insertInto('image_member')
    .values({
      image_id: member.imageId,
      member_id: member.memberId,
      status: member.status,
      created_at: member.createdAt,
      updated_at: member.updatedAt,
    })
    .execute();
}

export async function updateMemberStatus(
  db: ImageDb,
  imageId: string,
  memberId: string,
  status: MemberStatus,
): Promise<void> {
  await db
    .updateTable('image_member')
    .set({ status, updated_at: isoNow() })
    .where('image_id', '=', imageId)
    .where('member_id', '=', memberId)
    .execute();
}

export async function deleteMember(db: ImageDb, imageId: string, memberId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('image_member')
    .where('image_id', '=', imageId)
    .where('member_id', '=', memberId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
