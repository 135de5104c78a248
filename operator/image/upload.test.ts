import { createHash } from 'node:crypto';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TemporaryError, TerminalError } from '../framework/errors.js';
import { describeContentUrl, downloadFailure, HashMismatch, VerifiedData } from './upload.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const chunks = [Buffer.from('first '), Buffer.from('second '), Buffer.from('last')];
const all = Buffer.concat(chunks);

/** What `verified` lets out, and how it ended. */
function drain(verified: VerifiedData): Promise<{ out: Buffer; error: Error | undefined }> {
  const out: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => out.push(chunk));
  return new Promise((resolve) =>
    pipeline(Readable.from(chunks), verified, sink, (error) =>
      resolve({ out: Buffer.concat(out), error: error ?? undefined }),
    ),
  );
}

describe('VerifiedData', () => {
  it('passes the data unchanged when its digest matches (any case of hex)', async () => {
    const { out, error } = await drain(
      new VerifiedData({ algorithm: 'sha256', value: sha256(all).toUpperCase() }),
    );
    expect(error).toBeUndefined();
    expect(out.equals(all)).toBe(true);
  });

  it('never lets the last chunk out when the digest differs', async () => {
    const verified = new VerifiedData({ algorithm: 'sha256', value: '0'.repeat(64) });
    const { out, error } = await drain(verified);
    expect(error).toBeInstanceOf(HashMismatch);
    expect(error?.message).toBe(`downloaded data has sha256 ${sha256(all)}, expected ${'0'.repeat(64)}`);
    expect(verified.mismatch).toBe(error);
    expect(out.toString()).toBe('first second ');
  });

  it('holds one chunk back while hashing, releasing it as the next arrives', async () => {
    const verified = new VerifiedData({
      algorithm: 'md5',
      value: createHash('md5').update(all).digest('hex'),
    });
    const out: string[] = [];
    verified.on('data', (chunk: Buffer) => out.push(chunk.toString()));
    verified.write(chunks[0]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).toEqual([]);
    verified.write(chunks[1]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).toEqual(['first ']);
  });

  it('passes everything straight on without an expected hash', async () => {
    const { out, error } = await drain(new VerifiedData(undefined));
    expect(error).toBeUndefined();
    expect(out.equals(all)).toBe(true);
  });
});

describe('download failures', () => {
  it('takes 404 and other refusals as the spec to fix, 5xx, 408 and 429 as passing', () => {
    const url = 'https://user:pw@images.example/cirros.img?signature=s3cret';
    expect(describeContentUrl(url)).toBe('https://images.example/cirros.img');
    const missing = downloadFailure(url, 404);
    expect(missing).toBeInstanceOf(TerminalError);
    expect(missing.message).toBe(
      'downloading https://images.example/cirros.img failed: it answered 404 (there is no image data at this URL)',
    );
    expect(downloadFailure(url, 403)).toBeInstanceOf(TerminalError);
    for (const status of [500, 503, 408, 429])
      expect(downloadFailure(url, status)).toBeInstanceOf(TemporaryError);
  });
});
