// Debian packages the local components need, installed only when missing. A fresh machine
// has no package lists, so the first install runs `apt-get update` once.
import { run } from '../exec.js';
import { ComponentError, type KitContext } from './common.js';

let listsUpdated = false;

/** Names of the given packages that dpkg does not report as installed. */
export async function missingPackages(packages: readonly string[]): Promise<string[]> {
  if (packages.length === 0) return [];
  // dpkg-query's own ${field} format syntax, not a template placeholder.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format string
  const result = await run(['dpkg-query', '-W', '-f', '${Package} ${db:Status-Status}\\n', ...packages], {
    allowFailure: true,
  });
  const installed = new Set(
    result.stdout
      .split('\n')
      .filter((line) => line.endsWith(' installed'))
      .map((line) => line.split(' ')[0]),
  );
  return packages.filter((name) => !installed.has(name));
}

export async function ensureDebianPackages(ctx: KitContext, packages: readonly string[]): Promise<void> {
  const missing = await missingPackages(packages);
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const progress = (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (/^(Setting up|Unpacking|Get:|E:)/.test(line)) ctx.progress(`apt: ${line.trim()}`);
    }
  };
  if (!listsUpdated) {
    ctx.progress('apt-get update');
    await run(['apt-get', 'update'], { env, onOutput: progress });
    listsUpdated = true;
  }
  ctx.progress(`installing Debian packages: ${missing.join(' ')}`);
  await run(['apt-get', 'install', '-y', '--no-install-recommends', ...missing], { env, onOutput: progress });
}

/** The installed version of a Debian package, e.g. 2:21.0.0-7+deb12u1. */
export async function debianPackageVersion(name: string): Promise<string> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format string
  const result = await run(['dpkg-query', '-W', '-f', '${Version}', name], { allowFailure: true });
  if (result.code !== 0 || !result.stdout.trim()) {
    throw new ComponentError(`the Debian package ${name} is not installed`);
  }
  return result.stdout.trim();
}
