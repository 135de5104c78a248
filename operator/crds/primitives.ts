// Building blocks of the CRD schemas. Everything here produces a Kubernetes *structural*
// schema: every node has a type, there is no anyOf/oneOf/const/patternProperties (TypeBox
// unions and records produce those, so enums and maps are written as plain schemas here), and
// every string and list has a bound, because the apiserver refuses CEL rules whose estimated
// cost over unbounded values exceeds its budget.
import { type TObject, type TProperties, type TSchema, type TUnsafe, Type } from '@sinclair/typebox';

/** A CEL rule the apiserver checks on create and update (x-kubernetes-validations). */
export interface CelRule {
  rule: string;
  message: string;
}

export const VALIDATIONS = 'x-kubernetes-validations';

/** Returns the schema with the rules appended to its x-kubernetes-validations. */
export function withRules<T extends TSchema>(schema: T, ...rules: CelRule[]): T {
  const existing = (schema as Record<string, unknown>)[VALIDATIONS] as CelRule[] | undefined;
  // The spread keeps TypeBox's symbol keys, so Type.Optional and Static still see the schema.
  return { ...schema, [VALIDATIONS]: [...(existing ?? []), ...rules] };
}

export const Str = (maxLength: number, options: Record<string, unknown> = {}) =>
  Type.String({ maxLength, ...options });

/** An OpenStack name or a free-form short value. */
export const Name = (description?: string) => Str(255, description ? { description } : {});
export const Description = () => Str(255, { description: 'OpenStack description.' });
/** An OpenStack ID: a UUID, or 32 hex digits for Keystone. */
export const Id = (description?: string) =>
  Str(64, { minLength: 1, ...(description ? { description } : {}) });

/** The name of another object in the same namespace this one depends on. */
export const Ref = (description: string) => Str(253, { minLength: 1, description });

export function StringEnum<const V extends string>(
  values: readonly V[],
  options: Record<string, unknown> = {},
): TUnsafe<V> {
  return Type.Unsafe<V>({ type: 'string', enum: [...values], ...options });
}

/** A map of string to string (object with additionalProperties), bounded in size. */
export const StringMap = (description: string) =>
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    description,
    maxProperties: 64,
    additionalProperties: { type: 'string', maxLength: 255 },
  });

export const Tags = () =>
  Type.Array(Str(255, { minLength: 1 }), {
    maxItems: 64,
    description: 'OpenStack tags.',
    'x-kubernetes-list-type': 'set',
  });

export const IPAddress = (description: string) =>
  withRules(Str(45, { description }), { rule: 'isIP(self)', message: 'must be an IPv4 or IPv6 address' });

export const Cidr = (description: string) =>
  withRules(Str(49, { description }), {
    rule: 'isCIDR(self) && cidr(self) == cidr(self).masked()',
    message: 'must be a network address in CIDR notation, such as 10.0.0.0/24',
  });

export const Timestamp = (description: string) => Type.String({ format: 'date-time', description });

/** A list of small values, described once. */
export const List = <T extends TSchema>(items: T, maxItems: number, description: string) =>
  Type.Array(items, { maxItems, description });

/**
 * An object whose listed properties cannot change once set. Each gets the transition rule
 * `self == oldSelf`; an optional one also a rule on the object, so that it can neither be
 * added nor removed later (a rule on the field itself only runs when both sides have it).
 */
export function ObjectWithImmutable<P extends TProperties>(
  properties: P,
  immutable: readonly (keyof P & string)[],
  options: Record<string, unknown> = {},
): TObject<P> {
  const withTransitions = { ...properties };
  for (const field of immutable) {
    withTransitions[field] = withRules(properties[field]!, {
      rule: 'self == oldSelf',
      message: `${field} is immutable`,
    });
  }
  const object = Type.Object(withTransitions, options);
  const optional = immutable.filter((field) => !object.required?.includes(field));
  if (optional.length === 0) return object;
  return withRules(
    object,
    ...optional.map((field) => ({
      rule: `has(self.${field}) == has(oldSelf.${field})`,
      message: `${field} is immutable`,
    })),
  );
}
