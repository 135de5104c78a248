// The image benchmark: upload and download throughput of one image through `overcast up`
// (PUT and GET /image/v2/images/{id}/file) against what the disk itself does in the same run
// on the same filesystem: `cat` of the same source file into a new file, fsynced (the store
// makes every upload durable before it answers), and `cat` of a cold file to /dev/null. Uploads
// are also compared with streamed writes (`cat source | cat > file`, see catThroughPipe).
//
//   npm run bench:image [-- options]
//     --size-mib N      image size in MiB (default 1024)
//     --runs N          rounds; the best of each row is compared (default 3)
//     --state-dir DIR   where the server, the source file and the copies live (default: a new
//                       directory under /tmp); the disk measured is the one holding it
//     --json FILE       also write the raw results there
//     --no-build        measure Overcast as already built in dist/ (default: npm run build first)
//
// Reads are made cold before each read row: the kernel's page cache is dropped
// (/proc/sys/vm/drop_caches, as root) or, where that is not allowed, the file's own cached
// pages are (dd iflag=nocache). Write rows read a source that is in the page cache, so both
// sides measure writing, not reading the source.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { run } from '../../lib/exec.js';
import { defaultCacheDir, type KitContext } from '../../lib/kit/common.js';
import { issueAdminToken } from '../identity/identity-api.js';
import { encodeRequest } from '../lib/http-connection.js';
import { benchCommandLine, COMMON_BENCH_OPTIONS } from '../lib/options.js';
import { buildOvercast, type OvercastServer, startOvercast } from '../lib/overcast.js';
import { cpuSeconds } from '../lib/procfs.js';
import { waitForQuiet as waitForQuietMachine } from '../lib/quiet.js';
import { gitRevision, machineDescription, publishReport } from '../lib/report.js';
import { formatTable, round3 } from '../lib/table.js';

const TARGET_RATIO = 0.7;
const MB = 1_000_000;
const MiB = 1024 * 1024;
const IO_CHUNK_BYTES = MiB;

const cli = benchCommandLine('image', {
  'size-mib': { type: 'string' },
  runs: { type: 'string' },
  ...COMMON_BENCH_OPTIONS,
});
const { values } = cli;
const sizeBytes = cli.integer('size-mib', 1024) * MiB;
const runs = cli.integer('runs', 3);
const ownStateDir = values['state-dir'] === undefined;
const stateDir = values['state-dir'] ?? (await mkdtemp(join(tmpdir(), 'overcast-bench-image-')));
const ctx: KitContext = {
  cacheDir: defaultCacheDir(),
  stateDir,
  progress: (line) => process.stderr.write(`[bench] ${line}\n`),
};

type RowName = 'upload' | 'download';

interface Measurement {
  seconds: number;
  /** CPU the server used during the transfer, in cores (Overcast rows only). */
  serverCores?: number;
  /** Highest server RSS minus its RSS just before the transfer (Overcast rows only). */
  rssGrowthBytes?: number;
  /** CPU this benchmark's own client used during the transfer, in cores (Overcast rows only). */
  clientCores?: number;
}

/** `cat source | cat > file; fsync`: the disk's write speed for streamed data (catThroughPipe). */
const streamedDiskWrites: Measurement[] = [];
const measured: Record<'disk' | 'overcast', Record<RowName, Measurement[]>> = {
  disk: { upload: [], download: [] },
  overcast: { upload: [], download: [] },
};
let cacheDropMethod = '';
let hashingMBps = { md5: Number.NaN, sha512: Number.NaN };

// ---------------------------------------------------------------- a quiet machine

let server: OvercastServer | undefined;
let noisyRows = 0;

/**
 * Waits (at most half a minute) until everything but the server and this benchmark has used
 * under 0.15 cores for two seconds running: the machine is shared, and a transfer measured while
 * someone else compiles says little. Counts the rows that never got a quiet machine.
 */
async function waitForQuiet(): Promise<void> {
  if (!(await waitForQuietMachine(async () => (server ? await server.pids() : [])))) {
    noisyRows++;
    ctx.progress('the machine did not get quiet within half a minute; measuring anyway');
  }
}

// ---------------------------------------------------------------- the disk side

/** Runs `cat source` with its output going to `output`; resolves once cat has exited. */
function cat(source: string, outputFd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cat', [source], { stdio: ['ignore', outputFd, 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`cat ${source} exited with ${code}`)),
    );
  });
}

/**
 * Runs `cat source | cat` with the second cat's output going to `output`. GNU cat copies a file
 * into a file with copy_file_range, inside the kernel, the bytes never passing through a
 * process; an upload's bytes arrive on a socket and have to be written from user memory. The
 * second cat reads a pipe, so it writes the way an upload has to (read, then write from user
 * memory): the disk's speed for streamed data.
 */
