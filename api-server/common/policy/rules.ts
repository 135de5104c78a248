// oslo.policy's rule language, parsed into a tree.
//
// The language as deployers write it in policy.yaml, and as every OpenStack service writes its
// defaults:
//
//   @  !                              always / never
//   role:admin                        the caller holds the role (case-insensitive)
//   rule:admin_required               another named rule
//   user_id:%(target.user.id)s        a credential attribute equals a value from the target
//   system_scope:all                  ... or a literal
//   'member':%(target.role.name)s     a Python literal (quoted string, True, False, None, integer)
//                                     equals a value from the target
//   not A, A and B, A or B, ( )       with `not` binding tighter than `and`, and `and` than `or`
//
// The empty string means "always". Checks are separated by whitespace, exactly as oslo splits
// them, so a check never contains a space, and parentheses at a check's edges are grouping, not
// part of the check. Where oslo would log and silently deny (an unknown token, a dangling
// operator), this parser throws PolicySyntaxError instead: a policy that cannot be read is a
// configuration error to fix, not a rule to guess at.

/** A piece of a value: literal text, or a `%(key)s` substitution looked up in the target. */
export type TemplatePart = { readonly text: string } | { readonly targetKey: string };

/** The right-hand side of a check. */
export type CheckValue =
  /** Written quoted ('member'): the text, with no substitution. */
  | { readonly kind: 'literal'; readonly value: string }
  /** Written bare: literal text mixed with `%(key)s` substitutions (usually one or the other). */
  | { readonly kind: 'template'; readonly parts: readonly TemplatePart[] };

/** The left-hand side of a generic check. */
export type CheckSubject =
  /** A dotted path into the credentials (user_id, token.project.domain.id, roles, ...). */
  | { readonly kind: 'credential'; readonly path: readonly string[] }
  /**
   * A Python literal, kept as the text Python's str() gives it ('True', 'None', 'member'), since
   * that is what the right-hand side is compared against.
   */
  | { readonly kind: 'literal'; readonly value: string; readonly source: string };

export type Rule =
  | { readonly type: 'always' }
  | { readonly type: 'never' }
  | { readonly type: 'not'; readonly rule: Rule }
  | { readonly type: 'and'; readonly rules: readonly Rule[] }
  | { readonly type: 'or'; readonly rules: readonly Rule[] }
  | { readonly type: 'rule'; readonly name: string }
  | { readonly type: 'role'; readonly role: CheckValue }
  | { readonly type: 'match'; readonly subject: CheckSubject; readonly value: CheckValue };

export class PolicySyntaxError extends Error {
  constructor(
    readonly reason: string,
    /** The rule text being parsed. */
    readonly text: string,
    /** 0-based offset into `text` where the problem is. */
    readonly position: number,
  ) {
    super(`${reason} at position ${position} in policy rule ${JSON.stringify(text)}`);
    this.name = 'PolicySyntaxError';
  }
}

const ALWAYS: Rule = { type: 'always' };
const NEVER: Rule = { type: 'never' };

type Token =
  | { readonly kind: '(' | ')' | 'and' | 'or' | 'not'; readonly position: number }
  | { readonly kind: 'check'; readonly rule: Rule; readonly position: number };

/** Parses a rule written in the policy language. The empty string is "always". */
export function parseRule(text: string): Rule {
  if (text === '') return ALWAYS;
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new PolicySyntaxError('a rule of only whitespace', text, 0);
  const parser = new Parser(text, tokens);
  return parser.parseWhole();
}

/**
 * Parses the legacy list-of-lists form (`[["role:admin"], ["project_id:%(project_id)s",
 * "role:member"]]`): the inner lists are and-ed, the outer list or-ed, and each string is a
 * single check, without operators. `[]` is "always"; a list of only empty lists is "never".
 */
export function parseRuleList(list: unknown): Rule {
  if (!Array.isArray(list))
    throw new PolicySyntaxError('expected a list of lists of checks', String(list), 0);
  if (list.length === 0) return ALWAYS;
  const alternatives: Rule[] = [];
  for (const entry of list) {
    const checks = typeof entry === 'string' ? [entry] : entry;
    if (!Array.isArray(checks)) {
      throw new PolicySyntaxError('expected a list of check strings', JSON.stringify(entry), 0);
    }
    if (checks.length === 0) continue;
    const conjunction = checks.map((check) => {
      if (typeof check !== 'string') {
        throw new PolicySyntaxError('expected a check string', JSON.stringify(check), 0);
      }
      return parseCheck(check, check, 0);
    });
    alternatives.push(conjunction.length === 1 ? conjunction[0]! : { type: 'and', rules: conjunction });
  }
  if (alternatives.length === 0) return NEVER;
  return alternatives.length === 1 ? alternatives[0]! : { type: 'or', rules: alternatives };
}

