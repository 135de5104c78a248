import { describe, expect, it } from 'vitest';
import { splitLines } from './lines.js';

function framed(chunks: Buffer[]): string[] {
  const lines: string[] = [];
  const splitter = splitLines((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe('watch line framing', () => {
  const events = [
    '{"type":"ADDED","object":{"metadata":{"name":"a"}}}',
    '{"type":"MODIFIED","object":{"metadata":{"name":"réseau-é"}}}',
    '{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}}',
  ];
  const stream = Buffer.from(`${events.join('\n')}\n`);

  it('gives each line once, wherever the chunks are cut, even inside a character', () => {
    for (let size = 1; size <= stream.length; size++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
      expect(framed(chunks), `chunks of ${size} bytes`).toEqual(events);
    }
  });

  it('keeps a last line without its newline, and skips blank lines and carriage returns', () => {
    expect(framed([Buffer.from('{"a":1}\r\n\n\n{"b":2}')])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('gives nothing for a line not finished until the stream ends', () => {
    const lines: string[] = [];
    const splitter = splitLines((line) => lines.push(line));
    splitter.push(Buffer.from('{"type":"ADD'));
    expect(lines).toEqual([]);
    splitter.push(Buffer.from('ED"}\n'));
    expect(lines).toEqual(['{"type":"ADDED"}']);
  });
});
