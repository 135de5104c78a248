// Who may see an image at all, by Glance's visibility rules. An image the caller may not see
// does not exist for them: 404, never 403, so ids of private images do not leak.
//
//   private    the owner project only
//   shared     the owner, and projects it was shared with (members, whatever their status,
//              may show it; lists include it once the member accepted, see listing)
//   community  everyone, but lists leave it out unless asked (visibility=community/all)
//   public     everyone
//
// Admins (policy rule context_is_admin) see every image.
import { allows } from '../common/authorize.js';
import { projectIdOf, type RequestContext } from '../common/context.js';
import { NotFound } from '../common/errors.js';
import type { PolicyEnforcer } from '../common/policy/enforcer.js';
import { getImage, getMember, type ImageDb, type ImageRecord } from './store.js';

export interface Viewer {
  projectId: string | undefined;
  isAdmin: boolean;
}

export function viewerOf(policy: PolicyEnforcer, context: RequestContext): Viewer {
  return { projectId: projectIdOf(context), isAdmin: allows(policy, context, 'context_is_admin') };
}

export function isOwner(image: ImageRecord, viewer: Viewer): boolean {
  return viewer.projectId !== undefined && image.owner === viewer.projectId;
}

export function imageNotFound(id: string): NotFound {
  return new NotFound(`No image found with ID ${id}`);
}

/** The image, if this viewer may see it; otherwise 404 as if it did not exist. */
export async function visibleImage(db: ImageDb, viewer: Viewer, id: string): Promise<ImageRecord> {
  const image = await getImage(db, id);
  if (!image) throw imageNotFound(id);
  if (viewer.isAdmin || isOwner(image, viewer)) return image;
  if (image.visibility === 'public' || image.visibility === 'community') return image;
  if (image.visibility === 'shared' && viewer.projectId !== undefined) {
    if (await getMember(db, image.id, viewer.projectId)) return image;
  }
  throw imageNotFound(id);
}

/** What policy sees of an image (Glance's ImageTarget): its attributes, owner as project_id too. */
export function policyTarget(
  image: ImageRecord,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: image.id,
    owner: image.owner,
    project_id: image.owner,
    visibility: image.visibility,
    protected: image.protected,
    status: image.status,
    ...extra,
  };
}
