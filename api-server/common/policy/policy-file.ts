// A deployer's policy file, in oslo's format: a YAML (or JSON, which YAML reads too) mapping of
// rule name to rule, e.g.
//
//   "identity:create_user": "rule:admin_required"
//   "is_domain_manager": "role:domain-manager"
//
// Rules may also be in the legacy list-of-lists form. Every rule is parsed here, so a mistake is
// reported at startup with the file and the rule's name, not at the first request it governs.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { formatRule, PolicySyntaxError, parseRule, parseRuleList } from './rules.js';

export class PolicyFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'PolicyFileError';
  }
}

/** Reads a policy file into rule name → rule text (list-of-lists rules rewritten as text). */
export function loadPolicyFile(path: string): Record<string, string> {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyFileError(path, `cannot be read (${(error as Error).message})`);
  }
  return parsePolicyDocument(source, path);
}

/** The same as loadPolicyFile, for text already in hand; `path` only names it in errors. */
export function parsePolicyDocument(source: string, path: string): Record<string, string> {
  let document: unknown;
  try {
    document = parseYaml(source, { uniqueKeys: true });
  } catch (error) {
    throw new PolicyFileError(path, `is not valid YAML or JSON (${(error as Error).message})`);
  }
  // An empty file, or one of only comments (as oslopolicy-sample-generator writes), overrides nothing.
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new PolicyFileError(path, 'must be a mapping of rule names to rules');
  }
  const rules: Record<string, string> = {};
  for (const [name, value] of Object.entries(document as Record<string, unknown>)) {
    try {
      if (typeof value === 'string') {
        parseRule(value);
        rules[name] = value;
      } else if (Array.isArray(value)) {
        rules[name] = formatRule(parseRuleList(value));
      } else {
        throw new PolicyFileError(
          path,
          `rule "${name}" must be a string (or a list of lists), not ${describe(value)}`,
        );
      }
    } catch (error) {
      if (error instanceof PolicySyntaxError)
        throw new PolicyFileError(path, `rule "${name}": ${error.message}`);
      throw error;
    }
  }
  return rules;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : typeof value;
}
