// Reading request bodies as Neutron's API layer does: the resource wrapped in its singular
// name, unknown attributes refused, each value converted and checked with Neutron's wording
// ("Invalid input for name. Reason: ..."), read-only attributes refused on update.
import { BadRequest } from '../../common/errors.js';

export type Attributes = Record<string, unknown>;

/** The object under `resource` in the body, with only `allowed` attributes (400 otherwise). */
export function resourceBody(body: unknown, resource: string, allowed: ReadonlySet<string>): Attributes {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('Resource body required');
  }
  const inner = (body as Attributes)[resource];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    throw new BadRequest(`Unable to find '${resource}' in request body`);
  }
  const unknown = Object.keys(inner).filter((name) => !allowed.has(name));
  if (unknown.length > 0) {
    throw new BadRequest(`Unrecognized attribute(s) '${unknown.sort().join(', ')}'`);
  }
  return inner as Attributes;
}

/**
 * The resources a create body asks for: one (`{"port": {...}}`) or, in Neutron's bulk form,
 * several at once (`{"ports": [{...}, ...]}`), each checked as `resourceBody` checks one.
 * `bulk` says which form came, which is the form of the answer.
 */
export function createBodies(
  body: unknown,
  resource: string,
  collection: string,
  allowed: ReadonlySet<string>,
): { bulk: boolean; items: Attributes[] } {
  const many = typeof body === 'object' && body !== null ? (body as Attributes)[collection] : undefined;
  if (many === undefined) return { bulk: false, items: [resourceBody(body, resource, allowed)] };
  if (!Array.isArray(many) || many.length === 0) throw new BadRequest('Resources required');
  return { bulk: true, items: many.map((item) => resourceBody({ [resource]: item }, resource, allowed)) };
}

function invalid(name: string, reason: string): BadRequest {
  return new BadRequest(`Invalid input for ${name}. Reason: ${reason}.`);
}

export function readString(attributes: Attributes, name: string, maxLength = 255): string | undefined {
  const value = attributes[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(name, `'${String(value)}' is not a valid string`);
  if (value.length > maxLength) throw invalid(name, `'${value}' exceeds maximum length of ${maxLength}`);
  return value;
}

/** A string or explicit null; undefined when absent. */
export function readNullableString(
  attributes: Attributes,
  name: string,
  maxLength = 255,
): string | null | undefined {
  if (attributes[name] === null) return null;
  return readString(attributes, name, maxLength);
}

/** Neutron's convert_to_boolean: true/false, also "true"/"false" and 0/1. */
export function readBoolean(attributes: Attributes, name: string): boolean | undefined {
  const value = attributes[name];
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True' || value === 1 || value === '1') return true;
  if (value === 'false' || value === 'False' || value === 0 || value === '0') return false;
  throw invalid(name, `'${String(value)}' cannot be converted to boolean`);
}

export function readInteger(attributes: Attributes, name: string): number | null | undefined {
  const value = attributes[name];
  if (value === undefined || value === null) return value as null | undefined;
  const number = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw invalid(name, `'${String(value)}' is not an integer`);
  }
  return number;
}

export function readList(attributes: Attributes, name: string): unknown[] | undefined {
  const value = attributes[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalid(name, `'${JSON.stringify(value)}' is not a list`);
  return value;
}

export function readObject(attributes: Attributes, name: string): Attributes | undefined {
  const value = attributes[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(name, `'${JSON.stringify(value)}' is not a dictionary`);
  }
  return value as Attributes;
}

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

export function readUuid(attributes: Attributes, name: string): string | undefined {
  const value = attributes[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !UUID.test(value))
    throw invalid(name, `'${String(value)}' is not a valid UUID`);
  return value;
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Refuses attributes that an update may not change. */
export function refuseReadOnly(attributes: Attributes, names: readonly string[]): void {
  for (const name of names) {
    if (attributes[name] !== undefined) throw new BadRequest(`Cannot update read-only attribute ${name}`);
  }
}

/**
 * The project a new resource belongs to: the caller's, or (admins only) the one the body
 * names with project_id or tenant_id, which must then agree.
 */
export function owningProject(
  attributes: Attributes,
  callerProject: string | undefined,
  isAdmin: boolean,
): string {
  const projectId = readString(attributes, 'project_id', 64);
  const tenantId = readString(attributes, 'tenant_id', 64);
  if (projectId !== undefined && tenantId !== undefined && projectId !== tenantId) {
    throw new BadRequest("'project_id' and 'tenant_id' do not match");
  }
  const requested = projectId ?? tenantId;
  if (requested !== undefined && requested !== callerProject && !isAdmin) {
    throw new BadRequest(
      "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges",
    );
  }
  const project = requested ?? callerProject;
  if (!project) throw new BadRequest("'project_id' is required: use a project-scoped token");
  return project;
}
