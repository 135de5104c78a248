// A fresh, empty database of either dialect for one test: a SQLite file in the test's own
// directory, or a new database on the kit's MariaDB.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createDatabaseOn } from '../../lib/kit/mariadb.js';
import { required } from './inject.js';

export type Dialect = 'sqlite' | 'mysql';

export async function createDatabaseFor(dialect: Dialect, dir: string): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  if (dialect === 'sqlite') return `sqlite:${join(dir, `${name}.sqlite`)}`;
  return createDatabaseOn(required('mariadbAdminUrl'), required('mariadbUrl'), name);
}
