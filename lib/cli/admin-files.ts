// What the all-in-one and bootstrap leave in the data directory for people and scripts:
// the admin password, an openrc to source, and a clouds.yaml for `openstack --os-cloud`.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Config, publicBaseUrl } from '../config.js';
import { ADMIN_PASSWORD_FILE, openrcFor } from './openrc.js';

export const CLOUD_NAME = 'overcast';

/** The stored admin password, or a new random one stored (mode 0600) for next time. */
export async function adminPassword(config: Config, given?: string): Promise<string> {
  const file = join(config.dataDir, ADMIN_PASSWORD_FILE);
  if (given) {
    await writeFile(file, `${given}\n`, { mode: 0o600 });
    return given;
  }
  const stored = await readFile(file, 'utf8').catch(() => undefined);
  if (stored?.trim()) return stored.trim();
  const generated = randomBytes(18).toString('base64url');
  await writeFile(file, `${generated}\n`, { mode: 0o600 });
  return generated;
}

export async function writeClientFiles(config: Config, password: string): Promise<void> {
  await writeFile(join(config.dataDir, 'admin-openrc'), await openrcFor(config), { mode: 0o600 });
  const clouds = {
    clouds: {
      [CLOUD_NAME]: {
        auth: {
          auth_url: `${publicBaseUrl(config)}/identity/v3`,
          username: 'admin',
          password,
          project_name: 'admin',
          user_domain_name: 'Default',
          project_domain_name: 'Default',
        },
        region_name: 'RegionOne',
        interface: 'public',
        identity_api_version: 3,
      },
    },
  };
  await writeFile(join(config.dataDir, 'clouds.yaml'), stringify(clouds), { mode: 0o600 });
}
