// Request bodies of the identity API, declared once: fastify validates with them and the
// handlers' types are inferred from them.
import { type Static, Type } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Name = Type.String({ minLength: 1, maxLength: 255 });
const DomainRef = Type.Object({ id: Type.Optional(Id), name: Type.Optional(Name) });

const UserRef = Type.Object({
  id: Type.Optional(Id),
  name: Type.Optional(Name),
  domain: Type.Optional(DomainRef),
});

export const AuthRequest = Type.Object({
  auth: Type.Object({
    identity: Type.Object({
      methods: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      password: Type.Optional(
        Type.Object({
          user: Type.Composite([UserRef, Type.Object({ password: Type.String({ maxLength: 4096 }) })]),
        }),
      ),
      token: Type.Optional(Type.Object({ id: Type.String({ minLength: 1, maxLength: 1024 }) })),
      application_credential: Type.Optional(
        Type.Object({
          id: Type.Optional(Id),
          name: Type.Optional(Name),
          user: Type.Optional(UserRef),
          secret: Type.String({ maxLength: 4096 }),
        }),
      ),
    }),
    scope: Type.Optional(
      Type.Union([
        Type.Literal('unscoped'),
        Type.Object({
          project: Type.Optional(
            Type.Object({
              id: Type.Optional(Id),
              name: Type.Optional(Name),
              domain: Type.Optional(DomainRef),
            }),
          ),
          domain: Type.Optional(DomainRef),
          system: Type.Optional(Type.Object({ all: Type.Boolean() })),
        }),
      ]),
    ),
  }),
});
export type AuthRequest = Static<typeof AuthRequest>;

const Description = Type.Union([Type.String({ maxLength: 65_535 }), Type.Null()]);
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 255, pattern: '^[^,/]*$' }), { maxItems: 80 });
/** Keystone keeps attributes it does not know ("extra") and returns them; so do we. */
const open = { additionalProperties: true } as const;

/** Keystone's domains are projects acting as domains: their names have a project's limit. */
const DomainName = Type.String({ minLength: 1, maxLength: 64 });
export const DomainCreate = Type.Object({
  domain: Type.Object(
    {
      name: DomainName,
      description: Type.Optional(Description),
      enabled: Type.Optional(Type.Boolean()),
      tags: Type.Optional(Tags),
      options: Type.Optional(Type.Object({})),
    },
    open,
  ),
});
export const DomainUpdate = Type.Object({
  domain: Type.Object(
    {
      name: Type.Optional(DomainName),
      description: Type.Optional(Description),
      enabled: Type.Optional(Type.Boolean()),
    },
    open,
  ),
});

export const ProjectCreate = Type.Object({
  project: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 64 }),
      domain_id: Type.Optional(Type.Union([Id, Type.Null()])),
      parent_id: Type.Optional(Type.Union([Id, Type.Null()])),
      description: Type.Optional(Description),
      enabled: Type.Optional(Type.Boolean()),
      is_domain: Type.Optional(Type.Boolean()),
      tags: Type.Optional(Tags),
      options: Type.Optional(Type.Object({})),
    },
    open,
  ),
});
export const ProjectUpdate = Type.Object({
  project: Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      description: Type.Optional(Description),
      enabled: Type.Optional(Type.Boolean()),
      tags: Type.Optional(Tags),
      options: Type.Optional(Type.Object({})),
      domain_id: Type.Optional(Id),
      parent_id: Type.Optional(Type.Union([Id, Type.Null()])),
      is_domain: Type.Optional(Type.Boolean()),
    },
    open,
  ),
});

