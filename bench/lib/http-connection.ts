// One HTTP/1.1 client connection for the load generator: a plain TCP socket, a request written
// as one buffer, and a response parser that reads only what a benchmark needs (the status, the
// framing, whether the server keeps the connection). node:http's client costs several times
// more CPU per request, and on a small machine the generator shares the cores with the server
// it measures: every microsecond it spends is taken from the server.
//
// A response ends at Content-Length, at the last chunk of a chunked body, or, when neither is
// given, when the server closes the connection (uWSGI as Debian configures Keystone). Answers to
// HEAD and 1xx/204/304 answers have no body.
import { connect, type Socket } from 'node:net';

export interface HttpRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpAnswer {
  status: number;
  /** The server asked to close (Connection: close, or an HTTP/1.0 answer without keep-alive). */
  closing: boolean;
}

/** The request as bytes on the wire; Host and Content-Length are added here. */
export function encodeRequest(request: HttpRequest, host: string): Buffer {
  let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(request.headers ?? {})) head += `${name}: ${value}\r\n`;
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  if (body) head += `content-length: ${body.length}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked' }
  | { kind: 'until-close' };

/**
 * Parses one response at a time out of the bytes a connection receives. feed() returns the
 * answer once it is complete; bytes past the end of it are an error (nothing is pipelined).
 */
export class ResponseParser {
  private buffered: Buffer = Buffer.alloc(0);
  private head: { status: number; closing: boolean; framing: BodyFraming } | undefined;

  constructor(private readonly isHead: boolean) {}

  feed(bytes: Buffer): HttpAnswer | undefined {
    this.buffered = this.buffered.length === 0 ? bytes : Buffer.concat([this.buffered, bytes]);
    if (!this.head) {
      const end = this.buffered.indexOf(HEADER_END);
      if (end < 0) return undefined;
      this.head = parseHead(this.buffered.subarray(0, end).toString('latin1'), this.isHead);
      this.buffered = this.buffered.subarray(end + HEADER_END.length);
    }
    const framing = this.head.framing;
    switch (framing.kind) {
      case 'none':
        return this.finish();
      case 'length': {
        const taken = Math.min(framing.remaining, this.buffered.length);
        framing.remaining -= taken;
        this.buffered = this.buffered.subarray(taken);
        return framing.remaining === 0 ? this.finish() : undefined;
      }
      case 'chunked':
        return this.readChunks() ? this.finish() : undefined;
      case 'until-close':
        this.buffered = Buffer.alloc(0);
        return undefined;
    }
  }

  /** The connection ended: completes a close-delimited answer, else the answer is cut short. */
  end(): HttpAnswer | undefined {
    if (this.head?.framing.kind === 'until-close') return { status: this.head.status, closing: true };
    return undefined;
  }

  /** Consumes whole chunks; true once the last (zero-size) chunk and its trailer are in. */
  private readChunks(): boolean {
    for (;;) {
      const lineEnd = this.buffered.indexOf(CRLF);
      if (lineEnd < 0) return false;
      const size = Number.parseInt(this.buffered.subarray(0, lineEnd).toString('latin1'), 16);
      if (!Number.isInteger(size) || size < 0) throw new Error('malformed chunk size');
      if (size === 0) {
        // The last chunk; then either an empty line or trailer lines ending with one.
        const rest = this.buffered.subarray(lineEnd + CRLF.length);
        if (rest.subarray(0, CRLF.length).equals(CRLF)) {
          this.buffered = rest.subarray(CRLF.length);
          return true;
        }
        const trailersEnd = rest.indexOf(HEADER_END);
        if (trailersEnd < 0) return false;
        this.buffered = rest.subarray(trailersEnd + HEADER_END.length);
        return true;
      }
      const chunkEnd = lineEnd + CRLF.length + size + CRLF.length;
      if (this.buffered.length < chunkEnd) return false;
      this.buffered = this.buffered.subarray(chunkEnd);
    }
  }

  private finish(): HttpAnswer {
    if (this.buffered.length > 0) throw new Error('the server sent bytes past the end of its answer');
    const { status, closing } = this.head!;
    this.head = undefined;
    return { status, closing };
  }
}

function parseHead(
  text: string,
  isHead: boolean,
): { status: number; closing: boolean; framing: BodyFraming } {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
  if (!statusLine) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(lines[0])}`);
  const http10 = statusLine[1] === '0';
  const status = Number(statusLine[2]);
  let length: number | undefined;
  let chunked = false;
  let connection = '';
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
    else if (name === 'connection') connection = value.toLowerCase();
  }
  const closing = connection.includes('close') || (http10 && !connection.includes('keep-alive'));
  let framing: BodyFraming;
  if (isHead || status < 200 || status === 204 || status === 304) framing = { kind: 'none' };
  else if (chunked) framing = { kind: 'chunked' };
  else if (length !== undefined)
    framing = length === 0 ? { kind: 'none' } : { kind: 'length', remaining: length };
  else framing = { kind: 'until-close' };
  return { status, closing: closing || framing.kind === 'until-close', framing };
}

/** An error with the code a failure is counted under (ECONNRESET, ETIMEDOUT, EPROTO, ...). */
function codedError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/**
 * A connection that sends one request at a time. It opens its socket on first use and again
 * after the server closed it; `opened` counts the sockets it made.
 */
export class HttpConnection {
  opened = 0;
  private socket: Socket | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  /** Sends the request and resolves with the answer once it has been read in full. */
  send(request: Buffer, isHead: boolean): Promise<HttpAnswer & { reused: boolean }> {
    const reused = this.socket !== undefined;
    const socket = this.socket ?? this.open();
    const parser = new ResponseParser(isHead);
    return new Promise((resolve, reject) => {
      const done = (error: Error | undefined, answer?: HttpAnswer) => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('error', onError);
        socket.off('timeout', onTimeout);
        socket.setTimeout(0);
        if (error || !answer || answer.closing) this.close();
        if (error) reject(Object.assign(error, { reused }));
        else resolve({ ...answer!, reused });
      };
      const onData = (bytes: Buffer) => {
        let answer: HttpAnswer | undefined;
        try {
          answer = parser.feed(bytes);
        } catch (error) {
          done(codedError((error as Error).message, 'EPROTO'));
          return;
        }
        if (answer) done(undefined, answer);
      };
      const onEnd = () => {
        const answer = parser.end();
        if (answer) done(undefined, answer);
        else done(codedError('the server closed the connection before answering', 'ECONNRESET'));
      };
      const onError = (error: Error) => done(error);
      const onTimeout = () => done(codedError('no answer in time', 'ETIMEDOUT'));
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('error', onError);
      socket.on('timeout', onTimeout);
      socket.setTimeout(this.timeoutMs);
      socket.write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    // An idle socket the server closes is noticed on the next send (its 'end' or a reset).
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
    });
    this.socket = socket;
    this.opened++;
    return socket;
  }
}
