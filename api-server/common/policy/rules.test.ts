import { describe, expect, it } from 'vitest';
import {
  formatRule,
  PolicySyntaxError,
  parseRule,
  parseRuleList,
  type Rule,
  referencedRuleNames,
} from './rules.js';

const role = (name: string): Rule => ({ type: 'role', role: { kind: 'template', parts: [{ text: name }] } });

function syntaxError(text: string): PolicySyntaxError {
  try {
    parseRule(text);
  } catch (error) {
    if (error instanceof PolicySyntaxError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

describe('parseRule', () => {
  it('reads the empty string as always, and @ and ! as always and never', () => {
    expect(parseRule('')).toEqual({ type: 'always' });
    expect(parseRule('@')).toEqual({ type: 'always' });
    expect(parseRule('!')).toEqual({ type: 'never' });
  });

  it('binds not tighter than and, and and tighter than or', () => {
    expect(parseRule('role:a or role:b and not role:c')).toEqual({
      type: 'or',
      rules: [role('a'), { type: 'and', rules: [role('b'), { type: 'not', rule: role('c') }] }],
    });
    expect(parseRule('not role:a and role:b')).toEqual({
      type: 'and',
      rules: [{ type: 'not', rule: role('a') }, role('b')],
    });
  });

  it('lets parentheses override precedence, even when glued to checks', () => {
    expect(parseRule('(role:a or role:b) and role:c')).toEqual({
      type: 'and',
      rules: [{ type: 'or', rules: [role('a'), role('b')] }, role('c')],
    });
    expect(parseRule('((role:a))')).toEqual(role('a'));
    expect(parseRule('not (role:a or role:b)')).toEqual({
      type: 'not',
      rule: { type: 'or', rules: [role('a'), role('b')] },
    });
  });

  it('accepts operators in any case, as oslo does', () => {
    expect(parseRule('role:a AND NOT role:b Or role:c')).toEqual(
      parseRule('role:a and not role:b or role:c'),
    );
  });

  it('reads a credential attribute compared with a target substitution', () => {
    expect(parseRule('token.project.domain.id:%(target.domain.id)s')).toEqual({
      type: 'match',
      subject: { kind: 'credential', path: ['token', 'project', 'domain', 'id'] },
      value: { kind: 'template', parts: [{ targetKey: 'target.domain.id' }] },
    });
  });

  it('reads a credential attribute compared with a bare or quoted literal', () => {
    expect(parseRule('system_scope:all')).toEqual({
      type: 'match',
      subject: { kind: 'credential', path: ['system_scope'] },
      value: { kind: 'template', parts: [{ text: 'all' }] },
    });
    expect(parseRule("project_id:'xpto2035abc'")).toEqual({
      type: 'match',
      subject: { kind: 'credential', path: ['project_id'] },
      value: { kind: 'literal', value: 'xpto2035abc' },
    });
  });

  it('reads Python literals on the left as the text str() gives them', () => {
    const subjectOf = (text: string) => (parseRule(text) as Extract<Rule, { type: 'match' }>).subject;
    expect(subjectOf("'member':%(target.role.name)s")).toEqual({
      kind: 'literal',
      value: 'member',
      source: "'member'",
    });
    expect(subjectOf('True:%(user.enabled)s')).toEqual({ kind: 'literal', value: 'True', source: 'True' });
    expect(subjectOf('None:%(target.role.domain_id)s')).toEqual({
      kind: 'literal',
      value: 'None',
      source: 'None',
    });
    expect(subjectOf('20:%(quota)s')).toEqual({ kind: 'literal', value: '20', source: '20' });
    expect(subjectOf('domain_id:20')).toEqual({ kind: 'credential', path: ['domain_id'] });
  });

  it('keeps text around substitutions and reads %% as a percent sign', () => {
    expect(parseRule('name:vm-%(target.id)s-100%%')).toEqual({
      type: 'match',
      subject: { kind: 'credential', path: ['name'] },
      value: { kind: 'template', parts: [{ text: 'vm-' }, { targetKey: 'target.id' }, { text: '-100%' }] },
    });
  });

  it('reads rule: references by name, colons included', () => {
    expect(parseRule('rule:identity:list_projects')).toEqual({
      type: 'rule',
      name: 'identity:list_projects',
    });
    expect(referencedRuleNames(parseRule('rule:a or (role:x and not rule:b)'))).toEqual(['a', 'b']);
  });

  it('reports where a rule stops making sense', () => {
    expect(syntaxError('role:admin or').position).toBe('role:admin or'.length);
    expect(syntaxError('role:admin and (role:member').reason).toBe('"(" is never closed');
    expect(syntaxError('role:admin and (role:member').position).toBe(15);
    expect(syntaxError('role:admin )').reason).toBe('unbalanced ")"');
    expect(syntaxError('role:admin )').position).toBe(11);
    expect(syntaxError('role:a role:b').position).toBe(7);
    expect(syntaxError('role:a or admin').reason).toMatch(/"admin" is not a check/);
    expect(syntaxError('role:a or admin').position).toBe(10);
    expect(syntaxError('and role:a').position).toBe(0);
    expect(syntaxError('role:a or not').position).toBe('role:a or not'.length);
  });

  it('rejects checks that oslo would quietly turn into a denial', () => {
    expect(syntaxError('rule:').reason).toMatch(/nothing after ":"/);
    expect(syntaxError(':admin').reason).toMatch(/nothing before ":"/);
    expect(syntaxError('project_id:%(project_id)d').position).toBe(11);
    expect(syntaxError('project_id:%(project_id').reason).toMatch(/only %\(name\)s/);
    expect(syntaxError('project_id:%()s').reason).toMatch(/empty substitution/);
    expect(syntaxError('http://policy.example.com/check').reason).toMatch(/remote "http:" checks/);
    expect(syntaxError("'member'").reason).toMatch(/quoted string/);
    expect(syntaxError('   ').reason).toMatch(/whitespace/);
  });

  it('names the rule text and position in the message', () => {
    expect(syntaxError('role:a or').message).toBe(
      'the rule ends after "or" at position 9 in policy rule "role:a or"',
    );
  });
});

describe('formatRule', () => {
  it('writes rules back with only the parentheses precedence needs', () => {
    expect(formatRule(parseRule('(role:a and role:b) or role:c'))).toBe('role:a and role:b or role:c');
    expect(formatRule(parseRule('(role:a or role:b) and not (role:c and role:d)'))).toBe(
      '(role:a or role:b) and not (role:c and role:d)',
    );
    expect(formatRule(parseRule("'member':%(target.role.name)s and name:100%%"))).toBe(
      "'member':%(target.role.name)s and name:100%%",
    );
    expect(formatRule(parseRule(''))).toBe('@');
  });

  it('round-trips to an equivalent rule', () => {
    for (const text of [
      '(rule:admin_required) or (role:reader and system_scope:all) or not (role:x or role:y and role:z)',
      "project_id:'abc' and True:%(user.enabled)s and name:a-%(target.id)s-b",
    ]) {
      const rule = parseRule(text);
      expect(parseRule(formatRule(rule))).toEqual(rule);
    }
  });
});

describe('parseRuleList', () => {
  it('ors the inner lists and ands the checks inside each', () => {
    expect(parseRuleList([['role:admin'], ['project_id:%(project_id)s', 'role:projectadmin']])).toEqual(
      parseRule('role:admin or (project_id:%(project_id)s and role:projectadmin)'),
    );
  });

  it('reads an empty list as always and a list of empty lists as never', () => {
    expect(parseRuleList([])).toEqual({ type: 'always' });
    expect(parseRuleList([[], []])).toEqual({ type: 'never' });
  });

  it('accepts a bare string in the outer list as a one-check alternative', () => {
    expect(parseRuleList(['role:admin', ['role:member']])).toEqual(parseRule('role:admin or role:member'));
  });

  it('rejects what is not a list of check strings', () => {
    expect(() => parseRuleList('role:admin')).toThrow(PolicySyntaxError);
    expect(() => parseRuleList([[42]])).toThrow(/expected a check string/);
    expect(() => parseRuleList([['admin']])).toThrow(/"admin" is not a check/);
  });
});
