// `overcast kit install`: the local components, installed when missing.
import { defaultCacheDir, type KitContext } from '../../kit/common.js';
import { KIT_COMPONENTS } from '../../kit/index.js';
import { EXIT_OK, UsageError } from '../exit-codes.js';

export async function kitInstall(names: string[]): Promise<number> {
  const unknown = names.filter((name) => !KIT_COMPONENTS.some((component) => component.name === name));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown component: ${unknown.join(', ')} (known: ${KIT_COMPONENTS.map((c) => c.name).join(', ')})`,
    );
  }
  const ctx: KitContext = {
    cacheDir: defaultCacheDir(),
    stateDir: defaultCacheDir(),
    progress: (line) => process.stderr.write(`[kit] ${line}\n`),
  };
  for (const component of KIT_COMPONENTS) {
    if (names.length > 0 && !names.includes(component.name)) continue;
    ctx.progress(`${component.name}: ${component.description}`);
    await component.install(ctx);
  }
  ctx.progress('all requested components are installed');
  return EXIT_OK;
}
