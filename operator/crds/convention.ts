// The spec and status every OpenStack kind shares (docs/operator.md, "Conventions"). A kind
// contributes three schemas: `resource` (what to create), `filter` (what to import) and the
// observed `status.resource`; this module wraps them in the common envelope and its rules.
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { Id, Ref, Str, StringEnum, Timestamp, withRules } from './primitives.js';

export const GROUP = 'openstack.overcast.dev';
export const VERSION = 'v1alpha1';
export const CATEGORY = 'openstack';

export const MANAGEMENT_POLICIES = ['managed', 'unmanaged'] as const;
export const ON_DELETE = ['delete', 'detach'] as const;
export const CONDITION_TYPES = ['Available', 'Progressing'] as const;
/** Each reason tells the reader what to do next (nothing, wait, fix the spec, look at the cloud). */
export const CONDITION_REASONS = [
  'Success',
  'Progressing',
  'WaitingForDependency',
  'TransientError',
  'InvalidConfiguration',
  'UnrecoverableError',
] as const;

export const CloudCredentialsRef = Type.Object(
  {
    secretName: Ref('Secret in this namespace whose `clouds.yaml` key holds the credentials.'),
    cloudName: Str(253, { minLength: 1, description: 'Entry of clouds.yaml to use.' }),
  },
  { description: 'Credentials used to reach the cloud.' },
);

/** Go-style duration: 10m, 1h30m; 0s turns drift detection off for this object. */
export const ResyncPeriod = Str(32, {
  pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
  description: 'How often to compare with the cloud and correct drift (e.g. 10m); 0s disables it.',
});

export const ManagedOptions = Type.Object(
  {
    onDelete: StringEnum(ON_DELETE, {
      default: 'delete',
      description: 'On deletion of this object: delete the OpenStack resource, or leave it (detach).',
    }),
  },
  { description: 'Options for managed objects.' },
);

function importSchema<F extends TObject>(filter: F) {
  return withRules(
    Type.Object(
      {
        id: Type.Optional(Id('ID of an existing OpenStack resource.')),
        filter: Type.Optional({
          ...filter,
          minProperties: 1,
          description: 'Fields that must match exactly one existing resource.',
        }),
      },
      { description: 'An existing OpenStack resource to use instead of creating one.' },
    ),
    { rule: 'has(self.id) != has(self.filter)', message: 'import must have exactly one of id or filter' },
    { rule: 'self == oldSelf', message: 'import is immutable' },
  );
}

/**
 * The spec invariants, checked by the apiserver before anything reaches the cloud. `import` is a
 * CEL reserved word, so the rules name it `__import__` (the apiserver's escaping).
 */
export const SPEC_RULES = [
  {
    rule: "self.managementPolicy == 'managed' ? has(self.resource) : true",
    message: 'resource must be specified when managementPolicy is managed',
  },
  {
    rule: "self.managementPolicy == 'managed' ? !has(self.__import__) : true",
    message: 'import may not be specified when managementPolicy is managed',
  },
  {
    rule: "self.managementPolicy == 'unmanaged' ? has(self.__import__) : true",
    message: 'import must be specified when managementPolicy is unmanaged',
  },
  {
    rule: "self.managementPolicy == 'unmanaged' ? !has(self.resource) : true",
    message: 'resource may not be specified when managementPolicy is unmanaged',
  },
  {
    rule: "has(self.managedOptions) ? self.managementPolicy == 'managed' : true",
    message: 'managedOptions may only be specified when managementPolicy is managed',
  },
];

export function specSchema<R extends TObject, F extends TObject>(resource: R, filter: F) {
  return withRules(
    Type.Object({
      import: Type.Optional(importSchema(filter)),
      resource: Type.Optional(resource),
      // Optional with a default rather than required: the apiserver fills it in before any rule
      // runs, and clients that validate against the published schema (kubectl with a List)
      // must not demand what the user may leave out.
      managementPolicy: Type.Optional(
        withRules(
          StringEnum(MANAGEMENT_POLICIES, {
            default: 'managed',
            description: 'managed: create, update and delete the resource; unmanaged: only observe it.',
          }),
          { rule: 'self == oldSelf', message: 'managementPolicy is immutable' },
        ),
      ),
      managedOptions: Type.Optional(ManagedOptions),
      cloudCredentialsRef: CloudCredentialsRef,
      resyncPeriod: Type.Optional(ResyncPeriod),
    }),
    ...SPEC_RULES,
  );
}

export const Condition = Type.Object({
  type: StringEnum(CONDITION_TYPES),
  status: StringEnum(['True', 'False', 'Unknown'] as const),
  reason: StringEnum(CONDITION_REASONS),
  message: Str(32768),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
  lastTransitionTime: Timestamp('When the status last changed.'),
});

export function statusSchema<O extends TObject>(observed: O) {
  return Type.Object({
    id: Type.Optional(Id('ID of the OpenStack resource, as `openstack ... show` takes it.')),
    resource: Type.Optional({ ...observed, description: 'The resource as last observed in the cloud.' }),
    lastSyncTime: Type.Optional(Timestamp('When the resource was last read from the cloud.')),
    conditions: Type.Optional(
      Type.Array(Condition, {
        maxItems: 8,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
  });
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
}

/** One OpenStack kind: its names and the three schemas it contributes. */
export interface OpenStackKind {
  kind: string;
  plural: string;
  shortNames: string[];
  resource: TObject;
  filter: TObject;
  observed: TObject;
  /** Shown between Available and Message, such as a subnet's CIDR. */
  columns?: PrinterColumn[];
}

export function printerColumns(kind: OpenStackKind): PrinterColumn[] {
  return [
    { name: 'ID', type: 'string', jsonPath: '.status.id' },
    { name: 'Available', type: 'string', jsonPath: ".status.conditions[?(@.type=='Available')].status" },
    ...(kind.columns ?? []),
    { name: 'Message', type: 'string', jsonPath: ".status.conditions[?(@.type=='Progressing')].message" },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ];
}

/** A kind's spec and status as TypeScript types, such as `KindSpec<typeof Subnet>`. */
export type KindSpec<K extends OpenStackKind> = Static<
  ReturnType<typeof specSchema<K['resource'], K['filter']>>
>;
export type KindStatus<K extends OpenStackKind> = Static<ReturnType<typeof statusSchema<K['observed']>>>;