/**
 * Writes a rule back in the policy language, with only the parentheses precedence needs.
 * parseRule(formatRule(rule)) gives back an equivalent rule.
 */
export function formatRule(rule: Rule): string {
  return format(rule, 0);
}

// Binding strength: or < and < not < a single check.
function format(rule: Rule, context: number): string {
  switch (rule.type) {
    case 'always':
      return '@';
    case 'never':
      return '!';
    case 'rule':
      return `rule:${rule.name}`;
    case 'role':
      return `role:${formatValue(rule.role)}`;
    case 'match':
      return `${rule.subject.kind === 'credential' ? rule.subject.path.join('.') : rule.subject.source}:${formatValue(rule.value)}`;
    case 'not':
      return `not ${format(rule.rule, 2)}`;
    case 'and': {
      const text = rule.rules.map((inner) => format(inner, 2)).join(' and ');
      return context > 1 ? `(${text})` : text;
    }
    case 'or': {
      const text = rule.rules.map((inner) => format(inner, 1)).join(' or ');
      return context > 0 ? `(${text})` : text;
    }
  }
}

function formatValue(value: CheckValue): string {
  if (value.kind === 'literal') return `'${value.value}'`;
  return value.parts
    .map((part) => ('text' in part ? part.text.replaceAll('%', '%%') : `%(${part.targetKey})s`))
    .join('');
}

// Splits on whitespace as oslo does, then peels grouping parentheses off each piece's edges.
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const piece of text.matchAll(/\S+/g)) {
    const word = piece[0];
    const start = piece.index;
    let first = 0;
    while (first < word.length && word[first] === '(') tokens.push({ kind: '(', position: start + first++ });
    let end = word.length;
    while (end > first && word[end - 1] === ')') end--;
    const core = word.slice(first, end);
    if (core !== '') {
      const keyword = core.toLowerCase();
      if (keyword === 'and' || keyword === 'or' || keyword === 'not') {
        tokens.push({ kind: keyword, position: start + first });
      } else {
        tokens.push({ kind: 'check', rule: parseCheck(core, text, start + first), position: start + first });
      }
    }
    for (let index = end; index < word.length; index++) tokens.push({ kind: ')', position: start + index });
  }
  return tokens;
}

// or_expr  := and_expr ('or' and_expr)*
// and_expr := not_expr ('and' not_expr)*
// not_expr := 'not' not_expr | '(' or_expr ')' | check
class Parser {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseWhole(): Rule {
    const rule = this.parseOr();
    const extra = this.tokens[this.index];
    if (extra) {
      throw new PolicySyntaxError(
        extra.kind === ')' ? 'unbalanced ")"' : `expected "and" or "or" before ${describe(extra)}`,
        this.text,
        extra.position,
      );
    }
    return rule;
  }

  private parseOr(): Rule {
    const alternatives = [this.parseAnd()];
    while (this.peek()?.kind === 'or') {
      this.index++;
      alternatives.push(this.parseAnd());
    }
    return alternatives.length === 1 ? alternatives[0]! : { type: 'or', rules: alternatives };
  }

  private parseAnd(): Rule {
    const conjunction = [this.parseNot()];
    while (this.peek()?.kind === 'and') {
      this.index++;
      conjunction.push(this.parseNot());
    }
    return conjunction.length === 1 ? conjunction[0]! : { type: 'and', rules: conjunction };
  }

  private parseNot(): Rule {
    const token = this.tokens[this.index++];
    if (!token) {
      const last = this.tokens[this.tokens.length - 1]!;
      throw new PolicySyntaxError(`the rule ends after ${describe(last)}`, this.text, this.text.length);
    }
    switch (token.kind) {
      case 'check':
        return token.rule;
      case 'not':
        return { type: 'not', rule: this.parseNot() };
      case '(': {
        const inner = this.parseOr();
        const closing = this.tokens[this.index++];
        if (closing?.kind !== ')') {
          throw new PolicySyntaxError(
            closing ? `expected ")" before ${describe(closing)}` : '"(" is never closed',
            this.text,
            closing ? closing.position : token.position,
          );
        }
        return inner;
      }
      default:
        throw new PolicySyntaxError(`expected a check, found ${describe(token)}`, this.text, token.position);
    }
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }
}

