// The Neutron v2.0 calls the network benchmark makes, spoken the same way to the real Neutron
// (noauth: the project in headers) and to Overcast (a Keystone token): both are an origin, a
// base path and the headers that say who is asking.
import type { RequestSpec } from '../lib/load.js';

export interface NetworkEndpoint {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** `` for Neutron, `/network` for Overcast. */
  basePath: string;
  /** Who is asking: X-Project-Id/X-Roles for Neutron's noauth, X-Auth-Token for Overcast. */
  headers: Record<string, string>;
  projectId: string;
}

export class NetworkCallError extends Error {
  override name = 'NetworkCallError';
}

/** One JSON call; the parsed answer, or an error saying what came back instead of `status`. */
export async function call<T>(
  endpoint: NetworkEndpoint,
  request: RequestSpec,
  status: number,
  timeoutMs = 300_000,
): Promise<T> {
  const url = `${endpoint.origin}${request.path}`;
  const response = await fetch(url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (response.status !== status) {
    throw new NetworkCallError(
      `${request.method} ${request.path} answered ${response.status}, expected ${status}: ${text.slice(0, 300)}`,
    );
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

function jsonRequest(
  endpoint: NetworkEndpoint,
  method: RequestSpec['method'],
  path: string,
  body?: unknown,
): RequestSpec {
  return {
    method,
    path: `${endpoint.basePath}/v2.0${path}`,
    headers:
      body === undefined ? endpoint.headers : { ...endpoint.headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** POST /v2.0/ports on `networkId`, the address chosen by IPAM. */
export function portCreate(endpoint: NetworkEndpoint, networkId: string, deviceId: string): RequestSpec {
  return jsonRequest(endpoint, 'POST', '/ports', {
    port: { network_id: networkId, tenant_id: endpoint.projectId, device_id: deviceId },
  });
}

/** POST /v2.0/networks: a tenant network, which takes a VXLAN segment. */
export function networkCreate(endpoint: NetworkEndpoint, name: string): RequestSpec {
  return jsonRequest(endpoint, 'POST', '/networks', { network: { name, tenant_id: endpoint.projectId } });
}

/** GET /v2.0/ports, every port, or those of one device. */
export function portList(endpoint: NetworkEndpoint, deviceId?: string): RequestSpec {
  return jsonRequest(
    endpoint,
    'GET',
    deviceId === undefined ? '/ports' : `/ports?device_id=${encodeURIComponent(deviceId)}`,
  );
}

/** The network and its /16 subnet the port rows use. */
export async function createPortNetwork(
  endpoint: NetworkEndpoint,
  cidr: string,
  name = 'bench-ports',
): Promise<{ networkId: string; subnetId: string }> {
  const { network } = await call<{ network: { id: string } }>(endpoint, networkCreate(endpoint, name), 201);
  const { subnet } = await call<{ subnet: { id: string } }>(
    endpoint,
    jsonRequest(endpoint, 'POST', '/subnets', {
      subnet: {
        network_id: network.id,
        ip_version: 4,
        cidr,
        name,
        tenant_id: endpoint.projectId,
      },
    }),
    201,
  );
  return { networkId: network.id, subnetId: subnet.id };
}

/** Lifts the project's network, subnet and port quotas, as the peer runs with quotas off. */
export async function liftQuotas(endpoint: NetworkEndpoint): Promise<void> {
  await call(
    endpoint,
    jsonRequest(endpoint, 'PUT', `/quotas/${endpoint.projectId}`, {
      quota: { network: -1, subnet: -1, port: -1 },
    }),
    200,
  );
}

/** The full port list once: how many ports, and how many bytes of JSON. */
export async function countPorts(endpoint: NetworkEndpoint): Promise<{ ports: number; bytes: number }> {
  const request = portList(endpoint);
  const response = await fetch(`${endpoint.origin}${request.path}`, {
    headers: request.headers,
    signal: AbortSignal.timeout(300_000),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new NetworkCallError(`GET ${request.path} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return { ports: (JSON.parse(text) as { ports: unknown[] }).ports.length, bytes: Buffer.byteLength(text) };
}
