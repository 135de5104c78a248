// A reader for subunit v2, the binary result stream stestr stores for every tempest run.
// Reading it ourselves keeps the results exact: each test's final status, its timing, and the
// attachments that say why it was skipped ("reason") or why it failed ("traceback").
//
// A packet is: 0xB3, 16-bit flags, a variable-length total packet length, then the fields the
// flags announce in this order — timestamp, test id, tags, MIME type, file content, route
// code — and a CRC32 of everything before it.
import { crc32 } from 'node:zlib';

const SIGNATURE = 0xb3;
const VERSION_2 = 0x2000;
const FLAG_TEST_ID = 0x0800;
const FLAG_ROUTE_CODE = 0x0400;
const FLAG_TIMESTAMP = 0x0200;
const FLAG_RUNNABLE = 0x0100;
const FLAG_TAGS = 0x0080;
const FLAG_FILE_CONTENT = 0x0040;
const FLAG_MIME_TYPE = 0x0020;
const FLAG_EOF = 0x0010;

export type SubunitStatus = 'exists' | 'inprogress' | 'success' | 'uxsuccess' | 'skip' | 'fail' | 'xfail';
const STATUS_BY_CODE: readonly (SubunitStatus | undefined)[] = [
  undefined,
  'exists',
  'inprogress',
  'success',
  'uxsuccess',
  'skip',
  'fail',
  'xfail',
];

export interface SubunitEvent {
  testId?: string;
  /** Undefined for packets that only carry an attachment. */
  status?: SubunitStatus;
  /** Milliseconds since the epoch. */
  timestamp?: number;
  tags?: string[];
  mimeType?: string;
  file?: { name: string; bytes: Buffer };
  eof: boolean;
  runnable: boolean;
  routeCode?: string;
}

export interface SubunitParse {
  events: SubunitEvent[];
  /** Why reading stopped before the end: a torn last packet (an interrupted run) or a bad one. */
  problem?: string;
}

class Cursor {
  constructor(
    private readonly data: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  private need(bytes: number): void {
    if (this.pos + bytes > this.end)
      throw new Error(`field runs past the end of its packet at byte ${this.pos}`);
  }

  u8(): number {
    this.need(1);
    return this.data.readUInt8(this.pos++);
  }

  u32(): number {
    this.need(4);
    const value = this.data.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  /** Subunit's number: the top two bits of the first byte say how many more bytes (0-3) follow. */
  varint(): number {
    const first = this.u8();
    const extra = first >> 6;
    let value = first & 0x3f;
    for (let i = 0; i < extra; i++) value = value * 256 + this.u8();
    return value;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const slice = this.data.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }

  utf8(): string {
    return this.bytes(this.varint()).toString('utf8');
  }
}

/**
 * Parses a whole subunit v2 stream. Bytes between packets that are not a packet signature
 * (stray output interleaved by a worker) are passed over; a packet that is cut short or fails
 * its checksum ends the parse with `problem` set, keeping every event before it.
 */
export function parseSubunit(data: Buffer): SubunitParse {
  const events: SubunitEvent[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] !== SIGNATURE) {
      pos++;
      continue;
    }
    if (pos + 4 > data.length)
      return { events, problem: `stream ends inside a packet header at byte ${pos}` };
    const flags = data.readUInt16BE(pos + 1);
    if ((flags & 0xf000) !== VERSION_2) {
      pos++;
      continue;
    }
    const header = new Cursor(data, pos + 3, data.length);
    let length: number;
    try {
      length = header.varint();
    } catch {
      return { events, problem: `stream ends inside a packet header at byte ${pos}` };
    }
    const end = pos + length;
    if (length < 8 || end > data.length) {
      return {
        events,
        problem: `packet at byte ${pos} claims ${length} bytes, the stream has ${data.length - pos}`,
      };
    }
    const stored = data.readUInt32BE(end - 4);
    if (crc32(data.subarray(pos, end - 4)) !== stored) {
      return { events, problem: `packet at byte ${pos} fails its CRC32` };
    }
    try {
      events.push(readPacket(data, flags, header.pos, end - 4));
    } catch (err) {
      return { events, problem: `packet at byte ${pos}: ${(err as Error).message}` };
    }
    pos = end;
  }
  return { events };
}

function readPacket(data: Buffer, flags: number, start: number, end: number): SubunitEvent {
  const cursor = new Cursor(data, start, end);
  const event: SubunitEvent = {
    eof: (flags & FLAG_EOF) !== 0,
    runnable: (flags & FLAG_RUNNABLE) !== 0,
    status: STATUS_BY_CODE[flags & 0x7],
  };
  if (flags & FLAG_TIMESTAMP) {
    const seconds = cursor.u32();
    const nanoseconds = cursor.varint();
    event.timestamp = seconds * 1000 + nanoseconds / 1e6;
  }
  if (flags & FLAG_TEST_ID) event.testId = cursor.utf8();
  if (flags & FLAG_TAGS) {
    const count = cursor.varint();
    event.tags = Array.from({ length: count }, () => cursor.utf8());
  }
  if (flags & FLAG_MIME_TYPE) event.mimeType = cursor.utf8();
  if (flags & FLAG_FILE_CONTENT) {
    const name = cursor.utf8();
    const bytes = Buffer.from(cursor.bytes(cursor.varint()));
    event.file = { name, bytes };
  }
  if (flags & FLAG_ROUTE_CODE) event.routeCode = cursor.utf8();
  return event;
}

/** What the stream says about one test: its last status, timing and attachments by name. */
export interface SubunitTest {
  id: string;
  status: SubunitStatus;
  startedAt?: number;
  stoppedAt?: number;
  attachments: Map<string, string>;
}

const FINAL_STATUSES = new Set<SubunitStatus>(['success', 'uxsuccess', 'skip', 'fail', 'xfail']);

/**
 * Folds events into one record per test id, in the order tests first appear. A test whose
 * last word is `inprogress` was started but never finished (its worker died or the run was
 * stopped); `exists` alone means it was only enumerated.
 */
export function testsOf(events: readonly SubunitEvent[]): SubunitTest[] {
  const tests = new Map<string, SubunitTest>();
  const chunks = new Map<string, Map<string, Buffer[]>>();
  for (const event of events) {
    if (event.testId === undefined) continue;
    let test = tests.get(event.testId);
    if (!test) {
      test = { id: event.testId, status: event.status ?? 'exists', attachments: new Map() };
      tests.set(event.testId, test);
    }
    if (event.file) {
      let files = chunks.get(event.testId);
      if (!files) {
        files = new Map();
        chunks.set(event.testId, files);
      }
      const parts = files.get(event.file.name) ?? [];
      parts.push(event.file.bytes);
      files.set(event.file.name, parts);
    }
    if (event.status === undefined) continue;
    // A final status is never taken back by a later `exists` or `inprogress` of the same id.
    if (FINAL_STATUSES.has(test.status) && !FINAL_STATUSES.has(event.status)) continue;
    test.status = event.status;
    if (event.status === 'inprogress' && event.timestamp !== undefined) test.startedAt = event.timestamp;
    if (FINAL_STATUSES.has(event.status) && event.timestamp !== undefined) test.stoppedAt = event.timestamp;
  }
  for (const [id, files] of chunks) {
    const test = tests.get(id)!;
    for (const [name, parts] of files) test.attachments.set(name, Buffer.concat(parts).toString('utf8'));
  }
  return [...tests.values()];
}