function describe(token: Token): string {
  return token.kind === 'check' ? `the check "${formatRule(token.rule)}"` : `"${token.kind}"`;
}

/** One check without operators: `@`, `!`, `rule:x`, `role:x` or `subject:value`. */
function parseCheck(check: string, text: string, position: number): Rule {
  if (check === '@') return ALWAYS;
  if (check === '!') return NEVER;
  if (isQuoted(check)) {
    throw new PolicySyntaxError(
      `a quoted string (${check}) is not a check; compare it with a value, as in ${check}:%(target.name)s`,
      text,
      position,
    );
  }
  const colon = check.indexOf(':');
  if (colon < 0) {
    throw new PolicySyntaxError(
      `"${check}" is not a check (expected kind:value, "@" or "!")`,
      text,
      position,
    );
  }
  const kind = check.slice(0, colon);
  const match = check.slice(colon + 1);
  const matchPosition = position + colon + 1;
  if (kind === '') throw new PolicySyntaxError(`the check "${check}" has nothing before ":"`, text, position);
  if (match === '')
    throw new PolicySyntaxError(`the check "${check}" has nothing after ":"`, text, matchPosition);
  switch (kind) {
    case 'rule':
      return { type: 'rule', name: match };
    case 'role':
      return { type: 'role', role: parseValue(match, text, matchPosition) };
    case 'http':
    case 'https':
      // oslo posts to a remote server here; a per-request network call has no place in this
      // engine, and accepting the check only to deny it would hide the misconfiguration.
      throw new PolicySyntaxError(`remote "${kind}:" checks are not supported`, text, position);
    default:
      return { type: 'match', subject: parseSubject(kind), value: parseValue(match, text, matchPosition) };
  }
}

function isQuoted(word: string): boolean {
  return word.length >= 2 && (word[0] === "'" || word[0] === '"') && word[word.length - 1] === word[0];
}

// oslo asks Python whether the left side is a literal (ast.literal_eval) and otherwise treats it
// as a credential path. The literals that fit in a whitespace-free check are these.
function parseSubject(kind: string): CheckSubject {
  if (kind === 'True' || kind === 'False' || kind === 'None') {
    return { kind: 'literal', value: kind, source: kind };
  }
  if (isQuoted(kind)) return { kind: 'literal', value: kind.slice(1, -1), source: kind };
  if (/^-?(0|[1-9][0-9]*)$/.test(kind))
    return { kind: 'literal', value: BigInt(kind).toString(), source: kind };
  return { kind: 'credential', path: kind.split('.') };
}

/**
 * The right side: quoted text is taken as it is (oslo's documented `<variable>:'xpto2035abc'`);
 * bare text is a Python %-format string over the target, of which only `%(key)s` and `%%` are
 * meaningful in a policy.
 */
function parseValue(match: string, text: string, position: number): CheckValue {
  if (isQuoted(match)) return { kind: 'literal', value: match.slice(1, -1) };
  const parts: TemplatePart[] = [];
  let literal = '';
  let index = 0;
  while (index < match.length) {
    const percent = match.indexOf('%', index);
    if (percent < 0) {
      literal += match.slice(index);
      break;
    }
    literal += match.slice(index, percent);
    if (match[percent + 1] === '%') {
      literal += '%';
      index = percent + 2;
      continue;
    }
    const close = match.indexOf(')', percent);
    if (match[percent + 1] !== '(' || close < 0 || match[close + 1] !== 's') {
      throw new PolicySyntaxError(
        'only %(name)s substitutions (and %% for a percent sign) may appear in a value',
        text,
        position + percent,
      );
    }
    const targetKey = match.slice(percent + 2, close);
    if (targetKey === '') throw new PolicySyntaxError('empty substitution %()s', text, position + percent);
    if (literal !== '') parts.push({ text: literal });
    literal = '';
    parts.push({ targetKey });
    index = close + 2;
  }
  if (literal !== '') parts.push({ text: literal });
  return { kind: 'template', parts };
}

/** Names of the rules a rule refers to with `rule:`, for linking and cycle detection. */
export function referencedRuleNames(rule: Rule): string[] {
  const names: string[] = [];
  const visit = (node: Rule): void => {
    if (node.type === 'rule') names.push(node.name);
    else if (node.type === 'not') visit(node.rule);
    else if (node.type === 'and' || node.type === 'or') node.rules.forEach(visit);
  };
  visit(rule);
  return names;
}
