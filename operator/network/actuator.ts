// The Network kind's actuator: Neutron networks through lib/openstack. The generic reconciler
// (operator/framework/reconciler.ts) calls it; every method keeps that contract.
import type { KindSpec } from '../crds/convention.js';
import { Network } from '../crds/network.js';
import { changedFields, ifFound, referenced } from '../framework/actuator-helpers.js';
import type { Actuator, ActuatorContext } from '../framework/reconciler.js';
import { creationProjectId, listMatching, neutron as network, projectIdOf } from './neutron.js';

/** A network as Neutron's API shows it. */
export interface NeutronNetwork {
  id: string;
  name: string;
  description?: string;
  project_id?: string;
  status?: string;
  admin_state_up?: boolean;
  mtu?: number;
  port_security_enabled?: boolean;
  shared?: boolean;
  'router:external'?: boolean;
  'provider:network_type'?: string | null;
  'provider:physical_network'?: string | null;
  'provider:segmentation_id'?: number | null;
  subnets?: string[];
  tags?: string[];
}

type NetworkSpec = KindSpec<typeof Network>;
type NetworkResource = NonNullable<NetworkSpec['resource']>;

const spec = (context: ActuatorContext) => context.object.spec as NetworkSpec;

/** The fields Neutron can change on an existing network, from spec.resource. */
function updatable(resource: NetworkResource): Partial<NeutronNetwork> {
  const fields: Partial<NeutronNetwork> = {};
  if (resource.description !== undefined) fields.description = resource.description;
  if (resource.adminStateUp !== undefined) fields.admin_state_up = resource.adminStateUp;
  if (resource.mtu !== undefined) fields.mtu = resource.mtu;
  if (resource.portSecurityEnabled !== undefined) fields.port_security_enabled = resource.portSecurityEnabled;
  if (resource.shared !== undefined) fields.shared = resource.shared;
  if (resource.external !== undefined) fields['router:external'] = resource.external;
  return fields;
}

export const networkActuator: Actuator<NeutronNetwork> = {
  kind: Network,

  dependencies(object) {
    const { resource, import: imported } = object.spec as NetworkSpec;
    return referenced([['Project', resource?.projectRef ?? imported?.filter?.projectRef]]);
  },

  idOf: (found) => found.id,

  async getById(context, id) {
    const found = await ifFound(
      network(context).get<{ network: NeutronNetwork }>(`/networks/${encodeURIComponent(id)}`),
    );
    return found?.body.network;
  },

  async listForAdoption(context) {
    const resource = spec(context).resource ?? {};
    const name = resource.name ?? context.object.metadata.name;
    // A shared or external network of another project is listed too; it is not ours to adopt.
    const projectId = await creationProjectId(context, resource.projectRef);
    return listMatching<NeutronNetwork>(context, 'networks', { name, project_id: projectId });
  },

  async listForImport(context) {
    const filter = spec(context).import?.filter ?? {};
    const fields = {
      name: filter.name,
      project_id: projectIdOf(context, filter.projectRef),
      'router:external': filter.external,
      shared: filter.shared,
    };
    return listMatching<NeutronNetwork>(context, 'networks', fields, filter.tags);
  },

  async create(context) {
    const resource = spec(context).resource ?? {};
    const body: Record<string, unknown> = {
      name: resource.name ?? context.object.metadata.name,
      ...updatable(resource),
    };
    const projectId = projectIdOf(context, resource.projectRef);
    if (projectId) body.project_id = projectId;
    if (resource.provider) {
      body['provider:network_type'] = resource.provider.networkType;
      if (resource.provider.physicalNetwork !== undefined)
        body['provider:physical_network'] = resource.provider.physicalNetwork;
      if (resource.provider.segmentationId !== undefined)
        body['provider:segmentation_id'] = resource.provider.segmentationId;
    }
    return (await network(context).post<{ network: NeutronNetwork }>('/networks', { network: body })).body
      .network;
  },

  async update(context, current) {
    const resource = spec(context).resource ?? {};
    const desired: Partial<NeutronNetwork> = {
      name: resource.name ?? context.object.metadata.name,
      ...updatable(resource),
    };
    const changes = changedFields(desired, current);
    if (Object.keys(changes).length === 0) return undefined;
    return (
      await network(context).put<{ network: NeutronNetwork }>(`/networks/${current.id}`, { network: changes })
    ).body.network;
  },

  async delete(context, current) {
    // A 409 (ports still on the network) is retried with backoff by the classification.
    await ifFound(network(context).delete(`/networks/${current.id}`));
  },

  observe(found) {
    const provider = found['provider:network_type']
      ? {
          networkType: found['provider:network_type'],
          ...(found['provider:physical_network']
            ? { physicalNetwork: found['provider:physical_network'] }
            : {}),
          ...(typeof found['provider:segmentation_id'] === 'number'
            ? { segmentationId: found['provider:segmentation_id'] }
            : {}),
        }
      : undefined;
    const resource = {
      name: found.name,
      description: found.description,
      projectId: found.project_id,
      status: found.status,
      adminStateUp: found.admin_state_up,
      mtu: found.mtu,
      portSecurityEnabled: found.port_security_enabled,
      shared: found.shared,
      external: found['router:external'],
      provider,
      subnetIds: found.subnets,
      tags: found.tags,
    };
    return {
      // Undefined fields are left out: the status schema has no nulls.
      resource: JSON.parse(JSON.stringify(resource)),
      available: found.status === 'ACTIVE',
      message: `Network is ${found.status ?? 'in an unknown state'}`,
    };
  },
};
