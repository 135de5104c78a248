// The full port list, fast. Reading every column of ten thousand port rows and serializing them
// costs far more than the list's target allows, so each port's rendered JSON is remembered by
// (id, revision_number, security groups): a list reads only ids, revisions and security groups
// (one query), fetches whole rows only for ports it has not rendered at that revision, and
// splices the remembered JSON together. Every change of a port row bumps its revision_number
// (Neutron's standard-attr revisions), so a remembered rendering is never stale, on this replica
// or another; security groups live in another table and are part of the key.
import type { Kysely } from 'kysely';
import { BoundedMap } from '../../../lib/bounded-map.js';
import { type ListFilter, listPortsByIds, listPortVersions, type Viewer } from './store.js';
import type { CoreTables } from './tables.js';
import { portView } from './views.js';

interface Rendered {
  key: string;
  json: string;
}

/** Ports remembered per rendering (with and without the admin-only binding attributes). */
const CAPACITY = 200_000;
const FETCH_CHUNK = 500;

export class PortListCache {
  private readonly rendered = new BoundedMap<string, Rendered>(CAPACITY);

  /**
   * The JSON text of `{"ports": [...]}` for the viewer and database filter, with `hidden`
   * attributes left out. Only for queries without view-level filters or `fields`.
   */
  async listJson(
    db: Kysely<CoreTables>,
    viewer: Viewer,
    filter: ListFilter,
    hidden: ReadonlySet<string>,
  ): Promise<string> {
    const versions = await listPortVersions(db, viewer, filter);
    const variant = [...hidden].sort().join(',');
    const keys = versions.map(
      (version) => `${version.revision}|${version.securityGroups.join(',')}|${variant}`,
    );
    const missing: string[] = [];
    versions.forEach((version, index) => {
      if (this.rendered.get(`${variant}/${version.id}`)?.key !== keys[index]) missing.push(version.id);
    });
    for (let start = 0; start < missing.length; start += FETCH_CHUNK) {
      const ports = await listPortsByIds(db, missing.slice(start, start + FETCH_CHUNK));
      for (const port of ports) {
        const view = portView(port);
        for (const attribute of hidden) delete view[attribute];
        const key = `${port.revisionNumber}|${port.securityGroups.join(',')}|${variant}`;
        this.rendered.set(`${variant}/${port.id}`, { key, json: JSON.stringify(view) });
      }
    }
    const parts: string[] = [];
    versions.forEach((version) => {
      const entry = this.rendered.get(`${variant}/${version.id}`);
      // A port deleted between the two reads is left out; one changed meanwhile is shown as
      // it was fetched.
      if (entry) parts.push(entry.json);
    });
    return `{"ports":[${parts.join(',')}]}`;
  }
}
