import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';

function captureLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger('test', 'info', sink), lines };
}

describe('logging', () => {
  it('writes structured JSON lines with the logger name', () => {
    const { log, lines } = captureLogger();
    log.info({ user: 'alice' }, 'hello');
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ name: 'test', msg: 'hello', user: 'alice', level: 30 });
  });

  it('never writes passwords, secrets or tokens', () => {
    const { log, lines } = captureLogger();
    log.info(
      { password: 'hunter2', user: { password: 'hunter3' }, credential: { secret: 's3cr3t' } },
      'auth',
    );
    log.info({ req: { headers: { 'x-auth-token': 'gAAAAAtoken', authorization: 'Bearer abc' } } }, 'request');
    const text = lines.join('');
    for (const secret of ['hunter2', 'hunter3', 's3cr3t', 'gAAAAAtoken', 'Bearer abc']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('***');
  });
});
