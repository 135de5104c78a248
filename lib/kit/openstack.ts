// The real OpenStack clients, the judges of compatibility: python-openstackclient and tempest
// as Debian packages them.
import { run } from '../exec.js';
import type { KitContext } from './common.js';
import { ensureDebianPackages } from './debian.js';

export const OPENSTACK_CLIENT_PACKAGES = ['python3-openstackclient', 'tempest'] as const;

export const OPENSTACK_COMMAND = '/usr/bin/openstack';
export const TEMPEST_COMMAND = '/usr/bin/tempest';
/**
 * The interpreter the Debian packages were installed for. A bare `python3` on PATH may be
 * another one (pyenv, a virtualenv) that cannot import them.
 */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export async function installOpenstackClients(ctx: KitContext): Promise<void> {
  await ensureDebianPackages(ctx, OPENSTACK_CLIENT_PACKAGES);
}

/** The version of a cliff-based command's `--version` output, `openstack 6.0.0` → `6.0.0`. */
function versionFromBanner(command: string, output: string): string {
  const match = /^\S+\s+(\d+\.\d+\S*)\s*$/m.exec(output.trim());
  if (!match?.[1]) throw new Error(`${command} --version printed no version: ${JSON.stringify(output)}`);
  return match[1];
}

/** `openstack --version`, e.g. `6.0.0`. */
export async function openstackVersion(): Promise<string> {
  const { stdout, stderr } = await run([OPENSTACK_COMMAND, '--version'], { timeoutMs: 60_000 });
  // Older cliff releases print the banner on stderr.
  return versionFromBanner(OPENSTACK_COMMAND, stdout || stderr);
}

/** `tempest --version`, e.g. `33.0.0`. */
export async function tempestVersion(): Promise<string> {
  const { stdout, stderr } = await run([TEMPEST_COMMAND, '--version'], { timeoutMs: 60_000 });
  return versionFromBanner(TEMPEST_COMMAND, stdout || stderr);
}

/**
 * The environment Debian's Python programs (the openstack CLI, tempest, stestr, Keystone) run
 * in: /usr/bin first, because a pyenv or virtualenv python3 earlier on PATH cannot import
 * their modules (stestr starts its workers as `python3 -m subunit.run`), and none of their
 * PYTHON* settings.
 */
export function debianPythonEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('PYTHON') && name !== 'VIRTUAL_ENV' && !name.startsWith('PYENV'),
    ),
  );
  const rest = (process.env.PATH ?? '').split(':').filter((entry) => entry && !entry.includes('pyenv'));
  return { ...inherited, PATH: ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...rest].join(':'), ...extra };
}
