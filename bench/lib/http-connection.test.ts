// The load generator's HTTP client against real servers on loopback: node:http (length and
// chunked bodies, keep-alive, HEAD, 204) and a raw socket server that ends its answers by closing,
// as uWSGI does for Keystone.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest, HttpConnection, ResponseParser } from './http-connection.js';

function portOf(server: HttpServer | TcpServer): number {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return address.port;
}

describe('HttpConnection against node:http', () => {
  let server: HttpServer;
  const seen: { method: string; url: string; body: string }[] = [];

  beforeAll(async () => {
    server = createHttpServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({ method: request.method!, url: request.url!, body });
        if (request.url === '/chunked') {
          response.write('first part, ');
          setTimeout(() => response.end('second part'), 5);
        } else if (request.url === '/empty') {
          response.writeHead(204).end();
        } else {
          response.writeHead(request.url === '/created' ? 201 : 200, { 'content-type': 'text/plain' });
          response.end('x'.repeat(100_000));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads length-delimited, chunked, empty and HEAD answers over one kept-alive connection', async () => {
    const connection = new HttpConnection('127.0.0.1', portOf(server), 5_000);
    const host = `127.0.0.1:${portOf(server)}`;
    const send = (method: string, path: string, body?: string) =>
      connection.send(
        encodeRequest({ method, path, body, headers: { 'x-test': '1' } }, host),
        method === 'HEAD',
      );

    expect(await send('POST', '/created', '{"a":1}')).toEqual({ status: 201, closing: false, reused: false });
    expect(await send('GET', '/chunked')).toEqual({ status: 200, closing: false, reused: true });
    expect(await send('GET', '/empty')).toEqual({ status: 204, closing: false, reused: true });
    expect(await send('HEAD', '/big')).toEqual({ status: 200, closing: false, reused: true });
    expect(await send('GET', '/big')).toEqual({ status: 200, closing: false, reused: true });
    expect(connection.opened).toBe(1);
    expect(seen[0]).toEqual({ method: 'POST', url: '/created', body: '{"a":1}' });
    connection.close();
  });
});

describe('HttpConnection against a server that closes after every answer', () => {
  let server: TcpServer;

  beforeAll(async () => {
    server = createTcpServer((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"ok":true}'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('takes the close as the end of the body and opens a new connection for the next request', async () => {
    const connection = new HttpConnection('127.0.0.1', portOf(server), 5_000);
    const request = encodeRequest({ method: 'GET', path: '/' }, 'localhost');
    expect(await connection.send(request, false)).toEqual({ status: 200, closing: true, reused: false });
    expect(await connection.send(request, false)).toEqual({ status: 200, closing: true, reused: false });
    expect(connection.opened).toBe(2);
  });
});

describe('ResponseParser', () => {
  it('completes a chunked answer with trailers only after the empty line that ends them', () => {
    const parser = new ResponseParser(false);
    expect(
      parser.feed(Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n')),
    ).toBe(undefined);
    expect(parser.feed(Buffer.from('0\r\nx-trailer: 1\r\n'))).toBe(undefined);
    expect(parser.feed(Buffer.from('\r\n'))).toEqual({ status: 200, closing: false });
  });

  it('treats an HTTP/1.0 answer without keep-alive as closing', () => {
    const parser = new ResponseParser(false);
    expect(parser.feed(Buffer.from('HTTP/1.0 404 Not Found\r\ncontent-length: 2\r\n\r\nno'))).toEqual({
      status: 404,
      closing: true,
    });
  });

  it('refuses what is not HTTP, and bytes past the end of an answer', () => {
    expect(() => new ResponseParser(false).feed(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow(
      /status line/,
    );
    expect(() =>
      new ResponseParser(false).feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nab')),
    ).toThrow(/past the end/);
  });
});
