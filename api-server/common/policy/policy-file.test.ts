import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicyFile, PolicyFileError } from './policy-file.js';

const directory = mkdtempSync(join(tmpdir(), 'overcast-policy-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function policyFile(name: string, content: string): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

describe('loadPolicyFile', () => {
  it("reads oslo's policy.yaml, comments and unquoted rules included", () => {
    const path = policyFile(
      'policy.yaml',
      [
        '# Allow domain managers to see their own domain',
        '"is_domain_manager": "role:domain-manager"',
        'identity:get_domain: (rule:is_domain_manager and token.domain.id:%(target.domain.id)s) or rule:admin_required',
        '"identity:list_regions": ""',
      ].join('\n'),
    );
    expect(loadPolicyFile(path)).toEqual({
      is_domain_manager: 'role:domain-manager',
      'identity:get_domain':
        '(rule:is_domain_manager and token.domain.id:%(target.domain.id)s) or rule:admin_required',
      'identity:list_regions': '',
    });
  });

  it('reads the JSON form, rewriting list-of-lists rules in the policy language', () => {
    const path = policyFile(
      'policy.json',
      JSON.stringify({
        admin_required: [['role:admin'], ['is_admin:1']],
        'identity:get_user': 'rule:admin_required',
        'identity:list_regions': [],
      }),
    );
    expect(loadPolicyFile(path)).toEqual({
      admin_required: 'role:admin or is_admin:1',
      'identity:get_user': 'rule:admin_required',
      'identity:list_regions': '@',
    });
  });

  it('reads an empty or all-comment file as no overrides', () => {
    expect(loadPolicyFile(policyFile('empty.yaml', ''))).toEqual({});
    expect(
      loadPolicyFile(policyFile('comments.yaml', '# "identity:get_user": "rule:admin_required"\n')),
    ).toEqual({});
  });

  it('names the file and the rule that does not parse', () => {
    const path = policyFile('bad-rule.yaml', '"identity:get_user": "rule:admin_required or"\n');
    expect(() => loadPolicyFile(path)).toThrow(PolicyFileError);
    expect(() => loadPolicyFile(path)).toThrow(
      `${path}: rule "identity:get_user": the rule ends after "or" at position 22 in policy rule "rule:admin_required or"`,
    );
    const list = policyFile('bad-list.json', '{"admin_required": [["admin"]]}');
    expect(() => loadPolicyFile(list)).toThrow(/rule "admin_required": "admin" is not a check/);
  });

  it('rejects rules that are neither text nor lists', () => {
    expect(() => loadPolicyFile(policyFile('number.yaml', 'identity:get_user: 42\n'))).toThrow(
      /rule "identity:get_user" must be a string \(or a list of lists\), not number/,
    );
    expect(() => loadPolicyFile(policyFile('null.yaml', 'identity:get_user:\n'))).toThrow(/not null/);
  });

  it('rejects documents that are not a mapping, or are not YAML at all', () => {
    expect(() => loadPolicyFile(policyFile('list.yaml', '- role:admin\n'))).toThrow(/must be a mapping/);
    expect(() => loadPolicyFile(policyFile('broken.yaml', '"identity:get_user": "role:admin\n'))).toThrow(
      /is not valid YAML or JSON/,
    );
  });

  it('rejects a rule defined twice, which would otherwise silently keep one of them', () => {
    const path = policyFile('twice.yaml', 'identity:get_user: role:admin\nidentity:get_user: "@"\n');
    expect(() => loadPolicyFile(path)).toThrow(/is not valid YAML or JSON/);
  });

  it('names a file that cannot be read', () => {
    const missing = join(directory, 'missing.yaml');
    expect(() => loadPolicyFile(missing)).toThrow(`${missing}: cannot be read`);
  });
});