function catThroughPipe(source: string, outputFd: number): Promise<void> {
  const reader = spawn('cat', [source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const writer = spawn('cat', [], { stdio: [reader.stdout, outputFd, 'inherit'] });
  const exited = (child: ChildProcess, what: string) =>
    new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited with ${code}`))));
    });
  return Promise.all([exited(reader, `cat ${source}`), exited(writer, 'cat (from a pipe)')]).then(
    () => undefined,
  );
}

/** Reads a file through once so the next reader finds it in the page cache. */
async function warm(file: string): Promise<void> {
  const devNull = await open('/dev/null', 'w');
  try {
    await cat(file, devNull.fd);
  } finally {
    await devNull.close();
  }
}

/** Makes the next read of `file` come from the disk (see the header for how). */
async function dropCache(file: string): Promise<void> {
  await run(['sync']);
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    cacheDropMethod = 'whole page cache dropped (echo 3 > /proc/sys/vm/drop_caches)';
  } catch {
    await run(['dd', `if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
    cacheDropMethod = "the file's cached pages dropped (dd iflag=nocache count=0)";
  }
}

async function diskWrite(source: string, target: string, throughPipe = false): Promise<Measurement> {
  await warm(source);
  await waitForQuiet();
  await rm(target, { force: true });
  await run(['sync']);
  const started = performance.now();
  const file = await open(target, 'w');
  try {
    await (throughPipe ? catThroughPipe(source, file.fd) : cat(source, file.fd));
    await file.sync();
  } finally {
    await file.close();
  }
  return { seconds: (performance.now() - started) / 1000 };
}

async function diskRead(file: string): Promise<Measurement> {
  await dropCache(file);
  await waitForQuiet();
  const started = performance.now();
  const devNull = await open('/dev/null', 'w');
  try {
    await cat(file, devNull.fd);
  } finally {
    await devNull.close();
  }
  return { seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------- the Overcast side

/** Samples the server's RSS every 100 ms while `transfer` runs; measures its CPU and time too. */
async function whileSampling(server: OvercastServer, transfer: () => Promise<void>): Promise<Measurement> {
  await waitForQuiet();
  const pids = await server.pids();
  const rssBefore = await server.rssBytes();
  const cpuBefore = await cpuSeconds(pids);
  let peak = rssBefore;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await server.rssBytes());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  try {
    await transfer();
  } finally {
    sampling = false;
    await sampler;
  }
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  return {
    seconds,
    clientCores: (client.user + client.system) / 1e6 / seconds,
    serverCores: ((await cpuSeconds(pids)) - cpuBefore) / seconds,
    rssGrowthBytes: peak - rssBefore,
  };
}

/** One HTTP exchange; resolves with the status and the body (read to its end, kept only if `keep`). */
function exchange(
  server: OvercastServer,
  token: string,
  method: string,
  path: string,
  options: {
    headers?: Record<string, string | number>;
    body?: NodeJS.ReadableStream | string;
    keep?: boolean;
  } = {},
): Promise<{ status: number; bytes: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(new URL(path, server.baseUrl), {
      method,
      headers: { 'x-auth-token': token, ...options.headers },
      agent: false,
    });
    request.on('error', reject);
    request.on('response', (response) => {
      let bytes = 0;
      const kept: Buffer[] = [];
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (options.keep) kept.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, bytes, body: Buffer.concat(kept).toString() }),
      );
    });
    if (typeof options.body === 'object') options.body.pipe(request);
    else request.end(options.body);
  });
}

async function createImage(server: OvercastServer, token: string, name: string): Promise<string> {
  const created = await exchange(server, token, 'POST', '/image/v2/images', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, disk_format: 'raw', container_format: 'bare' }),
    keep: true,
  });
  if (created.status !== 201)
    throw new Error(`POST /image/v2/images answered ${created.status}: ${created.body}`);
  return (JSON.parse(created.body) as { id: string }).id;
}

async function overcastUpload(
  server: OvercastServer,
  token: string,
  source: string,
  sourceMd5: string,
  imageId: string,
): Promise<Measurement> {
  await warm(source);
  const measurement = await whileSampling(server, async () => {
    const uploaded = await exchange(server, token, 'PUT', `/image/v2/images/${imageId}/file`, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': sizeBytes },
      body: createReadStream(source, { highWaterMark: IO_CHUNK_BYTES }),
      keep: true,
    });
    if (uploaded.status !== 204) throw new Error(`upload answered ${uploaded.status}: ${uploaded.body}`);
  });
  const shown = await exchange(server, token, 'GET', `/image/v2/images/${imageId}`, { keep: true });
  const image = JSON.parse(shown.body) as { status: string; checksum: string; size: number };
  if (image.status !== 'active' || image.checksum !== sourceMd5 || image.size !== sizeBytes) {
    throw new Error(`uploaded image is not what was sent: ${shown.body.slice(0, 300)}`);
  }
  return measurement;
}

