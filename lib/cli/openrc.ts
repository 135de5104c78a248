// The environment the `openstack` CLI needs to reach this cloud as the admin user. The
// password is the one bootstrap stored in the data directory, when it has run.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, publicBaseUrl } from '../config.js';

/** Where bootstrap keeps the admin password (mode 0600). */
export const ADMIN_PASSWORD_FILE = 'admin-password';

export async function openrcFor(config: Config): Promise<string> {
  const password = await readFile(join(config.dataDir, ADMIN_PASSWORD_FILE), 'utf8').catch(() => undefined);
  const variables: Record<string, string> = {
    OS_AUTH_URL: `${publicBaseUrl(config)}/identity/v3`,
    OS_IDENTITY_API_VERSION: '3',
    OS_AUTH_TYPE: 'password',
    OS_USERNAME: 'admin',
    OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_REGION_NAME: 'RegionOne',
    OS_INTERFACE: 'public',
  };
  if (password !== undefined) variables.OS_PASSWORD = password.trim();
  const lines = Object.entries(variables).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  if (password === undefined) {
    lines.unshift(`# no ${ADMIN_PASSWORD_FILE} in ${config.dataDir} yet: set OS_PASSWORD yourself`);
  }
  return `${lines.join('\n')}\n`;
}

/** Single-quotes a value for POSIX shells. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
