// The judges of compatibility are installed and runnable: the openstack CLI and tempest, as
// Debian packages them.
import { describe, expect, it } from 'vitest';
import { run } from '../lib/exec.js';
import { DEBIAN_PYTHON, openstackVersion, tempestVersion } from '../lib/kit/openstack.js';

describe('OpenStack clients', () => {
  it('openstack --version reports a python-openstackclient release', async () => {
    const version = await openstackVersion();
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('tempest runs and its library imports under the Debian interpreter', async () => {
    const version = await tempestVersion();
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const imported = await run([
      DEBIAN_PYTHON,
      '-c',
      'import importlib.metadata, tempest.lib.common.rest_client; print(importlib.metadata.version("tempest"))',
    ]);
    expect(imported.stdout.trim()).toBe(version);
  });
});
