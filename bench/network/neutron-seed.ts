// Seeding the real Neutron with ports straight in its database: through its API it creates
// about six ports a second here (eleven seconds per bulk of 100), half an hour for 10,000.
// The rows copy what neutron-server itself wrote for a port the benchmark created through the
// API on the same network (../shared/recipes/neutron-anchor/seed_ports.py): a standard
// attribute, the port, its IPAM and Neutron allocations, its ML2 binding and its security
// group. Each seeded port gets a free address of the subnet, a unique MAC, and the device id
// `seed-<i / 2>` (two ports per device, for the filtered list).
import { randomInt, randomUUID } from 'node:crypto';
import { createConnection, type RowDataPacket } from 'mysql2/promise';

/** Rows per INSERT statement and per transaction. */
const BATCH = 500;

export interface SeedResult {
  /** Ports added. */
  seeded: number;
  /** Ports of the network afterwards. */
  total: number;
}

function ipv4ToNumber(text: string): number {
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Adds ports to the network `networkId` until it has `total`. */
export async function seedNeutronPorts(
  databaseUrl: string,
  networkId: string,
  total: number,
): Promise<SeedResult> {
  const db = await createConnection({ uri: databaseUrl, multipleStatements: false });
  try {
    const rows = async (sql: string, values: unknown[] = []) =>
      (await db.query<RowDataPacket[]>(sql, values))[0];
    const [{ count }] = (await rows('SELECT COUNT(*) AS count FROM ports WHERE network_id = ?', [
      networkId,
    ])) as [{ count: number }];
    const need = total - Number(count);
    if (need <= 0) return { seeded: 0, total: Number(count) };
    const [template] = await rows(
      `SELECT p.project_id, i.subnet_id, s.security_group_id, ips.id AS ipam_subnet_id, sub.cidr
         FROM ports p
         JOIN ipallocations i ON i.port_id = p.id
         JOIN securitygroupportbindings s ON s.port_id = p.id
         JOIN ipamsubnets ips ON ips.neutron_subnet_id = i.subnet_id
         JOIN subnets sub ON sub.id = i.subnet_id
        WHERE p.network_id = ? AND p.device_owner = '' LIMIT 1`,
      [networkId],
    );
    if (!template) throw new Error(`network ${networkId} has no API-created port to copy`);
    const { project_id: projectId, subnet_id: subnetId, security_group_id: groupId } = template;
    const ipamSubnetId = template.ipam_subnet_id as string;
    const [base, prefix] = (template.cidr as string).split('/');
    const first = ipv4ToNumber(base!) + 1;
    const last = ipv4ToNumber(base!) + 2 ** (32 - Number(prefix)) - 2;
    const used = new Set(
      (await rows('SELECT ip_address FROM ipallocations WHERE subnet_id = ?', [subnetId])).map(
        (row) => row.ip_address as string,
      ),
    );
    const macs = new Set(
      (await rows('SELECT mac_address FROM ports')).map((row) => row.mac_address as string),
    );
    const [{ highest }] = (await rows('SELECT COALESCE(MAX(id), 0) AS highest FROM standardattributes')) as [
      { highest: number },
    ];
    // The seeded ports take addresses from the upper half of the subnet, as the recipe did;
    // the benchmark's own creates have been allocating from the bottom.
    let nextAddress = Math.max(first, first + Math.floor((last - first) / 2));
    const freeAddress = () => {
      while (used.has(numberToIpv4(nextAddress))) nextAddress++;
      if (nextAddress > last) throw new Error('the subnet is too small for the ports to seed');
      const address = numberToIpv4(nextAddress++);
      used.add(address);
      return address;
    };
    const freeMac = () => {
      for (;;) {
        const mac = `fa:16:3e:${[0, 0, 0].map(() => randomInt(256).toString(16).padStart(2, '0')).join(':')}`;
        if (!macs.has(mac)) {
          macs.add(mac);
          return mac;
        }
      }
    };
    let standardId = Number(highest) + 1000;
    for (let start = 0; start < need; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, need - start) }, (_, index) => ({
        standardId: standardId++,
        id: randomUUID(),
        mac: freeMac(),
        address: freeAddress(),
        deviceId: `seed-${Math.floor((start + index) / 2)}`,
      }));
      await db.beginTransaction();
      await db.query(
        'INSERT INTO standardattributes (id, resource_type, created_at, updated_at, description, revision_number) VALUES ?',
        [batch.map((port) => [port.standardId, 'ports', new Date(), new Date(), '', 1])],
      );
      await db.query(
        `INSERT INTO ports (project_id, id, name, network_id, mac_address, admin_state_up, status,
                            device_id, device_owner, standard_attr_id, ip_allocation) VALUES ?`,
        [
          batch.map((port) => [
            projectId,
            port.id,
            '',
            networkId,
            port.mac,
            1,
            'DOWN',
            port.deviceId,
            '',
            port.standardId,
            'immediate',
          ]),
        ],
      );
      await db.query('INSERT INTO ipamallocations (ip_address, status, ipam_subnet_id) VALUES ?', [
        batch.map((port) => [port.address, 'ALLOCATED', ipamSubnetId]),
      ]);
      await db.query('INSERT INTO ipallocations (port_id, ip_address, subnet_id, network_id) VALUES ?', [
        batch.map((port) => [port.id, port.address, subnetId, networkId]),
      ]);
      await db.query(
        'INSERT INTO ml2_port_bindings (port_id, host, vif_type, vnic_type, profile, vif_details, status) VALUES ?',
        [batch.map((port) => [port.id, '', 'unbound', 'normal', '', '', 'ACTIVE'])],
      );
      await db.query('INSERT INTO securitygroupportbindings (port_id, security_group_id) VALUES ?', [
        batch.map((port) => [port.id, groupId]),
      ]);
      await db.commit();
    }
    return { seeded: need, total };
  } finally {
    await db.end();
  }
}
