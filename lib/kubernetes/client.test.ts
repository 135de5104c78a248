// The client against a plain HTTP server playing the apiserver's part on the wire (the real
// kube-apiserver is exercised by the operator's integration tests): what it sends, and how it
// reads answers and watch streams however they are cut.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KubernetesClient } from './client.js';
import { KubernetesApiError } from './errors.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
let client: KubernetesClient | undefined;

afterEach(async () => {
  vi.useRealTimers();
  client?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function serve(
  answer: (request: Seen, response: ServerResponse) => void,
  config: { token?: string; tokenFile?: string } = {},
): Promise<{ client: KubernetesClient; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const got = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(got);
      answer(got, response);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new KubernetesClient({ server: `http://127.0.0.1:${port}`, ...config });
  return { client, seen };
}

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
};

describe('Kubernetes client requests', () => {
  it('sends JSON, a merge patch with its content type, and the bearer token', async () => {
    const { client, seen } = await serve(
      (request, response) => json(response, 200, { echoed: request.method }),
      {
        token: 'abc',
      },
    );
    expect(await client.put('/api/v1/namespaces/n/secrets/s', { data: {} })).toEqual({ echoed: 'PUT' });
    await client.mergePatch('/api/v1/namespaces/n/secrets/s', { metadata: { finalizers: ['f'] } });
    await client.get('/apis/g/v1/things', { limit: 5, continue: undefined });
    expect(
      seen.map(({ method, url, headers, body }) => [method, url, headers['content-type'], body]),
    ).toEqual([
      ['PUT', '/api/v1/namespaces/n/secrets/s', 'application/json', '{"data":{}}'],
      [
        'PATCH',
        '/api/v1/namespaces/n/secrets/s',
        'application/merge-patch+json',
        '{"metadata":{"finalizers":["f"]}}',
      ],
      ['GET', '/apis/g/v1/things?limit=5', undefined, ''],
    ]);
    expect(seen.every((request) => request.headers.authorization === 'Bearer abc')).toBe(true);
  });

  it('fails with the status and the Status message', async () => {
    const { client } = await serve((_, response) =>
      json(response, 404, {
        kind: 'Status',
        reason: 'NotFound',
        message: 'secrets "s" not found',
        code: 404,
      }),
    );
    const failure = await client.get('/api/v1/namespaces/n/secrets/s').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KubernetesApiError);
    expect(failure).toMatchObject({
      statusCode: 404,
      reason: 'NotFound',
      message: 'the Kubernetes API answered 404: secrets "s" not found',
    });
  });

  it('reads a token file again once a minute, as the kubelet rotates it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'token-')), 'token');
    writeFileSync(tokenFile, 'first\n');
    const { client, seen } = await serve((_, response) => json(response, 200, {}), { tokenFile });
    await client.get('/version');
    writeFileSync(tokenFile, 'second\n');
    await client.get('/version');
    vi.advanceTimersByTime(61_000);
    await client.get('/version');
    expect(seen.map((request) => request.headers.authorization)).toEqual([
      'Bearer first',
      'Bearer first',
      'Bearer second',
    ]);
  });
});

describe('Kubernetes client watches', () => {
  const watch = (client: KubernetesClient) => {
    const events: [string, unknown][] = [];
    let ended: (error: unknown) => void = () => undefined;
    const end = new Promise<unknown>((resolve) => {
      ended = resolve;
    });
    const opened = client.watch(
      '/apis/g/v1/things',
      { resourceVersion: '7', allowWatchBookmarks: true, timeoutSeconds: 30 },
      (type, object) => events.push([type, object]),
      (error) => ended(error ?? 'closed by the server'),
    );
    return { events, end, opened };
  };

  it('streams events however the lines are cut, then ends when the server closes', async () => {
    const lines = `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'é' } } })}\n${JSON.stringify(
      {
        type: 'BOOKMARK',
        object: { metadata: { resourceVersion: '9' } },
      },
    )}\n`;
    const { client, seen } = await serve((_, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      const bytes = Buffer.from(lines);
      // Cut inside the é (two bytes) and in the middle of the second line.
      const insideE = bytes.indexOf(Buffer.from('é')) + 1;
      const middleOfSecond = bytes.indexOf('\n') + 20;
      for (const [from, to] of [
        [0, insideE],
        [insideE, middleOfSecond],
        [middleOfSecond, bytes.length],
      ])
        response.write(bytes.subarray(from, to));
      response.end();
    });
    const { events, end } = watch(client);
    expect(await end).toBe('closed by the server');
    expect(events).toEqual([
      ['ADDED', { metadata: { name: 'é' } }],
      ['BOOKMARK', { metadata: { resourceVersion: '9' } }],
    ]);
    expect(seen[0]?.url).toBe(
      '/apis/g/v1/things?resourceVersion=7&allowWatchBookmarks=true&timeoutSeconds=30&watch=true',
    );
  });

  it('ends with a KubernetesApiError when the watch is refused', async () => {
    const { client } = await serve((_, response) =>
      json(response, 410, { kind: 'Status', reason: 'Expired', message: 'too old resource version: 7 (9)' }),
    );
    const error = await watch(client).end;
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({ statusCode: 410, reason: 'Expired' });
  });

  it('ends with an error on a line that is not an event', async () => {
    for (const line of ['<html>', 'null', '{"object":{}}']) {
      const { client } = await serve((_, response) => {
        response.writeHead(200);
        response.end(`${line}\n`);
      });
      expect(String(await watch(client).end), line).toMatch(/sent a line that is not an event/);
      client.close();
      await new Promise((resolve) => server?.close(resolve));
      server = undefined;
    }
  });

  it('ends the stream, not the process, when the event handler throws', async () => {
    const { client } = await serve((_, response) => {
      response.writeHead(200);
      response.write(`${JSON.stringify({ type: 'ADDED', object: {} })}\n`);
    });
    let ended: (error: unknown) => void = () => undefined;
    const end = new Promise((resolve) => {
      ended = resolve;
    });
    await client.watch(
      '/apis/g/v1/things',
      {},
      () => {
        throw new Error('handler failed');
      },
      (error) => ended(error),
    );
    expect(String(await end)).toBe('Error: handler failed');
  });

  it('stops at once when aborted, without calling onEnd', async () => {
    let held: ServerResponse | undefined;
    const { client } = await serve((_, response) => {
      response.writeHead(200);
      response.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
      held = response;
    });
    const { events, end, opened } = watch(client);
    await vi.waitFor(() => expect(events).toHaveLength(1));
    (await opened).abort();
    const closed = new Promise((resolve) => held?.on('close', resolve));
    await closed;
    const outcome = await Promise.race([
      end,
      new Promise((resolve) => setTimeout(() => resolve('no onEnd'), 200)),
    ]);
    expect(outcome).toBe('no onEnd');
  });
});
