// /v2/images/{image_id}/members: sharing an image with other projects. The owner adds and
// removes members; each member project accepts or rejects (or leaves pending) on its own.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isoNow } from '../../../lib/db/columns.js';
import { isUniqueViolation } from '../../../lib/db/errors.js';
import { authorize } from '../../common/authorize.js';
import { contextOf, requireAuth } from '../../common/context.js';
import { BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge } from '../../common/errors.js';
import type { ImageService } from '../image-service.js';
import {
  deleteMember,
  getMember,
  type ImageRecord,
  insertMember,
  listMembers,
  MEMBER_STATUSES,
  type MemberStatus,
  updateMemberStatus,
} from '../store.js';
import { memberView } from '../views.js';
import { isOwner, policyTarget, type Viewer, viewerOf, visibleImage } from '../visibility.js';

/** Glance's image_member_quota default. */
const MAX_MEMBERS = 128;

type MemberParams = { image_id: string; member_id: string };

function memberNotFound(imageId: string, memberId: string): NotFound {
  return new NotFound(`${memberId} is not a member of image ${imageId}`);
}

function sharedOnly(image: ImageRecord): void {
  if (image.visibility !== 'shared') {
    throw new Forbidden(`Only shared images have members. Image ${image.id} is ${image.visibility}.`);
  }
}

/** The owner (and admins) manage members; a member sees and answers only for itself. */
function canSeeMember(image: ImageRecord, viewer: Viewer, memberId: string): boolean {
  return viewer.isAdmin || isOwner(image, viewer) || viewer.projectId === memberId;
}

export const memberRoutes: FastifyPluginAsync<ImageService> = async (app, service) => {
  const { db, policy, identity } = service;
  app.addHook('preHandler', requireAuth(identity));

  const viewer = (request: FastifyRequest) => viewerOf(policy, contextOf(request));

  app.post<{ Params: { image_id: string } }>('/v2/images/:image_id/members', async (request) => {
    const image = await visibleImage(db, viewer(request), request.params.image_id);
    const body = request.body as { member?: unknown } | undefined;
    const memberId = body?.member;
    if (typeof memberId !== 'string' || memberId === '' || memberId.length > 255) {
      throw new BadRequest('The request body must be {"member": "<project id>"}.');
    }
    authorize(policy, request, 'add_member', policyTarget(image, { member_id: memberId }));
    sharedOnly(image);
    if ((await listMembers(db, image.id)).length >= MAX_MEMBERS) {
      throw new PayloadTooLarge(`Maximum number of image members exceeded (${MAX_MEMBERS}).`);
    }
    const now = isoNow();
    const member = {
      imageId: image.id,
      memberId,
      status: 'pending' as const,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await insertMember(db, member);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new Conflict(`Member ${memberId} already associated with image ${image.id}`);
      }
      throw err;
    }
    return memberView(member);
  });

  app.get<{ Params: { image_id: string } }>('/v2/images/:image_id/members', async (request) => {
    const caller = viewer(request);
    const image = await visibleImage(db, caller, request.params.image_id);
    authorize(policy, request, 'get_members', policyTarget(image));
    sharedOnly(image);
    const members = (await listMembers(db, image.id)).filter((member) =>
      canSeeMember(image, caller, member.memberId),
    );
    return { members: members.map(memberView), schema: '/v2/schemas/members' };
  });

  app.get<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (request) => {
    const caller = viewer(request);
    const { image_id: imageId, member_id: memberId } = request.params;
    const image = await visibleImage(db, caller, imageId);
    authorize(policy, request, 'get_member', policyTarget(image, { member_id: memberId }));
    const member = canSeeMember(image, caller, memberId)
      ? await getMember(db, image.id, memberId)
      : undefined;
    if (!member) throw memberNotFound(image.id, memberId);
    return memberView(member);
  });

  app.put<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (request) => {
    const caller = viewer(request);
    const { image_id: imageId, member_id: memberId } = request.params;
    const image = await visibleImage(db, caller, imageId);
    const member = canSeeMember(image, caller, memberId)
      ? await getMember(db, image.id, memberId)
      : undefined;
    if (!member) throw memberNotFound(image.id, memberId);
    authorize(policy, request, 'modify_member', policyTarget(image, { member_id: memberId }));
    // Only the member project itself decides whether it takes the image.
    if (caller.projectId !== memberId && !caller.isAdmin) {
      throw new Forbidden(`Only project ${memberId} can accept or reject image ${image.id} for itself.`);
    }
    const status = (request.body as { status?: unknown } | undefined)?.status;
    if (typeof status !== 'string' || !(MEMBER_STATUSES as readonly string[]).includes(status)) {
      throw new BadRequest(`Invalid status: ${String(status)}. Use one of ${MEMBER_STATUSES.join(', ')}.`);
    }
    await updateMemberStatus(db, image.id, memberId, status as MemberStatus);
    const updated = await getMember(db, image.id, memberId);
    return memberView(updated!);
  });

  app.delete<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (request, reply) => {
    const caller = viewer(request);
    const { image_id: imageId, member_id: memberId } = request.params;
    const image = await visibleImage(db, caller, imageId);
    authorize(policy, request, 'delete_member', policyTarget(image, { member_id: memberId }));
    if (!(await deleteMember(db, image.id, memberId))) throw memberNotFound(image.id, memberId);
    return reply.code(204).send();
  });
};
