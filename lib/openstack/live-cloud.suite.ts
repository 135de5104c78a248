// For the client's tests: the real api-server listening on loopback with its catalog pointing
// at where it really listens, and relays (plain node:http(s) servers forwarding to it) that record
// what the client sent and can fail requests on purpose: answer 5xx, reset the connection,
// never answer, or echo what they received. (`.suite.ts` keeps it out of the build.)
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startTestCloud, type TestCloud } from '../../api-server/common/test-cloud.suite.js';

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** What a relay does with a request it was told to fail. */
export type Failure =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'echo'; status: number };

export interface Relay {
  url: string;
  requests: RecordedRequest[];
  /** The next `times` requests whose method and path match fail as `failure`. */
  fail(times: number, match: { method?: string; path: RegExp }, failure: Failure): void;
  /** Forgets the failures not used up yet. */
  clearFailures(): void;
  close(): Promise<void>;
}

function listen(server: Server, scheme: string): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

/** PEM key and certificate for a relay that speaks HTTPS. */
export interface TlsIdentity {
  key: string;
  cert: string;
}

/** A relay to `upstream` (an origin), forwarding everything it is not told to fail. */
export async function startRelay(upstream: string, tls?: TlsIdentity): Promise<Relay> {
  const target = new URL(upstream);
  const requests: RecordedRequest[] = [];
  const failures: { remaining: number; method?: string; path: RegExp; failure: Failure }[] = [];
  const handle = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const method = incoming.method ?? 'GET';
    const url = incoming.url ?? '/';
    requests.push({ method, url, headers: incoming.headers });
    const planned = failures.find(
      (entry) =>
        entry.remaining > 0 &&
        (entry.method === undefined || entry.method === method) &&
        entry.path.test(url),
    );
    if (planned) {
      planned.remaining--;
      const { failure } = planned;
      if (failure.kind === 'reset') {
        incoming.socket.destroy();
        return;
      }
      if (failure.kind === 'hang') return;
      if (failure.kind === 'echo') {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          outgoing.writeHead(failure.status, { 'content-type': 'text/plain' });
          outgoing.end(`${Buffer.concat(chunks).toString()} ${JSON.stringify(incoming.headers)}`);
        });
        return;
      }
      outgoing.writeHead(failure.status, {
        'content-type': 'application/json',
        ...(failure.retryAfter === undefined ? {} : { 'retry-after': failure.retryAfter }),
      });
      outgoing.end(JSON.stringify({ message: `relay failure ${failure.status}` }));
      return;
    }
    const forwarded = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: url,
        // Host goes through unchanged, as a reverse proxy keeps it, so the links the server
        // builds from it point back at the relay.
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    // A client that goes away mid-request (an upload it aborts) goes away upstream too, as
    // through a real proxy: the server must see a body that never ended.
    incoming.on('close', () => {
      if (!incoming.complete) forwarded.destroy();
    });
    incoming.pipe(forwarded);
  };
  const server: Server = tls ? createTlsServer(tls, handle) : createServer(handle);
  const url = await listen(server, tls ? 'https' : 'http');
  return {
    url,
    requests,
    fail(times, match, failure) {
      failures.push({
        remaining: times,
        path: match.path,
        failure,
        ...(match.method ? { method: match.method } : {}),
      });
    },
    clearFailures() {
      failures.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Image data each project may store, small enough for a test to pass it. */
export const PROJECT_IMAGE_QUOTA_BYTES = 4096;

export interface LiveCloud {
  test: TestCloud;
  /** Where the api-server itself listens. */
  directUrl: string;
  /** The relay the catalog's public and admin endpoints (and auth_url) go through. */
  front: Relay;
  /** The relay of RegionTwo's only endpoint, a network one. */
  regionTwo: Relay;
  adminToken: string;
  close(): Promise<void>;
}

/**
 * The api-server on loopback. Its catalog, as a real deployment's: RegionOne's public and admin
 * endpoints through `front`, internal ones straight at the server, and RegionTwo with only a
 * network endpoint, through `regionTwo`.
 */
export async function startLiveCloud(): Promise<LiveCloud> {
  const test = await startTestCloud({ projectQuotaBytes: PROJECT_IMAGE_QUOTA_BYTES });
  await test.app.listen({ host: '127.0.0.1', port: 0 });
  const directUrl = `http://127.0.0.1:${(test.app.server.address() as AddressInfo).port}`;
  const front = await startRelay(directUrl);
  const regionTwo = await startRelay(directUrl);
  const adminToken = await test.adminToken();
  const { endpoints } = (await test.call(adminToken, 'GET', '/endpoints')).body as {
    endpoints: { id: string; url: string; interface: string; service_id: string }[];
  };
  for (const endpoint of endpoints) {
    const origin = endpoint.interface === 'internal' ? directUrl : front.url;
    await test.call(adminToken, 'PATCH', `/endpoints/${endpoint.id}`, {
      endpoint: { url: endpoint.url.replace('http://cloud.test', origin) },
    });
  }
  await test.call(adminToken, 'POST', '/regions', { region: { id: 'RegionTwo' } });
  const network = (await test.call(adminToken, 'GET', '/services?type=network')).body.services[0];
  await test.call(adminToken, 'POST', '/endpoints', {
    endpoint: {
      service_id: network.id,
      interface: 'public',
      region_id: 'RegionTwo',
      url: `${regionTwo.url}/network/`,
    },
  });
  return {
    test,
    directUrl,
    front,
    regionTwo,
    adminToken,
    async close() {
      await front.close();
      await regionTwo.close();
      await test.close();
    },
  };
}
