// The full port list, fast. Reading every column of ten thousand port rows and serializing them
// costs far more than the list's target allows, so each port's rendered JSON is remembered by
// (id, revision_number, security groups): a list reads only ids, revisions and security groups
// (one query), fetches whole rows only for ports it has not rendered at that revision, and
// splices the remembered JSON together. Every change of a port row bumps its revision_number
// (Neutron's standard-attr revisions), so a remembered rendering is never stale, on this replica
// or another; security groups live in another table and are part of the key. Identical lists
// that arrive while two of them are being read share the next read (lib/shared-reads.ts), and
// lists by device that arrive together share one query (lib/key-batcher.ts).
import type { Kysely } from 'kysely';
import { BoundedMap } from '../../../lib/bounded-map.js';
import { KeyBatcher } from '../../../lib/key-batcher.js';
import { SharedReads } from '../../../lib/shared-reads.js';
import {
  foldPortVersions,
  type ListFilter,
  listPortsByIds,
  listPortVersionRows,
  type PortVersion,
  type PortVersionRow,
  type Viewer,
} from './store.js';
import type { CoreTables } from './tables.js';
import { portView } from './views.js';

interface Rendered {
  revision: number;
  securityGroups: string;
  json: string;
}

/** A list answer, and the versions of the ports it was built from. */
interface Answer {
  versions: PortVersion[];
  body: Buffer;
}

/** Ports remembered per rendering (with and without the admin-only binding attributes). */
const CAPACITY = 200_000;
const FETCH_CHUNK = 500;
/** Answers remembered (the last one per viewer, filter and rendering), and their total size. */
const ANSWERS = 32;
const ANSWER_BYTES = 32 * 2 ** 20;
/**
 * Device lists of one viewer and filter read at once; more wait and are read together. Two,
 * so that one slow answer does not hold up every list of its group.
 */
const DEVICE_LISTS_IN_FLIGHT = 2;
const DEVICES_PER_QUERY = 100;
/**
 * Reads of one list (viewer, filter and rendering) at once; more wait and share the next. When
 * 32 clients each read the 10,000-port list for themselves, MariaDB sent its rows 32 times over
 * and the server parsed them all: shared, such lists went from about 50 to about 175 a second,
 * and the server's peak RSS during them from 365-400 to about 300 MB.
 */
const SAME_LISTS_IN_FLIGHT = 2;

function sameVersions(a: readonly PortVersion[], b: readonly PortVersion[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.id !== y.id || x.revision !== y.revision || x.securityGroups !== y.securityGroups) return false;
  }
  return true;
}

export class PortListCache {
  /** Each port's rendering, per set of hidden attributes. */
  private readonly rendered = new Map<string, BoundedMap<string, Rendered>>();
  /**
   * The last answer to each list. While none of its ports changed, the answer is sent again as
   * it was: a list of ten thousand unchanged ports costs its one query and the copy to the
   * socket, not ten thousand lookups, a join and the encoding of megabytes of text.
   */
  private readonly answers = new BoundedMap<string, Answer>(ANSWERS);
  private answerBytes = 0;
  /** Reads lists by device together; undefined where each is read alone. */
  private readonly byDevice: KeyBatcher<PortVersionRow> | undefined;
  private readonly sameLists = new SharedReads<Buffer>(SAME_LISTS_IN_FLIGHT);

  constructor(options: { batchDeviceLists: boolean }) {
    this.byDevice = options.batchDeviceLists
      ? new KeyBatcher<PortVersionRow>((row) => row.device_id, {
          maxInFlight: DEVICE_LISTS_IN_FLIGHT,
          maxKeys: DEVICES_PER_QUERY,
        })
      : undefined;
  }

  /**
   * The JSON of `{"ports": [...]}` for the viewer and database filter, with `hidden`
   * attributes left out. Only for queries without view-level filters or `fields`.
   */
  async listJson(
    db: Kysely<CoreTables>,
    viewer: Viewer,
    filter: ListFilter,
    hidden: ReadonlySet<string>,
  ): Promise<Buffer> {
    const variant = [...hidden].sort().join(',');
    const listKey = JSON.stringify([variant, viewer, filter]);
    return this.sameLists.read(listKey, () => this.readList(db, viewer, filter, hidden, variant, listKey));
  }

  /** The list read and rendered: the last answer again while none of its ports changed. */
  private async readList(
    db: Kysely<CoreTables>,
    viewer: Viewer,
    filter: ListFilter,
    hidden: ReadonlySet<string>,
    variant: string,
    listKey: string,
  ): Promise<Buffer> {
    const versions = await this.versionsOf(db, viewer, filter);
    const last = this.answers.get(listKey);
    if (last && sameVersions(last.versions, versions)) return last.body;

    let rendered = this.rendered.get(variant);
    if (!rendered) {
      rendered = new BoundedMap<string, Rendered>(CAPACITY);
      this.rendered.set(variant, rendered);
    }
    const missing: string[] = [];
    for (const version of versions) {
      const entry = rendered.get(version.id);
      if (entry?.revision !== version.revision || entry.securityGroups !== version.securityGroups)
        missing.push(version.id);
    }
    for (let start = 0; start < missing.length; start += FETCH_CHUNK) {
      const ports = await listPortsByIds(db, missing.slice(start, start + FETCH_CHUNK));
      for (const port of ports) {
        const view = portView(port);
        for (const attribute of hidden) delete view[attribute];
        rendered.set(port.id, {
          revision: port.revisionNumber,
          securityGroups: port.securityGroups.join(','),
          json: JSON.stringify(view),
        });
      }
    }
    const parts: string[] = [];
    for (const version of versions) {
      // A port deleted between the two reads is left out; one changed meanwhile is shown as
      // it was fetched (and the answer, remembered with the versions listed, is not reused).
      const entry = rendered.get(version.id);
      if (entry) parts.push(entry.json);
    }
    const body = Buffer.from(`{"ports":[${parts.join(',')}]}`);
    this.remember(listKey, { versions, body });
    return body;
  }

  /**
   * The versions of the ports a list shows. Lists by device (Nova asks for an instance's
   * ports this way, again and again) that arrive while others run are read together, where
   * the database is a round trip away.
   */
  private async versionsOf(
    db: Kysely<CoreTables>,
    viewer: Viewer,
    filter: ListFilter,
  ): Promise<PortVersion[]> {
    const { deviceId, ...others } = filter;
    if (!deviceId || !this.byDevice) return foldPortVersions(await listPortVersionRows(db, viewer, filter));
    const rows = await this.byDevice.load(JSON.stringify([viewer, others]), deviceId, (devices) =>
      listPortVersionRows(db, viewer, { ...others, deviceId: [...devices] }),
    );
    return foldPortVersions(rows);
  }

  private remember(key: string, answer: Answer): void {
    const previous = this.answers.get(key);
    if (previous) {
      this.answers.delete(key);
      this.answerBytes -= previous.body.length;
    }
    if (answer.body.length > ANSWER_BYTES) return;
    while (this.answerBytes + answer.body.length > ANSWER_BYTES || this.answers.size >= ANSWERS) {
      const [oldestKey, oldest] = this.answers.entries().next().value as [string, Answer];
      this.answers.delete(oldestKey);
      this.answerBytes -= oldest.body.length;
    }
    this.answers.set(key, answer);
    this.answerBytes += answer.body.length;
  }
}
