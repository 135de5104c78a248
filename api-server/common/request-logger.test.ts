import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.js';
import { deferredChildLogger } from './request-logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const parent = createLogger('test', 'info', sink) as FastifyBaseLogger;
  let children = 0;
  const counting = Object.create(parent, {
    child: {
      value: (...args: Parameters<FastifyBaseLogger['child']>) => {
        children++;
        return parent.child(...args);
      },
    },
  }) as FastifyBaseLogger;
  return { parent: counting, lines, children: () => children };
}

describe('the per-request logger', () => {
  it('makes its child logger on the first line only, and binds the request id to every line', () => {
    const { parent, lines, children } = capture();
    const log = deferredChildLogger(parent, { request_id: 'req-1' }, {});
    expect(log.level).toBe('info');
    log.debug('below the level');
    expect(children()).toBe(1);
    log.info({ status: 404 }, 'request rejected');
    log.warn('plain %s', 'message');
    expect(children()).toBe(1);
    expect(lines).toMatchObject([
      { request_id: 'req-1', status: 404, msg: 'request rejected', level: 30 },
      { request_id: 'req-1', msg: 'plain message', level: 40 },
    ]);
  });

  it('never makes one for a request that does not log', () => {
    const { parent, children } = capture();
    const log = deferredChildLogger(parent, { request_id: 'req-2' }, {});
    expect(log.level).toBe('info');
    expect(children()).toBe(0);
  });

  it('keeps the redaction of the logger it comes from', () => {
    const { parent, lines } = capture();
    deferredChildLogger(parent, { request_id: 'req-3' }, {}).error({ password: 'hunter2' }, 'failed');
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(lines[0]).toMatchObject({ request_id: 'req-3', password: '***' });
  });

  it('takes a level of its own, and makes children of its own', () => {
    const { parent, lines } = capture();
    const log = deferredChildLogger(parent, { request_id: 'req-4' }, {});
    log.level = 'debug';
    log.debug('now shown');
    log.child({ step: 'upload' }).info('nested');
    expect(lines).toMatchObject([
      { request_id: 'req-4', msg: 'now shown', level: 20 },
      { request_id: 'req-4', step: 'upload', msg: 'nested' },
    ]);
    expect(parent.level).toBe('info');
  });
});
