// The one policy engine of the api-server: every OpenStack service declares its default rules as
// data (`'identity:create_user': { rule: 'rule:admin_required', ... }`), the deployer may override
// any of them from a policy file, and route handlers ask `authorize(action, target, credentials)`
// before doing anything.
//
// What the caller must get right:
//
// - Credentials carry the roles the token grants on its scope *with implied roles already
//   expanded* (admin → manager → member → reader): `role:reader` checks for the name "reader" in
//   that list and nothing else, as in Keystone, where the token's roles are the effective ones.
// - The target is oslo's policy dict. Top-level keys are the request's path parameters
//   (`user_id`, `project_id`) and anything else the service puts at the top; the objects the
//   action is about go under `target` (`{ target: { user: { id, domain_id } } }`, matched by
//   `%(target.user.domain_id)s`). Leave out what is unknown: a missing key makes a check false,
//   while null means Python's None and *matches* a credential that is None (a project-scoped
//   token's domain_id), which the default rules rely on and guard against on purpose.
// - Scope types: an action may declare which token scopes it serves (system, domain, project).
//   A token of another scope is denied whatever the rule says, as oslo does with
//   enforce_scope=True, now the default everywhere. An override changes the rule, never the
//   scope types.
import { Forbidden } from '../errors.js';
import { type CheckContext, type CompiledCheck, compileRule } from './checks.js';
import { PolicySyntaxError, parseRule, type Rule, referencedRuleNames } from './rules.js';

export { loadPolicyFile, PolicyFileError } from './policy-file.js';

export type ScopeType = 'system' | 'domain' | 'project';

/** A default rule as a service declares it. */
export interface PolicyDefault {
  /** The check string, in oslo's policy language. */
  readonly rule: string;
  readonly description?: string;
  /** The token scopes the action serves; absent means any (generic rules, auth helpers). */
  readonly scopeTypes?: readonly ScopeType[];
  /** The API operations it protects ("GET /v3/users/{user_id}"), for documentation. */
  readonly operations?: readonly string[];
}

/** Actions and generic named rules (admin_required, owner, ...) share one namespace, as in oslo. */
export type PolicyDefaults = Readonly<Record<string, PolicyDefault>>;

/**
 * Who is asking: a validated token's subject and scope. Map from a token like this:
 * project-scoped → projectId (+ projectDomainId); domain-scoped → domainId; system-scoped →
 * systemScope: 'all'; unscoped → none of them.
 */
export interface Credentials {
  readonly userId: string;
  readonly userDomainId?: string;
  readonly projectId?: string;
  /** The domain of the project a project-scoped token is for (Keystone's token.project.domain.id). */
  readonly projectDomainId?: string;
  readonly domainId?: string;
  readonly systemScope?: 'all';
  /** Effective role names on the token's scope, implied roles included (see above). */
  readonly roles: readonly string[];
  /**
   * Whether the project is the cloud's admin project. oslo.context and Keystone treat every
   * project as the admin project when none is configured, so absent means true.
   */
  readonly isAdminProject?: boolean;
  /** Set when the token was issued for an application credential. */
  readonly appCredentialId?: string;
}

export interface PolicyEnforcerOptions {
  /**
   * The 403 message. Each service words it its own way; the default is Keystone's
   * "You are not authorized to perform the requested action: identity:create_user."
   */
  readonly deniedMessage?: (action: string) => string;
}

/** Thrown by authorize() when policy denies an action; a 403 in the service's error format. */
export class PolicyNotAuthorized extends Forbidden {
  constructor(
    readonly action: string,
    /** "scope": the token's scope is not among the action's scope types; "rule": the rule said no. */
    readonly reason: 'scope' | 'rule',
    message: string,
  ) {
    super(message);
  }
}

/**
 * An action nobody defined was enforced: a programming error (a typo in a route), surfaced loudly
 * instead of being allowed or quietly denied. It is not an ApiError, so the client sees a 500.
 */
export class PolicyNotRegistered extends Error {
  constructor(readonly action: string) {
    super(`Policy action "${action}" has no default and no override; it cannot be enforced`);
    this.name = 'PolicyNotRegistered';
  }
}

/** The rules themselves cannot be used: a syntax error or a rule that refers back to itself. */
export class PolicyDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyDefinitionError';
  }
}

interface Action {
  readonly check: CompiledCheck;
  readonly scopeTypes: readonly ScopeType[] | undefined;
}

export class PolicyEnforcer {
  private readonly texts = new Map<string, string>();
  private readonly actions = new Map<string, Action>();
  private readonly deniedMessage: (action: string) => string;
  /** Names that some rule refers to with `rule:` but nobody defines; those references deny. */
  readonly undefinedRuleReferences: readonly string[];

