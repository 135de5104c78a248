// The real tempest (Debian's tempest 33) against `overcast up`, with the identity test list
// (test/harness/tempest-identity.txt) and only the identity service available; see
// harness/tempest-suite.ts for how the run is judged and reported.
import { join } from 'node:path';
import { describeTempestSuite } from './harness/tempest-suite.js';

describeTempestSuite({
  service: 'identity',
  testList: join(import.meta.dirname, 'harness', 'tempest-identity.txt'),
  minPassed: 99,
  serviceAvailable: { glance: false, nova: false, neutron: false, cinder: false, swift: false },
});