/**
 * GET of a large body by a client as cheap as `cat > /dev/null`: a plain socket reading into one
 * reused buffer and counting. node:http's client allocates a buffer for every 64 KiB it reads;
 * on two cores that costs the server being measured a third of its throughput.
 */
function countingGet(
  server: OvercastServer,
  token: string,
  path: string,
): Promise<{ status: number; bytes: number }> {
  const origin = new URL(server.baseUrl);
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let status = 0;
    let expected: number | undefined;
    let bytes = 0;
    const socket = connect({
      host: origin.hostname,
      port: Number(origin.port),
      onread: {
        buffer: Buffer.allocUnsafe(IO_CHUNK_BYTES),
        callback: (length, buffer) => {
          let body = buffer.subarray(0, length);
          if (expected === undefined) {
            // The head is copied out of the reused buffer until it is complete.
            head = Buffer.concat([head, body]);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) return true;
            const text = head.subarray(0, end).toString('latin1');
            status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
            expected = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
            body = head.subarray(end + 4);
          }
          bytes += body.length;
          if (bytes >= expected) {
            socket.destroy();
            resolve({ status, bytes });
          }
          return true;
        },
      },
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`GET ${path}: connection closed after ${bytes} bytes`)));
    socket.write(
      encodeRequest(
        { method: 'GET', path, headers: { 'x-auth-token': token, connection: 'close' } },
        origin.host,
      ),
    );
  });
}

async function overcastDownload(
  server: OvercastServer,
  token: string,
  imageId: string,
): Promise<Measurement> {
  await dropCache(join(server.dataDir, 'images', imageId));
  return whileSampling(server, async () => {
    const downloaded = await countingGet(server, token, `/image/v2/images/${imageId}/file`);
    if (downloaded.status !== 200 || downloaded.bytes !== sizeBytes) {
      throw new Error(`download answered ${downloaded.status} with ${downloaded.bytes} bytes`);
    }
  });
}

// ---------------------------------------------------------------- the run

/** The source image: random (incompressible) bytes; returns their MD5. */
async function writeSource(file: string): Promise<string> {
  const md5 = createHash('md5');
  const output = createWriteStream(file);
  await pipeline(async function* () {
    for (let written = 0; written < sizeBytes; written += IO_CHUNK_BYTES) {
      const chunk = randomBytes(Math.min(IO_CHUNK_BYTES, sizeBytes - written));
      md5.update(chunk);
      yield chunk;
    }
  }, output);
  return md5.digest('hex');
}

/**
 * How fast one core hashes, per algorithm: every upload needs the MD5 and the SHA-512 of its
 * data, each computed on a thread of its own, so no upload can go faster than the slower of
 * the two. Measured right before the rounds, on the same machine.
 */
function hashingThroughput(): Record<'md5' | 'sha512', number> {
  const chunk = randomBytes(IO_CHUNK_BYTES);
  const rate = (algorithm: string) => {
    const hash = createHash(algorithm);
    const rounds = 256;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) hash.update(chunk);
    hash.digest();
    return (rounds * IO_CHUNK_BYTES) / MB / ((performance.now() - started) / 1000);
  };
  return { md5: rate('md5'), sha512: rate('sha512') };
}