  /**
   * Parses and links every rule once. Throws PolicyDefinitionError naming the rule when one does
   * not parse or when rules refer to each other in a cycle.
   */
  constructor(
    defaults: PolicyDefaults,
    overrides: Readonly<Record<string, string>> = {},
    options: PolicyEnforcerOptions = {},
  ) {
    this.deniedMessage =
      options.deniedMessage ??
      ((action) => `You are not authorized to perform the requested action: ${action}.`);
    for (const [name, definition] of Object.entries(defaults)) this.texts.set(name, definition.rule);
    for (const [name, text] of Object.entries(overrides)) this.texts.set(name, text);

    const parsed = new Map<string, Rule>();
    for (const [name, text] of this.texts) {
      try {
        parsed.set(name, parseRule(text));
      } catch (error) {
        if (error instanceof PolicySyntaxError) {
          const source = Object.hasOwn(overrides, name) ? 'override' : 'default';
          throw new PolicyDefinitionError(`Policy rule "${name}" (${source}): ${error.message}`);
        }
        throw error;
      }
    }
    failOnCycles(parsed);

    const undefinedReferences = new Set<string>();
    const compiled = new Map<string, CompiledCheck>();
    const compileNamed = (name: string): CompiledCheck | undefined => {
      const done = compiled.get(name);
      if (done) return done;
      const rule = parsed.get(name);
      if (!rule) {
        undefinedReferences.add(name);
        return undefined;
      }
      const check = compileRule(rule, compileNamed);
      compiled.set(name, check);
      return check;
    };
    for (const name of parsed.keys()) {
      this.actions.set(name, {
        check: compileNamed(name)!,
        scopeTypes: Object.hasOwn(defaults, name) ? defaults[name]!.scopeTypes : undefined,
      });
    }
    this.undefinedRuleReferences = [...undefinedReferences].sort();
  }

  /**
   * Whether policy allows `credentials` to perform `action` on `target`. Throws
   * PolicyNotRegistered for an action that no default or override defines.
   */
  enforce(action: string, target: Readonly<Record<string, unknown>>, credentials: Credentials): boolean {
    return this.decide(action, target, credentials) === undefined;
  }

  /** Like enforce(), but throws PolicyNotAuthorized (a 403) naming the action when denied. */
  authorize(action: string, target: Readonly<Record<string, unknown>>, credentials: Credentials): void {
    const denial = this.decide(action, target, credentials);
    if (denial) throw new PolicyNotAuthorized(action, denial, this.deniedMessage(action));
  }

  /** Whether the action or named rule is defined (by a default or an override). */
  has(action: string): boolean {
    return this.actions.has(action);
  }

  /** The rule text in force for an action or named rule: the override if any, else the default. */
  ruleText(action: string): string | undefined {
    return this.texts.get(action);
  }

  /** Undefined when allowed, else why not. */
  private decide(
    action: string,
    target: Readonly<Record<string, unknown>>,
    credentials: Credentials,
  ): 'scope' | 'rule' | undefined {
    const entry = this.actions.get(action);
    if (!entry) throw new PolicyNotRegistered(action);
    if (entry.scopeTypes && !entry.scopeTypes.includes(tokenScope(credentials))) return 'scope';
    return entry.check(checkContext(target, credentials)) ? undefined : 'rule';
  }
}

/** oslo's reading of a token's scope: system, else domain, else project (unscoped counts as project). */
export function tokenScope(credentials: Credentials): ScopeType {
  if (credentials.systemScope === 'all') return 'system';
  if (credentials.domainId !== undefined) return 'domain';
  return 'project';
}

/**
 * The credentials as oslo.context's to_policy_values() and Keystone present them to checks.
 * Scope attributes a token lacks are None (null), not absent: rules such as `not domain_id:None`
 * depend on it. `token` mirrors the parts of Keystone's token body that rules read
 * (token.domain.id, token.project.domain.id, ...); a part the token lacks is absent.
 */
export function policyCredentials(credentials: Credentials): Record<string, unknown> {
  const token: Record<string, unknown> = {
    user: {
      id: credentials.userId,
      ...(credentials.userDomainId !== undefined && { domain: { id: credentials.userDomainId } }),
    },
  };
  if (credentials.projectId !== undefined) {
    token.project = {
      id: credentials.projectId,
      ...(credentials.projectDomainId !== undefined && { domain: { id: credentials.projectDomainId } }),
    };
  }
  if (credentials.domainId !== undefined) token.domain = { id: credentials.domainId };
  if (credentials.systemScope === 'all') token.system = { all: true };
  if (credentials.appCredentialId !== undefined) {
    token.application_credential = { id: credentials.appCredentialId };
  }
  return {
    user_id: credentials.userId,
    user_domain_id: credentials.userDomainId ?? null,
    project_id: credentials.projectId ?? null,
    project_domain_id: credentials.projectDomainId ?? null,
    domain_id: credentials.domainId ?? null,
    system_scope: credentials.systemScope ?? null,
    roles: [...credentials.roles],
    is_admin: false,
    is_admin_project: credentials.isAdminProject ?? true,
    token,
  };
}

function checkContext(target: Readonly<Record<string, unknown>>, credentials: Credentials): CheckContext {
  return {
    target,
    credentials: policyCredentials(credentials),
    roles: new Set(credentials.roles.map((role) => role.toLowerCase())),
  };
}

// Depth-first search over `rule:` references; a reference back onto the current path is a cycle.
function failOnCycles(rules: ReadonlyMap<string, Rule>): void {
  const finished = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (name: string): void => {
    if (finished.has(name)) return;
    if (onPath.has(name)) {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new PolicyDefinitionError(`Policy rules refer to each other in a cycle: ${cycle.join(' -> ')}`);
    }
    const rule = rules.get(name);
    if (!rule) return;
    path.push(name);
    onPath.add(name);
    for (const referenced of referencedRuleNames(rule)) visit(referenced);
    path.pop();
    onPath.delete(name);
    finished.add(name);
  };
  for (const name of rules.keys()) visit(name);
}
