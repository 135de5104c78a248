// `npm run crds`: writes the generated CRDs and RBAC (render.ts) into the repository it is run
// from, and removes CRD files of kinds that no longer exist.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
  process.stdout.write(`wrote ${files.size} files\n`);
}

// npm runs scripts from the package root.
await writeGenerated(process.cwd());
