// IPAM and segment allocation under concurrent requests, on MariaDB (many connections, real
// row locks) and on SQLite: 250 ports created at once on a /24 sized to hold exactly 250 more
// get 250 distinct addresses and the next one gets 409; 100 floating IPs created at once on a
// pool of 100 get 100 distinct addresses; 300 lists by device at once (on MariaDB read together,
// see port-list.ts) each get their own ports, and two projects' lists by the same device id never
// see each other's; 200 tenant networks created at once get 200 distinct VNIs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapIdentity } from '../api-server/identity/bootstrap.js';
import { buildApiServer } from '../api-server/server.js';
import { SERVICE_MIGRATIONS, SERVICES } from '../api-server/services.js';
import { createBus } from '../lib/bus/index.js';
import type { MessageBus } from '../lib/bus/types.js';
import { type Config, defaultConfig } from '../lib/config.js';
import { type Database, openDatabase } from '../lib/db/database.js';
import { migrateToLatest } from '../lib/db/migrations.js';
import { createLogger } from '../lib/log.js';
import { createDatabaseFor, type Dialect } from './harness/databases.js';

const ADMIN_PASSWORD = 'admin-secret';

describe.each(['mysql', 'sqlite'] as const)(
  'network allocation under concurrency on %s',
  (dialect: Dialect) => {
    let workDir: string;
    let database: Database;
    let bus: MessageBus;
    let app: FastifyInstance;
    let token: string;

    async function call(
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: string,
      payload?: unknown,
      as: string = token,
    ) {
      const response = await app.inject({
        method,
        url,
        headers: { 'x-auth-token': as },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      return {
        status: response.statusCode,
        body: response.body ? response.json() : undefined,
        headers: response.headers,
      };
    }

    function net(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, as?: string) {
      return call(method, `/network${url}`, payload, as);
    }

    /** A token of a new user with the member role on a new project. */
    async function memberToken(name: string): Promise<string> {
      const project = (
        await call('POST', '/identity/v3/projects', { project: { name, domain_id: 'default' } })
      ).body.project;
      const user = (
        await call('POST', '/identity/v3/users', {
          user: { name: `${name}-user`, password: 'pw', domain_id: 'default' },
        })
      ).body.user;
      const member = (await call('GET', '/identity/v3/roles?name=member')).body.roles[0].id;
      await call('PUT', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${member}`);
      const issued = await call('POST', '/identity/v3/auth/tokens', {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: `${name}-user`, password: 'pw', domain: { id: 'default' } } },
          },
          scope: { project: { id: project.id } },
        },
      });
      expect(issued.status).toBe(201);
      return issued.headers['x-subject-token'] as string;
    }

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), `overcast-netconc-${dialect}-`));
      const config: Config = {
        ...defaultConfig(),
        dataDir: workDir,
        identity: { ...defaultConfig().identity, passwordHashRounds: 4 },
      };
      const log = createLogger('test', 'silent');
      database = await openDatabase(await createDatabaseFor(dialect, workDir), {
        dataDir: workDir,
        poolSize: 16,
      });
      await migrateToLatest(database, SERVICE_MIGRATIONS, log);
      await bootstrapIdentity(database, config, {
        adminPassword: ADMIN_PASSWORD,
        publicUrl: 'http://cloud.test',
        services: SERVICES,
      });
      bus = await createBus('memory://', { log });
      app = await buildApiServer({ config, database, bus }, log);
      const issued = await app.inject({
        method: 'POST',
        url: '/identity/v3/auth/tokens',
        payload: {
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: 'admin', password: ADMIN_PASSWORD, domain: { id: 'default' } } },
            },
            scope: { project: { name: 'admin', domain: { id: 'default' } } },
          },
        },
      });
      token = issued.headers['x-subject-token'] as string;
      // Neutron's default quotas (100 networks, 500 ports, 50 floating IPs) would stop the crowd first.
      const projectId = issued.json().token.project.id;
      const quotas = await net('PUT', `/v2.0/quotas/${projectId}`, {
        quota: { network: -1, port: -1, floatingip: -1 },
      });
      expect(quotas.status).toBe(200);
    }, 120_000);

    afterAll(async () => {
      await app?.close();
      await bus?.close();
      await database?.destroy();
      await rm(workDir, { recursive: true, force: true });
    });

    it('hands 250 parallel ports 250 distinct addresses on a /24 holding 250, then answers 409', async () => {
      const network = (await net('POST', '/v2.0/networks', { network: { name: 'crowded' } })).body.network;
      // Pool .2-.252 is 251 addresses; the DHCP port takes one, so exactly 250 are left.
      const created = await net('POST', '/v2.0/subnets', {
        subnet: {
          network_id: network.id,
          ip_version: 4,
          cidr: '10.20.0.0/24',
          allocation_pools: [{ start: '10.20.0.2', end: '10.20.0.252' }],
        },
      });
      expect(created.status).toBe(201);
      const dhcp = (await net('GET', `/v2.0/ports?network_id=${network.id}&device_owner=network:dhcp`)).body
        .ports;
      expect(dhcp).toHaveLength(1);
      const dhcpAddress = dhcp[0].fixed_ips[0].ip_address;

      const responses = await Promise.all(
        Array.from({ length: 250 }, (_, index) =>
          net('POST', '/v2.0/ports', { port: { network_id: network.id, name: `p${index}` } }),
        ),
      );
      const failures = responses.filter((response) => response.status !== 201);
      expect(failures.map((response) => JSON.stringify(response.body))).toEqual([]);
      const addresses = responses.map((response) => response.body.port.fixed_ips[0].ip_address as string);
      expect(new Set(addresses).size).toBe(250);
      expect(addresses).not.toContain(dhcpAddress);
      expect(addresses).not.toContain('10.20.0.1');
      for (const address of addresses) {
        const last = Number(address.split('.')[3]);
        expect(last).toBeGreaterThanOrEqual(2);
        expect(last).toBeLessThanOrEqual(252);
      }
      const macs = new Set(responses.map((response) => response.body.port.mac_address));
      expect(macs.size).toBe(250);

      const next = await net('POST', '/v2.0/ports', { port: { network_id: network.id } });
      expect(next.status).toBe(409);
      expect(next.body.NeutronError.type).toBe('IpAddressGenerationFailure');
    }, 300_000);

    it('hands 100 parallel floating IPs 100 distinct addresses of a pool holding 100, then answers 409', async () => {
      const external = (
        await net('POST', '/v2.0/networks', { network: { name: 'outside', 'router:external': true } })
      ).body.network;
      const subnet = await net('POST', '/v2.0/subnets', {
        subnet: {
          network_id: external.id,
          ip_version: 4,
          cidr: '198.51.100.0/24',
          allocation_pools: [{ start: '198.51.100.101', end: '198.51.100.200' }],
          enable_dhcp: false,
        },
      });
      expect(subnet.status).toBe(201);
      const responses = await Promise.all(
        Array.from({ length: 100 }, () =>
          net('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: external.id } }),
        ),
      );
      const failures = responses.filter((response) => response.status !== 201);
      expect(failures.map((response) => JSON.stringify(response.body))).toEqual([]);
      const addresses = responses.map((response) => response.body.floatingip.floating_ip_address as string);
      expect(new Set(addresses).size).toBe(100);
      const next = await net('POST', '/v2.0/floatingips', {
        floatingip: { floating_network_id: external.id },
      });
      expect(next.status).toBe(409);
      expect(next.body.NeutronError.type).toBe('IpAddressGenerationFailure');
      const deleted = await Promise.all(
        responses.map((response) => net('DELETE', `/v2.0/floatingips/${response.body.floatingip.id}`)),
      );
      expect(deleted.every((response) => response.status === 204)).toBe(true);
      expect((await net('DELETE', `/v2.0/networks/${external.id}`)).status).toBe(204);
    }, 300_000);

    it('answers 300 parallel lists by device each with exactly its ports, and every list sees the port created before it', async () => {
      const network = (await net('POST', '/v2.0/networks', { network: { name: 'devices' } })).body.network;
      expect(
        (
          await net('POST', '/v2.0/subnets', {
            subnet: { network_id: network.id, ip_version: 4, cidr: '10.30.0.0/22', enable_dhcp: false },
          })
        ).status,
      ).toBe(201);
      // 40 devices with one to three ports each.
      const bulk = await net('POST', '/v2.0/ports', {
        ports: Array.from({ length: 80 }, (_, index) => ({
          network_id: network.id,
          device_id: `dev-${index % 40}`,
          name: `p${index}`,
        })),
      });
      expect(bulk.status).toBe(201);
      const portsOf = new Map<string, string[]>();
      for (const port of bulk.body.ports as { id: string; device_id: string }[]) {
        portsOf.set(port.device_id, [...(portsOf.get(port.device_id) ?? []), port.id]);
      }
      const listed = (response: { body: { ports: { id: string }[] } }) =>
        response.body.ports.map((port) => port.id).sort();

      const asked = Array.from({ length: 300 }, (_, index) =>
        index % 10 === 0 ? [`dev-${index % 40}`, `dev-${(index + 7) % 40}`] : [`dev-${index % 40}`],
      );
      const answers = await Promise.all(
        asked.map((devices) =>
          net('GET', `/v2.0/ports?${devices.map((device) => `device_id=${device}`).join('&')}`),
        ),
      );
      answers.forEach((answer, index) => {
        expect(answer.status).toBe(200);
        const expected = asked[index]!.flatMap((device) => portsOf.get(device) ?? []).sort();
        expect(listed(answer), asked[index]!.join(',')).toEqual(expected);
      });

      // Creates and lists interleaved: a list that follows its create sees the new port,
      // however its read is grouped with the others.
      const fresh = await Promise.all(
        Array.from({ length: 60 }, async (_, index) => {
          const device = `fresh-${index}`;
          const created = await net('POST', '/v2.0/ports', {
            port: { network_id: network.id, device_id: device },
          });
          expect(created.status).toBe(201);
          return {
            id: created.body.port.id as string,
            listed: listed(await net('GET', `/v2.0/ports?device_id=${device}`)),
          };
        }),
      );
      for (const { id, listed: ids } of fresh) expect(ids).toEqual([id]);

      const ids = [
        ...(bulk.body.ports as { id: string }[]).map((port) => port.id),
        ...fresh.map(({ id }) => id),
      ];
      const deleted = await Promise.all(ids.map((id) => net('DELETE', `/v2.0/ports/${id}`)));
      expect(deleted.every((response) => response.status === 204)).toBe(true);
      expect((await net('DELETE', `/v2.0/networks/${network.id}`)).status).toBe(204);
    }, 300_000);

    it("answers lists by one device id from two projects at once each with only that project's ports", async () => {
      const tokens = [await memberToken('left'), await memberToken('right')];
      const owned: { network: string; port: string }[] = [];
      for (const as of tokens) {
        const network = (await net('POST', '/v2.0/networks', { network: { name: 'mine' } }, as)).body.network;
        await net(
          'POST',
          '/v2.0/subnets',
          { subnet: { network_id: network.id, ip_version: 4, cidr: '10.40.0.0/24', enable_dhcp: false } },
          as,
        );
        const port = await net(
          'POST',
          '/v2.0/ports',
          { port: { network_id: network.id, device_id: 'vm-both' } },
          as,
        );
        expect(port.status).toBe(201);
        owned.push({ network: network.id, port: port.body.port.id });
      }
      const lists = await Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          net('GET', '/v2.0/ports?device_id=vm-both', undefined, tokens[index % 2]),
        ),
      );
      lists.forEach((list, index) => {
        expect(list.body.ports.map((port: { id: string }) => port.id)).toEqual([owned[index % 2]!.port]);
      });
      // The admin sees both.
      expect((await net('GET', '/v2.0/ports?device_id=vm-both')).body.ports).toHaveLength(2);
      for (const [index, { network, port }] of owned.entries()) {
        expect((await net('DELETE', `/v2.0/ports/${port}`, undefined, tokens[index])).status).toBe(204);
        expect((await net('DELETE', `/v2.0/networks/${network}`, undefined, tokens[index])).status).toBe(204);
      }
    }, 300_000);

    it('answers the same list asked 150 times at once, and every list sees the port created just before it', async () => {
      const network = (await net('POST', '/v2.0/networks', { network: { name: 'same-list' } })).body.network;
      await net('POST', '/v2.0/subnets', {
        subnet: { network_id: network.id, ip_version: 4, cidr: '10.50.0.0/24', enable_dhcp: false },
      });
      const list = `/v2.0/ports?network_id=${network.id}`;
      // 50 creates each followed by the network's list, among 100 more of the same list: lists
      // asked while others are read share a read, but never one that started before them.
      const [created, others] = await Promise.all([
        Promise.all(
          Array.from({ length: 50 }, async () => {
            const port = await net('POST', '/v2.0/ports', { port: { network_id: network.id } });
            expect(port.status).toBe(201);
            const listed = await net('GET', list);
            return {
              id: port.body.port.id as string,
              listed: listed.body.ports.map((p: { id: string }) => p.id),
            };
          }),
        ),
        Promise.all(Array.from({ length: 100 }, () => net('GET', list))),
      ]);
      for (const { id, listed } of created) expect(listed).toContain(id);
      expect(others.every((answer) => answer.status === 200)).toBe(true);
      const final = (await net('GET', list)).body.ports.map((port: { id: string }) => port.id).sort();
      expect(final).toEqual(created.map(({ id }) => id).sort());
      for (const { id } of created) expect((await net('DELETE', `/v2.0/ports/${id}`)).status).toBe(204);
      expect((await net('DELETE', `/v2.0/networks/${network.id}`)).status).toBe(204);
    }, 300_000);

    it('gives 200 tenant networks created in parallel 200 distinct VNIs', async () => {
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          net('POST', '/v2.0/networks', { network: { name: `t${index}` } }),
        ),
      );
      const failures = responses.filter((response) => response.status !== 201);
      expect(failures.map((response) => JSON.stringify(response.body))).toEqual([]);
      const vnis = responses.map((response) => response.body.network['provider:segmentation_id'] as number);
      expect(responses.every((response) => response.body.network['provider:network_type'] === 'vxlan')).toBe(
        true,
      );
      expect(new Set(vnis).size).toBe(200);
      for (const vni of vnis) {
        expect(vni).toBeGreaterThanOrEqual(1);
        expect(vni).toBeLessThanOrEqual(1000);
      }
      // Deleting them gives every VNI back.
      const deleted = await Promise.all(
        responses.map((response) => net('DELETE', `/v2.0/networks/${response.body.network.id}`)),
      );
      expect(deleted.every((response) => response.status === 204)).toBe(true);
      const left = await database.db
        .selectFrom('network_segment_allocation')
        .select('segmentation_id')
        .execute();
      // The crowded network of the test above keeps its one.
      expect(left.length).toBeLessThanOrEqual(1);
    }, 300_000);
  },
);