const Password = Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]);
/** Keystone's user options; null removes an option, anything else is a 400. */
const OptionFlag = Type.Optional(Type.Union([Type.Boolean(), Type.Null()]));
const UserOptions = Type.Object(
  {
    ignore_change_password_upon_first_use: OptionFlag,
    ignore_password_expiry: OptionFlag,
    ignore_lockout_failure_attempts: OptionFlag,
    lock_password: OptionFlag,
    ignore_user_inactivity: OptionFlag,
    multi_factor_auth_enabled: OptionFlag,
    multi_factor_auth_rules: Type.Optional(
      Type.Union([
        Type.Array(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }), {
          uniqueItems: true,
        }),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);
export const UserCreate = Type.Object({
  user: Type.Object(
    {
      name: Name,
      domain_id: Type.Optional(Id),
      password: Type.Optional(Password),
      enabled: Type.Optional(Type.Boolean()),
      default_project_id: Type.Optional(Type.Union([Id, Type.Null()])),
      options: Type.Optional(UserOptions),
    },
    open,
  ),
});
export const UserUpdate = Type.Object({
  user: Type.Object(
    {
      name: Type.Optional(Name),
      password: Type.Optional(Password),
      enabled: Type.Optional(Type.Boolean()),
      default_project_id: Type.Optional(Type.Union([Id, Type.Null()])),
      options: Type.Optional(UserOptions),
      domain_id: Type.Optional(Id),
    },
    open,
  ),
});
export const PasswordChange = Type.Object({
  user: Type.Object({
    password: Type.String({ maxLength: 4096 }),
    original_password: Type.String({ maxLength: 4096 }),
  }),
});

export const GroupCreate = Type.Object({
  group: Type.Object(
    { name: Name, domain_id: Type.Optional(Id), description: Type.Optional(Description) },
    open,
  ),
});
export const GroupUpdate = Type.Object({
  group: Type.Object({ name: Type.Optional(Name), description: Type.Optional(Description) }, open),
});

export const RoleCreate = Type.Object({
  role: Type.Object(
    {
      name: Name,
      domain_id: Type.Optional(Type.Union([Id, Type.Null()])),
      description: Type.Optional(Description),
      options: Type.Optional(Type.Object({})),
    },
    open,
  ),
});
export const RoleUpdate = Type.Object({
  role: Type.Object({ name: Type.Optional(Name), description: Type.Optional(Description) }, open),
});

export const RegionCreate = Type.Object({
  region: Type.Object(
    {
      id: Type.Optional(Id),
      description: Type.Optional(Description),
      parent_region_id: Type.Optional(Type.Union([Id, Type.Null()])),
    },
    open,
  ),
});
export const ServiceCreate = Type.Object({
  service: Type.Object(
    {
      type: Type.String({ minLength: 1, maxLength: 255 }),
      name: Type.Optional(Name),
      description: Type.Optional(Description),
      enabled: Type.Optional(Type.Boolean()),
    },
    open,
  ),
});
export const ServiceUpdate = Type.Object({
  service: Type.Object(
    {
      type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      name: Type.Optional(Name),
      description: Type.Optional(Description),
      enabled: Type.Optional(Type.Boolean()),
    },
    open,
  ),
});
export const EndpointCreate = Type.Object({
  endpoint: Type.Object(
    {
      service_id: Id,
      interface: Type.Union([Type.Literal('public'), Type.Literal('internal'), Type.Literal('admin')]),
      url: Type.String({ minLength: 1, maxLength: 2048 }),
      region_id: Type.Optional(Type.Union([Id, Type.Null()])),
      region: Type.Optional(Type.Union([Id, Type.Null()])),
      enabled: Type.Optional(Type.Boolean()),
    },
    open,
  ),
});
export const EndpointUpdate = Type.Object({
  endpoint: Type.Object(
    {
      service_id: Type.Optional(Id),
      interface: Type.Optional(
        Type.Union([Type.Literal('public'), Type.Literal('internal'), Type.Literal('admin')]),
      ),
      url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
      region_id: Type.Optional(Type.Union([Id, Type.Null()])),
      region: Type.Optional(Type.Union([Id, Type.Null()])),
      enabled: Type.Optional(Type.Boolean()),
    },
    open,
  ),
});
