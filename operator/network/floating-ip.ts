// The FloatingIP kind's actuator: an address of an external network, optionally bound to a
// Port. create only allocates; update sets the description and binds (PUT port_id), so an
// address is never lost to a binding the cloud cannot make yet.
//
// A floating IP has no name, so what a create left behind before a crash is told by its
// description: create writes a marker naming this object (namespace, name and UID), and the
// first update replaces it with the spec's description. Tags would do too, but a cloud need
// not have the tag extension (ours has not), and a description every Neutron keeps; the UID
// keeps an object of the same name in another cluster from taking it.
import { HttpError } from '../../lib/openstack/index.js';
import type { KindSpec } from '../crds/convention.js';
import { FloatingIP } from '../crds/network.js';
import { dependencyId, ifFound, referenced } from '../framework/actuator-helpers.js';
import { TemporaryError } from '../framework/errors.js';
import type { KubeObject } from '../framework/informer.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import { canonicalAddress, creationProjectId, listMatching, neutron, projectIdOf } from './neutron.js';

/** A floating IP as Neutron's API shows it. */
export interface NeutronFloatingIP {
  id: string;
  description?: string;
  floating_ip_address: string;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
  project_id?: string;
  status?: string;
  tags?: string[];
}

type FloatingIPSpec = KindSpec<typeof FloatingIP>;

const spec = (context: ActuatorContext) => context.object.spec as FloatingIPSpec;

/** The description a create gives the address until the first update: what adoption looks for. */
export const creationMarker = (object: KubeObject) =>
  `Being created by the Overcast operator for FloatingIP ${object.metadata.namespace}/${object.metadata.name} (${object.metadata.uid})`;

const put = async (context: ActuatorContext, id: string, changes: Record<string, unknown>) =>
  (
    await neutron(context).put<{ floatingip: NeutronFloatingIP }>(`/floatingips/${id}`, {
      floatingip: changes,
    })
  ).body.floatingip;

/**
 * Binds the address to the port. Neutron answers 404 ExternalGatewayForFloatingIPNotFound
 * while no router joins the port's subnet to the external network: that is a wait, not an
 * error of this spec (the Subnet's routerRef or the Router's gateway may still be on their
 * way, and nothing this object names tells the operator when), so it is retried with backoff.
 */
async function bind(context: ActuatorContext, current: NeutronFloatingIP, portId: string, portRef: string) {
  const fixedIPAddress = spec(context).resource?.fixedIPAddress;
  try {
    return await put(context, current.id, {
      port_id: portId,
      ...(fixedIPAddress !== undefined && { fixed_ip_address: fixedIPAddress }),
    });
  } catch (error) {
    if (error instanceof HttpError && error.type === 'ExternalGatewayForFloatingIPNotFound')
      throw new TemporaryError(
        `Waiting for a router with a gateway on the external network to reach Port/${portRef}: ${error.message}`,
      );
    throw error;
  }
}

export const floatingIPActuator: Actuator<NeutronFloatingIP> = {
  kind: FloatingIP,

  dependencies(object) {
    const { resource, import: imported } = object.spec as FloatingIPSpec;
    return referenced([
      ['Network', resource?.externalNetworkRef ?? imported?.filter?.externalNetworkRef],
      ['Subnet', resource?.subnetRef],
      ['Port', resource?.portRef ?? imported?.filter?.portRef],
      ['Project', resource?.projectRef ?? imported?.filter?.projectRef],
    ]);
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    const found = await ifFound(
      neutron(context).get<{ floatingip: NeutronFloatingIP }>(`/floatingips/${encodeURIComponent(id)}`),
    );
    return found?.body.floatingip;
  },

  async listForAdoption(context) {
    const resource = spec(context).resource;
    const fields = {
      description: creationMarker(context.object),
      floating_network_id: dependencyId(context, 'Network', resource?.externalNetworkRef),
      project_id: await creationProjectId(context, resource?.projectRef),
    };
    return listMatching<NeutronFloatingIP>(context, 'floatingips', fields);
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const fields = {
      floating_ip_address:
        filter.floatingIPAddress === undefined ? undefined : canonicalAddress(filter.floatingIPAddress),
      floating_network_id: dependencyId(context, 'Network', filter.externalNetworkRef),
      port_id: dependencyId(context, 'Port', filter.portRef),
      project_id: projectIdOf(context, filter.projectRef),
    };
    return listMatching<NeutronFloatingIP>(context, 'floatingips', fields, filter.tags);
  },

  async create(context) {
    const resource = spec(context).resource as NonNullable<FloatingIPSpec['resource']>;
    const body: Record<string, unknown> = {
      floating_network_id: dependencyId(context, 'Network', resource.externalNetworkRef),
      description: creationMarker(context.object),
    };
    const subnetId = dependencyId(context, 'Subnet', resource.subnetRef);
    if (subnetId) body.subnet_id = subnetId;
    if (resource.floatingIPAddress !== undefined) body.floating_ip_address = resource.floatingIPAddress;
    const projectId = projectIdOf(context, resource.projectRef);
    if (projectId) body.project_id = projectId;
    return (
      await neutron(context).post<{ floatingip: NeutronFloatingIP }>('/floatingips', { floatingip: body })
    ).body.floatingip;
  },

  async update(context, current) {
    const resource = spec(context).resource as NonNullable<FloatingIPSpec['resource']>;
    let updated: NeutronFloatingIP | undefined;
    // The marker goes on the first update; a description set outside is left alone unless the
    // spec names one.
    const description =
      resource.description ?? (current.description === creationMarker(context.object) ? '' : undefined);
    if (description !== undefined && description !== (current.description ?? ''))
      updated = await put(context, current.id, { description });
    const portId = dependencyId(context, 'Port', resource.portRef) ?? null;
    const fixedDiffers =
      resource.fixedIPAddress !== undefined &&
      (current.fixed_ip_address === null ||
        canonicalAddress(current.fixed_ip_address) !== canonicalAddress(resource.fixedIPAddress));
    if (portId === null && current.port_id !== null)
      updated = await put(context, current.id, { port_id: null });
    else if (portId !== null && (current.port_id !== portId || fixedDiffers))
      updated = await bind(context, current, portId, resource.portRef as string);
    return updated;
  },

  async delete(context, current) {
    await ifFound(neutron(context).delete(`/floatingips/${current.id}`));
  },

  observe(found) {
    const resource = {
      description: found.description,
      floatingIPAddress: found.floating_ip_address,
      floatingNetworkId: found.floating_network_id,
      portId: found.port_id ?? undefined,
      fixedIPAddress: found.fixed_ip_address ?? undefined,
      routerId: found.router_id ?? undefined,
      projectId: found.project_id,
      status: found.status,
      tags: found.tags,
    };
    // DOWN while unbound, ACTIVE once bound: either way the address is held and usable.
    return {
      resource: JSON.parse(JSON.stringify(resource)),
      available: found.status !== 'ERROR',
      message: `Floating IP is ${found.status ?? 'in an unknown state'}`,
    };
  },
};
