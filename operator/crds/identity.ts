// Identity kinds: Project (with its role bindings and quotas), User, ApplicationCredential.
import { Type } from '@sinclair/typebox';
import type { OpenStackKind } from './convention.js';
import {
  Description,
  Id,
  List,
  Name,
  ObjectWithImmutable,
  Ref,
  Str,
  Tags,
  Timestamp,
  withRules,
} from './primitives.js';

const OpenStackName = () => Name('OpenStack name; defaults to the object name.');
const Enabled = () => Type.Boolean({ default: true });
const DomainId = () => Id('Domain ID; defaults to the domain of the credentials.');

/** A key of a Secret in the same namespace. */
export const SecretKeyRef = (defaultKey: string, description: string) =>
  Type.Object(
    {
      secretName: Ref('Secret in this namespace.'),
      key: Type.Optional(Str(253, { minLength: 1, default: defaultKey })),
    },
    { description },
  );

const RoleBinding = withRules(
  Type.Object({
    role: Str(255, { minLength: 1, description: 'Role name, such as member or reader.' }),
    userRef: Type.Optional(Ref('User object that gets the role.')),
    user: Type.Optional(Name('Name of an existing OpenStack user in the project domain.')),
    group: Type.Optional(Name('Name of an existing OpenStack group in the project domain.')),
  }),
  {
    rule: '[has(self.userRef), has(self.user), has(self.group)].filter(x, x).size() == 1',
    message: 'a role binding names exactly one of userRef, user or group',
  },
);

const QuotaValue = (description: string) => Type.Optional(Type.Integer({ minimum: -1, description }));

const Quota = Type.Object(
  {
    instances: QuotaValue('Servers.'),
    cores: QuotaValue('vCPUs.'),
    ramMegabytes: QuotaValue('RAM in MiB.'),
    networks: QuotaValue('Networks.'),
    subnets: QuotaValue('Subnets.'),
    ports: QuotaValue('Ports.'),
    routers: QuotaValue('Routers.'),
    floatingIPs: QuotaValue('Floating IPs.'),
    securityGroups: QuotaValue('Security groups.'),
    securityGroupRules: QuotaValue('Security group rules.'),
  },
  { description: 'Quota limits to set (-1 for unlimited); those left out keep the cloud defaults.' },
);

export const Project = {
  kind: 'Project',
  plural: 'projects',
  shortNames: ['osproject'],
  resource: ObjectWithImmutable(
    {
      name: Type.Optional(OpenStackName()),
      description: Type.Optional(Description()),
      domainId: Type.Optional(DomainId()),
      enabled: Type.Optional(Enabled()),
      tags: Type.Optional(Tags()),
      roleBindings: Type.Optional(List(RoleBinding, 64, 'Roles granted on this project.')),
      quota: Type.Optional(Quota),
    },
    ['domainId'],
  ),
  filter: Type.Object({
    name: Type.Optional(Name()),
    domainId: Type.Optional(Id()),
    tags: Type.Optional(Tags()),
  }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    description: Type.Optional(Str(255)),
    domainId: Type.Optional(Str(64)),
    enabled: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Tags()),
  }),
} satisfies OpenStackKind;

export const User = {
  kind: 'User',
  plural: 'users',
  shortNames: ['osuser'],
  resource: ObjectWithImmutable(
    {
      name: Type.Optional(OpenStackName()),
      description: Type.Optional(Description()),
      domainId: Type.Optional(DomainId()),
      defaultProjectRef: Type.Optional(Ref('Project object used when the user asks for no scope.')),
      email: Type.Optional(Str(255)),
      enabled: Type.Optional(Enabled()),
      passwordRef: Type.Optional(SecretKeyRef('password', 'Secret key holding the password.')),
    },
    ['domainId'],
  ),
  filter: Type.Object({ name: Type.Optional(Name()), domainId: Type.Optional(Id()) }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    description: Type.Optional(Str(255)),
    domainId: Type.Optional(Str(64)),
    defaultProjectId: Type.Optional(Str(64)),
    email: Type.Optional(Str(255)),
    enabled: Type.Optional(Type.Boolean()),
    passwordExpiresAt: Type.Optional(Timestamp('When the password expires.')),
  }),
} satisfies OpenStackKind;

export const ApplicationCredential = {
  kind: 'ApplicationCredential',
  plural: 'applicationcredentials',
  shortNames: ['osappcred'],
  // Keystone has no update for application credentials: the whole resource is fixed.
  resource: withRules(
    Type.Object({
      userRef: Ref('User object that owns the credential; the operator creates it as that user.'),
      projectRef: Ref('Project object the credential is scoped to; the user needs a role on it.'),
      name: Type.Optional(OpenStackName()),
      description: Type.Optional(Description()),
      secretRef: SecretKeyRef('secret', 'Secret key holding the credential secret.'),
      roles: Type.Optional(
        List(Str(255, { minLength: 1 }), 16, "Role names delegated; defaults to all the user's roles."),
      ),
      expiresAt: Type.Optional(Timestamp('When the credential stops working.')),
      unrestricted: Type.Optional(
        Type.Boolean({ default: false, description: 'Allow it to create other credentials.' }),
      ),
    }),
    { rule: 'self == oldSelf', message: 'an application credential cannot be changed; create a new one' },
  ),
  filter: Type.Object({ name: Type.Optional(Name()), userRef: Type.Optional(Ref('Owning User object.')) }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    description: Type.Optional(Str(255)),
    userId: Type.Optional(Str(64)),
    projectId: Type.Optional(Str(64)),
    roles: Type.Optional(List(Str(255), 16, 'Delegated role names.')),
    expiresAt: Type.Optional(Timestamp('When the credential stops working.')),
    unrestricted: Type.Optional(Type.Boolean()),
  }),
} satisfies OpenStackKind;
