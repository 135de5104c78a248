// The real tempest (Debian's tempest 33) against `overcast up`, with the image v2 test list
// (test/harness/tempest-image.txt) and identity and image available; see
// harness/tempest-suite.ts for how the run is judged and reported.
import { join } from 'node:path';
import { describeTempestSuite } from './harness/tempest-suite.js';

describeTempestSuite({
  service: 'image',
  testList: join(import.meta.dirname, 'harness', 'tempest-image.txt'),
  minPassed: 42,
  serviceAvailable: { glance: true, nova: false, neutron: false, cinder: false, swift: false },
});