let unavailable: string | undefined;
try {
  if (!values['no-build']) {
    ctx.progress('building Overcast (npm run build)');
    const failure = await buildOvercast();
    if (failure) throw new Error(failure);
  }
  server = await startOvercast(ctx);
  const token = await issueAdminToken(
    { origin: server.baseUrl, v3Path: '/identity/v3', adminPassword: server.adminPassword },
    'project',
  );
  const source = join(stateDir, 'source.bin');
  const copy = join(stateDir, 'copy.bin');
  ctx.progress(`writing a ${sizeBytes / MiB} MiB source file of random bytes`);
  const sourceMd5 = await writeSource(source);
  hashingMBps = hashingThroughput();

  for (let round = 1; round <= runs; round++) {
    ctx.progress(`round ${round} of ${runs}: disk write, Overcast upload, disk read, Overcast download`);
    measured.disk.upload.push(await diskWrite(source, copy));
    streamedDiskWrites.push(await diskWrite(source, copy, true));
    const imageId = await createImage(server, token, `bench-${round}`);
    measured.overcast.upload.push(await overcastUpload(server, token, source, sourceMd5, imageId));
    measured.disk.download.push(await diskRead(copy));
    measured.overcast.download.push(await overcastDownload(server, token, imageId));
    const deleted = await exchange(server, token, 'DELETE', `/image/v2/images/${imageId}`);
    if (deleted.status !== 204) throw new Error(`DELETE of the image answered ${deleted.status}`);
    await rm(copy, { force: true });
  }
} catch (err) {
  unavailable = (err as Error).message;
} finally {
  await server?.stop().catch(() => undefined);
  if (ownStateDir) await rm(stateDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- report
// The best round of each side: on a machine shared with other people's work, the fastest of
// a few rounds is the one least disturbed, for the disk as for Overcast. Every round is listed
// in the details.
const bestMBps = (measurements: Measurement[]) =>
  measurements.length === 0 ? Number.NaN : Math.max(...measurements.map((m) => sizeBytes / MB / m.seconds));
const revision = await gitRevision();

const LABELS: Record<RowName, [string, string]> = {
  upload: ['upload (PUT /file)', 'cat source > file; fsync'],
  download: ['download (GET /file)', 'cat cold file > /dev/null'],
};
const hashBound = Math.min(hashingMBps.md5, hashingMBps.sha512);
const rows: string[][] = [];
const details: string[][] = [];
for (const name of ['upload', 'download'] as const) {
  const disk = bestMBps(measured.disk[name]);
  const overcast = bestMBps(measured.overcast[name]);
  const ratio = overcast / disk;
  rows.push([
    LABELS[name][0],
    round3(disk),
    round3(overcast),
    Number.isFinite(ratio) ? `${round3(ratio)}x` : '-',
    Number.isFinite(ratio) ? (ratio >= TARGET_RATIO ? 'met' : 'missed') : 'not evaluated',
  ]);
  for (const [index, m] of measured.overcast[name].entries()) {
    const diskRun = measured.disk[name][index];
    details.push([
      LABELS[name][0],
      String(index + 1),
      diskRun ? round3(sizeBytes / MB / diskRun.seconds) : '-',
      round3(sizeBytes / MB / m.seconds),
      m.serverCores === undefined ? '-' : m.serverCores.toFixed(2),
      m.clientCores === undefined ? '-' : m.clientCores.toFixed(2),
      m.rssGrowthBytes === undefined ? '-' : (m.rssGrowthBytes / MB).toFixed(1),
    ]);
  }
}

const report = [
  `Image benchmark, ${new Date().toISOString()}`,
  `Overcast ${revision || '(unknown revision)'}: overcast up, SQLite, filesystem store${unavailable ? ` -- not available: ${unavailable}` : ''}`,
  `machine: ${machineDescription()}; client, server and cat share it`,
  `image: ${sizeBytes / MiB} MiB of random bytes, ${runs} round(s), the best round of each row below; MB = 10^6 bytes`,
  `disk rows: cat on the same filesystem (${stateDir}); cold reads: ${cacheDropMethod || 'not measured'}`,
  `hashing on one core: MD5 ${round3(hashingMBps.md5)} MB/s, SHA-512 ${round3(hashingMBps.sha512)} MB/s (an upload computes both, each on a thread of its own)`,
  `rows measured without a quiet machine (other processes above 0.15 cores for 30 s): ${noisyRows}`,
  '',
  formatTable(['transfer', 'disk MB/s', 'Overcast MB/s', 'ratio', `target >= ${TARGET_RATIO}x`], rows),
  `upload against the slower hash on one core (${round3(hashBound)} MB/s): ${round3(bestMBps(measured.overcast.upload) / hashBound)}x`,
  `upload against streamed writes to the disk (cat source | cat > file; fsync: ${round3(bestMBps(streamedDiskWrites))} MB/s): ${round3(bestMBps(measured.overcast.upload) / bestMBps(streamedDiskWrites))}x`,
  '',
  'per round: server cores / client cores = CPU the overcast process / this benchmark used per second of',
  "the transfer; RSS growth = the server's highest resident memory during the transfer minus just before:",
  formatTable(
    ['transfer', 'round', 'disk MB/s', 'Overcast MB/s', 'server cores', 'client cores', 'RSS growth MB'],
    details,
  ),
];
await publishReport(report, values.json, () => ({
  revision,
  sizeBytes,
  runs,
  cacheDropMethod,
  hashingMBps,
  unavailable,
  measured,
  streamedDiskWrites,
}));
if (unavailable) process.exitCode = 1;
