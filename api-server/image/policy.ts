// Glance's default policy (glance/policies/*.py, the "secure RBAC" defaults), as data for the
// shared engine. Rule names are Glance's own, unprefixed, as operators write them in a Glance
// policy file.
//
// What the routes put in the target: the image as Glance's ImageTarget shows it to policy,
// { id, owner, project_id: owner, visibility, protected, ... }, and for member actions also
// member_id. Who may see which image at all (private, shared, community, public) is decided by
// visibility.ts before policy is asked, exactly as Glance's repository layer does; these rules
// decide what a caller who can see an image may do with it.
import type { PolicyDefaults, ScopeType } from '../common/policy/enforcer.js';

const PROJECT: readonly ScopeType[] = ['project'];

const ADMIN = 'role:admin';
const PROJECT_MEMBER = 'role:member and project_id:%(owner)s';
const ADMIN_OR_PROJECT_MEMBER = `${ADMIN} or (${PROJECT_MEMBER})`;
const ADMIN_OR_READER = `${ADMIN} or role:reader`;

function action(rule: string, description: string, ...operations: string[]) {
  return { rule, scopeTypes: PROJECT, description, operations };
}

export const IMAGE_POLICY_DEFAULTS: PolicyDefaults = {
  context_is_admin: { rule: ADMIN },
  add_image: action(ADMIN_OR_PROJECT_MEMBER, 'Create an image.', 'POST /v2/images'),
  get_image: action(ADMIN_OR_READER, 'Show an image.', 'GET /v2/images/{image_id}'),
  get_images: action(ADMIN_OR_READER, 'List images.', 'GET /v2/images'),
  modify_image: action(ADMIN_OR_PROJECT_MEMBER, 'Update an image.', 'PATCH /v2/images/{image_id}'),
  delete_image: action(ADMIN_OR_PROJECT_MEMBER, 'Delete an image.', 'DELETE /v2/images/{image_id}'),
  publicize_image: action(ADMIN, 'Make an image public.', 'POST /v2/images', 'PATCH /v2/images/{image_id}'),
  communitize_image: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Make an image visible to the community.',
    'POST /v2/images',
    'PATCH /v2/images/{image_id}',
  ),
  upload_image: action(ADMIN_OR_PROJECT_MEMBER, "Upload an image's data.", 'PUT /v2/images/{image_id}/file'),
  download_image: action(ADMIN_OR_READER, "Download an image's data.", 'GET /v2/images/{image_id}/file'),
  deactivate: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Deactivate an image.',
    'POST /v2/images/{image_id}/actions/deactivate',
  ),
  reactivate: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Reactivate an image.',
    'POST /v2/images/{image_id}/actions/reactivate',
  ),
  add_member: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Share an image with a project.',
    'POST /v2/images/{image_id}/members',
  ),
  delete_member: action(
    ADMIN_OR_PROJECT_MEMBER,
    'Stop sharing an image with a project.',
    'DELETE /v2/images/{image_id}/members/{member_id}',
  ),
  get_member: action(
    ADMIN_OR_READER,
    'Show an image member.',
    'GET /v2/images/{image_id}/members/{member_id}',
  ),
  get_members: action(ADMIN_OR_READER, "List an image's members.", 'GET /v2/images/{image_id}/members'),
  modify_member: action(
    `${ADMIN} or (role:member and project_id:%(member_id)s)`,
    'Accept or reject an image shared with your project.',
    'PUT /v2/images/{image_id}/members/{member_id}',
  ),
};
