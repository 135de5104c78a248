// The change notifications the network service publishes for the data plane (issue 5, item 8),
// and which node agents consume: the message both programs agree on. Each one is a fanout
// CHANGE_METHOD on CHANGES_TOPIC, written to the outbox in the transaction of the change (see
// api-server/network/core/outbox.ts) and delivered at least once, so consumers dedupe by
// message_id and re-read the resource named rather than trust any state in the message.

/** The fanout topic node agents listen on for network changes. */
export const CHANGES_TOPIC = 'network-changes';
/** The RPC method the messages are sent as. */
export const CHANGE_METHOD = 'network_change';
export const CHANGE_MESSAGE_VERSION = 1;

/**
 * What changed. `router_interface` is a router's port on an internal subnet (qr- device),
 * `router_gateway` its port on the external network (qg- device, SNAT); for both, `id` is the
 * port and `router_id` the router. A `floatingip` change (DNAT) names its router when it has one.
 */
export type ChangeKind =
  | 'network'
  | 'subnet'
  | 'port'
  | 'router'
  | 'router_interface'
  | 'router_gateway'
  | 'floatingip';
export type ChangeAction = 'create' | 'update' | 'delete';

/** What crosses the bus. Versioned: a consumer ignores versions it does not know. */
export interface ChangeMessage {
  version: typeof CHANGE_MESSAGE_VERSION;
  /** Unique per change; a consumer that has seen it ignores it. */
  message_id: string;
  kind: ChangeKind;
  action: ChangeAction;
  id: string;
  project_id: string;
  /** The router concerned, for router_interface, router_gateway and floatingip changes. */
  router_id?: string;
  /** The hosts concerned (a port's binding host, before and after a change), when known. */
  hosts?: string[];
}
