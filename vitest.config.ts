import { defineConfig } from 'vitest/config';

// Two tiers: `unit` needs nothing but Node; `integration` runs against the real components
// (MariaDB, RabbitMQ, kube-apiserver, Open vSwitch, the openstack CLI) that the global
// setup starts once for the whole run through the same kit `overcast up` uses.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{lib,api-server,operator,node-agent,bench}/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The components are shared; files that restart brokers or reconfigure OVS must not
          // overlap, so integration files run one after another in a single worker.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
