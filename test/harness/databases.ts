// A fresh, empty database of either dialect for one test: a SQLite file in the test's own
// directory, or a new database on the kit's MariaDB.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { required } from './inject.js';

export type Dialect = 'sqlite' | 'mysql';

export async function createDatabaseFor(dialect: Dialect, dir: string): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  if (dialect === 'sqlite') return `sqlite:${join(dir, `${name}.sqlite`)}`;
  const admin = await createConnection(required('mariadbAdminUrl'));
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const user = new URL(required('mariadbUrl'));
    await admin.query(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO ?@'%'`, [decodeURIComponent(user.username)]);
  } finally {
    await admin.end();
  }
  const url = new URL(required('mariadbUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}
