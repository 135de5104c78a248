// `npm run crds`: writes the generated CRDs and RBAC (render.ts) into the repository it is run
// from, removes CRD files of kinds that no longer exist, and renews the kind reference of
// docs/operator.md (reference.ts).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { REFERENCE_PAGE, withReference } from './reference.js';
import { CRD_DIRECTORIES, GENERATED_CRD_PREFIX, generatedFiles } from './render.js';

async function writeGenerated(root: string): Promise<void> {
  const files = generatedFiles();
  for (const directory of CRD_DIRECTORIES) {
    for (const name of await readdir(join(root, directory)).catch(() => [])) {
      const path = `${directory}/${name}`;
      if (name.startsWith(GENERATED_CRD_PREFIX) && !files.has(path)) await rm(join(root, path));
    }
  }
  for (const [path, text] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const page = join(root, REFERENCE_PAGE);
  await writeFile(page, withReference(await readFile(page, 'utf8')));
  process.stdout.write(`wrote ${files.size} files and the reference in ${REFERENCE_PAGE}\n`);
}

// npm runs scripts from the package root.
await writeGenerated(process.cwd());
