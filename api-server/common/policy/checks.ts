// What each check in a rule means, compiled once into plain functions so that evaluating a rule
// per request is a few property reads and string comparisons.
//
// The comparisons follow oslo.policy exactly, because the default rules of every service are
// written against them:
//
// - A value from the target or the credentials is compared as the text Python's str() would give
//   it: true is "True", null is "None", 1 is "1". Rules depend on this: `not domain_id:None`
//   means "the token is domain-scoped", and `None:%(target.role.domain_id)s` means "the role is
//   global". So null is a value ("None"), not an absence.
// - A key missing from the target (absent or undefined) makes the check false, as Python's
//   KeyError does. Objects and arrays never equal anything (Python would compare their repr,
//   which no rule means to do).
// - A credential path that reaches a list matches if any element matches (`roles:admin`).
// - role:X compares case-insensitively with the credential's roles.
import type { CheckSubject, CheckValue, Rule } from './rules.js';

/** One enforcement's inputs, in oslo's shapes. */
export interface CheckContext {
  /** The policy target: top-level keys (`user_id`) and nested objects (`target.user.id`). */
  readonly target: Readonly<Record<string, unknown>>;
  /** oslo-style credentials: user_id, project_id, domain_id, system_scope, roles, token, ... */
  readonly credentials: Readonly<Record<string, unknown>>;
  /** The credentials' roles, lower-cased, for role checks. */
  readonly roles: ReadonlySet<string>;
}

export type CompiledCheck = (context: CheckContext) => boolean;

/**
 * Compiles a rule. `resolveRule` returns the compiled form of a named rule, or undefined when
 * no rule has that name, in which case `rule:name` denies (oslo fails closed the same way).
 * The caller guarantees that named rules do not refer to themselves, directly or not.
 */
export function compileRule(
  rule: Rule,
  resolveRule: (name: string) => CompiledCheck | undefined,
): CompiledCheck {
  switch (rule.type) {
    case 'always':
      return () => true;
    case 'never':
      return () => false;
    case 'rule':
      return resolveRule(rule.name) ?? (() => false);
    case 'not': {
      const inner = compileRule(rule.rule, resolveRule);
      return (context) => !inner(context);
    }
    case 'and': {
      const inner = rule.rules.map((each) => compileRule(each, resolveRule));
      return (context) => inner.every((check) => check(context));
    }
    case 'or': {
      const inner = rule.rules.map((each) => compileRule(each, resolveRule));
      return (context) => inner.some((check) => check(context));
    }
    case 'role': {
      const role = compileValue(rule.role);
      return (context) => {
        const name = role(context.target);
        return name !== undefined && context.roles.has(name.toLowerCase());
      };
    }
    case 'match':
      return compileMatch(rule.subject, compileValue(rule.value));
  }
}

/** The text of a value (after substitution), or undefined when the target lacks a key. */
type CompiledValue = (target: Readonly<Record<string, unknown>>) => string | undefined;

function compileValue(value: CheckValue): CompiledValue {
  if (value.kind === 'literal') {
    const text = value.value;
    return () => text;
  }
  const parts = value.parts;
  if (parts.length === 1) {
    const only = parts[0]!;
    if ('text' in only) {
      const text = only.text;
      return () => text;
    }
    const key = only.targetKey;
    return (target) => pythonText(lookUpTarget(target, key));
  }
  return (target) => {
    let text = '';
    for (const part of parts) {
      if ('text' in part) {
        text += part.text;
        continue;
      }
      const substituted = pythonText(lookUpTarget(target, part.targetKey));
      if (substituted === undefined) return undefined;
      text += substituted;
    }
    return text;
  };
}

function compileMatch(subject: CheckSubject, value: CompiledValue): CompiledCheck {
  if (subject.kind === 'literal') {
    const literal = subject.value;
    return (context) => value(context.target) === literal;
  }
  const path = subject.path;
  return (context) => {
    const expected = value(context.target);
    return expected !== undefined && credentialMatches(context.credentials, path, 0, expected);
  };
}

// oslo's _find_in_dict: walk the path, fanning out over lists, compare the leaf's str().
function credentialMatches(
  value: unknown,
  path: readonly string[],
  index: number,
  expected: string,
): boolean {
  if (index === path.length) return pythonText(value) === expected;
  if (!isRecord(value)) return false;
  const key = path[index]!;
  if (!Object.hasOwn(value, key)) return false;
  const next = value[key];
  if (Array.isArray(next))
    return next.some((element) => credentialMatches(element, path, index + 1, expected));
  return credentialMatches(next, path, index + 1, expected);
}

/**
 * A `%(key)s` lookup. Keystone hands oslo a flattened dict whose keys are dotted paths
 * ("target.user.id"); callers here may pass either that or nested objects, so an exact key is
 * tried first and then the dotted path is walked. Only own properties count, so a key like
 * "constructor" can never reach into Object.prototype.
 */
export function lookUpTarget(target: Readonly<Record<string, unknown>>, key: string): unknown {
  if (Object.hasOwn(target, key)) return target[key];
  let current: unknown = target;
  for (const segment of key.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/** The text Python's str() gives a scalar; undefined for what no rule can sensibly compare. */
export function pythonText(value: unknown): string | undefined {
  if (value === null) return 'None';
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'bigint':
      return value.toString();
    default:
      return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
