// The kit's MariaDB as a client sees it: a private server on loopback with a database and an
// unprivileged user for Overcast, and an admin account that can make more databases.
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { required } from './harness/inject.js';

describe('the kit MariaDB', () => {
  let overcast: Connection;

  beforeAll(async () => {
    overcast = await createConnection({ uri: required('mariadbUrl') });
  });

  afterAll(async () => {
    await overcast?.end();
  });

  it('round-trips rows through a table in the overcast database', async () => {
    await overcast.query('CREATE TABLE kit_round_trip (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL)');
    try {
      await overcast.execute('INSERT INTO kit_round_trip (id, name) VALUES (?, ?), (?, ?)', [
        1,
        'alpha',
        2,
        'β 🚀',
      ]);
      const [rows] = await overcast.query<RowDataPacket[]>('SELECT id, name FROM kit_round_trip ORDER BY id');
      expect(rows.map((row) => ({ ...row }))).toEqual([
        { id: 1, name: 'alpha' },
        { id: 2, name: 'β 🚀' },
      ]);
    } finally {
      await overcast.query('DROP TABLE kit_round_trip');
    }
  });

  it('is a private server: its data lives in the test state directory and it listens on loopback', async () => {
    const [rows] = await overcast.query<RowDataPacket[]>(
      'SELECT @@datadir AS datadir, @@bind_address AS bindAddress, @@skip_name_resolve AS skipNameResolve, ' +
        '@@character_set_database AS charset, CURRENT_USER() AS account',
    );
    expect(rows[0]).toMatchObject({
      bindAddress: '127.0.0.1',
      skipNameResolve: 1,
      charset: 'utf8mb4',
      account: 'overcast@127.0.0.1',
    });
    expect(String(rows[0]?.datadir)).toContain(required('kitStateDir'));
  });

  it('gives the overcast user its own database and nothing else', async () => {
    await expect(overcast.query('CREATE DATABASE not_allowed')).rejects.toMatchObject({
      code: 'ER_DBACCESS_DENIED_ERROR',
    });
    const [rows] = await overcast.query<RowDataPacket[]>('SHOW DATABASES');
    expect(rows.map((row) => row.Database)).toEqual(expect.arrayContaining(['overcast']));
    expect(rows.map((row) => row.Database)).not.toContain('mysql');
  });

  it('lets the admin account in over TCP with its password, and nobody in without one', async () => {
    const admin = await createConnection({ uri: required('mariadbAdminUrl') });
    const [rows] = await admin.query<RowDataPacket[]>('SELECT CURRENT_USER() AS account');
    await admin.end();
    expect(rows[0]?.account).toBe('root@127.0.0.1');
    const withoutPassword = new URL(required('mariadbAdminUrl'));
    withoutPassword.password = '';
    await expect(createConnection({ uri: withoutPassword.href })).rejects.toMatchObject({
      code: 'ER_ACCESS_DENIED_ERROR',
    });
  });
});
