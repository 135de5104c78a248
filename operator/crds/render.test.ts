// The generated CRD and RBAC files must be exactly what the schema source renders: a change to
// operator/crds/*.ts without `npm run crds`, or a hand edit of a generated file, fails here.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { KINDS } from './kinds.js';
import { REFERENCE_PAGE, withReference } from './reference.js';
import { CRD_DIRECTORIES, GENERATED_CRD_PREFIX, generatedFiles, structural } from './render.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('generated CRDs', () => {
  it('match the schema source byte for byte (run `npm run crds` after changing operator/crds)', async () => {
    for (const [path, expected] of generatedFiles()) {
      const onDisk = await readFile(join(ROOT, path), 'utf8').catch(() => '(missing)');
      expect(onDisk, `${path} is out of date`).toBe(expected);
    }
  });

  it('leave no CRD file behind for a kind that is gone', async () => {
    const expected = generatedFiles();
    for (const directory of CRD_DIRECTORIES) {
      const names = await readdir(join(ROOT, directory));
      const stale = names.filter(
        (name) => name.startsWith(GENERATED_CRD_PREFIX) && !expected.has(`${directory}/${name}`),
      );
      expect(stale, `stale files in ${directory}`).toEqual([]);
    }
  });

  it('are described by the reference in docs/operator.md', async () => {
    const page = await readFile(join(ROOT, REFERENCE_PAGE), 'utf8');
    expect(page, `the reference in ${REFERENCE_PAGE} is out of date`).toBe(withReference(page));
  });

  it('give every kind its own plural and short names', () => {
    const names = KINDS.flatMap((kind) => [kind.plural, ...kind.shortNames]);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('structural', () => {
  it('refuses what a TypeBox union produces, which Kubernetes cannot take', () => {
    const union = Type.Object({ mode: Type.Union([Type.Literal('a'), Type.Literal('b')]) });
    expect(() => structural(union)).toThrow("schema.mode: 'anyOf' is not allowed in a structural schema");
  });

  it('refuses a node without a type', () => {
    expect(() => structural(Type.Object({ anything: Type.Unknown() }))).toThrow(
      'schema.anything: every node needs a type',
    );
  });

  it('drops TypeBox internals and puts description and type first', () => {
    const schema = Type.Optional(Type.String({ maxLength: 3, description: 'three letters' }));
    expect(Object.keys(structural(schema))).toEqual(['description', 'type', 'maxLength']);
  });
});
