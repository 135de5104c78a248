// Network kinds: Network, Subnet (attached to a router through routerRef), Router, Port,
// SecurityGroup (rules inline) and FloatingIP (optionally bound to a port).
import { Type } from '@sinclair/typebox';
import type { OpenStackKind } from './convention.js';
import {
  Cidr,
  Description,
  IPAddress,
  List,
  Name,
  ObjectWithImmutable,
  Ref,
  Str,
  StringEnum,
  Tags,
  withRules,
} from './primitives.js';

const OpenStackName = () => Type.Optional(Name('OpenStack name; defaults to the object name.'));
const ProjectRef = () =>
  Type.Optional(Ref('Project object that owns the resource; defaults to the project of the credentials.'));
const AdminStateUp = () => Type.Optional(Type.Boolean({ default: true }));
const IPv6Mode = () => Type.Optional(StringEnum(['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const));
/** Neutron accepts a remote prefix or an address pair that is not a network address. */
const IPPrefix = (description: string) =>
  withRules(Str(49, { description }), {
    rule: 'isCIDR(self) || isIP(self)',
    message: 'must be an IP address or a CIDR',
  });
const MacAddress = () => Str(17, { pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' });
const Route = Type.Object({
  destination: Cidr('Destination network.'),
  nextHop: IPAddress('Next hop address.'),
});
const ObservedRoute = Type.Object({ destination: Str(49), nextHop: Str(45) });
const ObservedFixedIP = Type.Object({ subnetId: Type.Optional(Str(64)), ipAddress: Type.Optional(Str(45)) });
const ObservedIds = (description: string) => List(Str(64), 64, description);

export const Network = {
  kind: 'Network',
  plural: 'networks',
  shortNames: ['osnet'],
  resource: ObjectWithImmutable(
    {
      name: OpenStackName(),
      description: Type.Optional(Description()),
      projectRef: ProjectRef(),
      adminStateUp: AdminStateUp(),
      mtu: Type.Optional(Type.Integer({ minimum: 68, maximum: 9216 })),
      portSecurityEnabled: Type.Optional(Type.Boolean()),
      shared: Type.Optional(Type.Boolean()),
      external: Type.Optional(
        Type.Boolean({ description: 'An external network routers and floating IPs use.' }),
      ),
      provider: Type.Optional(
        Type.Object(
          {
            networkType: StringEnum(['flat', 'vlan', 'vxlan', 'geneve', 'gre', 'local'] as const),
            physicalNetwork: Type.Optional(Str(64)),
            segmentationId: Type.Optional(Type.Integer({ minimum: 1, maximum: 16777215 })),
          },
          { description: 'Provider attributes (admin only).' },
        ),
      ),
      tags: Type.Optional(Tags()),
    },
    ['projectRef', 'provider'],
  ),
  filter: Type.Object({
    name: Type.Optional(Name()),
    projectRef: Type.Optional(Ref('Project object.')),
    external: Type.Optional(Type.Boolean()),
    shared: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Tags()),
  }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    description: Type.Optional(Str(255)),
    projectId: Type.Optional(Str(64)),
    status: Type.Optional(Str(32)),
    adminStateUp: Type.Optional(Type.Boolean()),
    mtu: Type.Optional(Type.Integer()),
    portSecurityEnabled: Type.Optional(Type.Boolean()),
    shared: Type.Optional(Type.Boolean()),
    external: Type.Optional(Type.Boolean()),
    provider: Type.Optional(
      Type.Object({
        networkType: Type.Optional(Str(32)),
        physicalNetwork: Type.Optional(Str(64)),
        segmentationId: Type.Optional(Type.Integer()),
      }),
    ),
    subnetIds: Type.Optional(ObservedIds('Subnets of the network.')),
    tags: Type.Optional(Tags()),
  }),
} satisfies OpenStackKind;

const Gateway = withRules(
  Type.Object(
    {
      type: StringEnum(['Automatic', 'IP', 'None'] as const, {
        description: 'Automatic: the first address; IP: the address in ip; None: no gateway.',
      }),
      ip: Type.Optional(IPAddress('Gateway address, with type IP.')),
    },
    { description: 'Gateway of the subnet; Automatic when left out.' },
  ),
  { rule: "(self.type == 'IP') == has(self.ip)", message: 'gateway.ip is given exactly when type is IP' },
);

export const Subnet = {
  kind: 'Subnet',
  plural: 'subnets',
  shortNames: ['ossubnet'],
  resource: withRules(
    ObjectWithImmutable(
      {
        name: OpenStackName(),
        description: Type.Optional(Description()),
        networkRef: Ref('Network object the subnet belongs to.'),
        projectRef: ProjectRef(),
        ipVersion: Type.Optional(Type.Unsafe<4 | 6>({ type: 'integer', enum: [4, 6], default: 4 })),
        cidr: Cidr('Address range, such as 10.0.0.0/24.'),
        gateway: Type.Optional(Gateway),
        allocationPools: Type.Optional(
          List(
            Type.Object({ start: IPAddress('First address.'), end: IPAddress('Last address.') }),
            16,
            'Ranges addresses are allocated from; defaults to the whole CIDR but the gateway.',
          ),
        ),
        dnsNameservers: Type.Optional(List(IPAddress('DNS server.'), 8, 'DNS servers handed out by DHCP.')),
        hostRoutes: Type.Optional(List(Route, 32, 'Routes handed out by DHCP.')),
        enableDHCP: Type.Optional(Type.Boolean({ default: true })),
        ipv6AddressMode: IPv6Mode(),
        ipv6RAMode: IPv6Mode(),
        routerRef: Type.Optional(
          Ref('Router object to attach the subnet to, by an interface on the gateway address.'),
        ),
        tags: Type.Optional(Tags()),
      },
      ['networkRef', 'projectRef', 'ipVersion', 'cidr', 'ipv6AddressMode', 'ipv6RAMode'],
    ),
    {
      rule: '!isCIDR(self.cidr) || cidr(self.cidr).ip().family() == self.ipVersion',
      message: 'cidr must be of the family of ipVersion',
    },
    {
      rule:
        '!has(self.allocationPools) || !isCIDR(self.cidr) || self.allocationPools.all(pool, ' +
        '!isIP(pool.start) || !isIP(pool.end) || ' +
        '(cidr(self.cidr).containsIP(pool.start) && cidr(self.cidr).containsIP(pool.end)))',
      message: 'allocationPools must lie inside cidr',
    },
    {
      rule: 'self.ipVersion == 6 || !(has(self.ipv6AddressMode) || has(self.ipv6RAMode))',
      message: 'ipv6AddressMode and ipv6RAMode need ipVersion 6',
    },
  ),
  filter: Type.Object({
    name: Type.Optional(Name()),
    networkRef: Type.Optional(Ref('Network object.')),
    projectRef: Type.Optional(Ref('Project object.')),
    ipVersion: Type.Optional(Type.Unsafe<4 | 6>({ type: 'integer', enum: [4, 6] })),
    cidr: Type.Optional(Str(49)),
    tags: Type.Optional(Tags()),
  }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    description: Type.Optional(Str(255)),
    projectId: Type.Optional(Str(64)),
    networkId: Type.Optional(Str(64)),
    ipVersion: Type.Optional(Type.Integer()),
    cidr: Type.Optional(Str(49)),
    gatewayIP: Type.Optional(Str(45)),
    allocationPools: Type.Optional(List(Type.Object({ start: Str(45), end: Str(45) }), 16, 'Pools.')),
    dnsNameservers: Type.Optional(List(Str(45), 8, 'DNS servers.')),
    hostRoutes: Type.Optional(List(ObservedRoute, 32, 'Routes.')),
    enableDHCP: Type.Optional(Type.Boolean()),
    ipv6AddressMode: Type.Optional(Str(32)),
    ipv6RAMode: Type.Optional(Str(32)),
    tags: Type.Optional(Tags()),
  }),
  columns: [{ name: 'CIDR', type: 'string', jsonPath: '.status.resource.cidr' }],
} satisfies OpenStackKind;

export const Router = {
  kind: 'Router',
  plural: 'routers',
  shortNames: ['osrouter'],
  resource: ObjectWithImmutable(
    {
      name: OpenStackName(),
      description: Type.Optional(Description()),
      projectRef: ProjectRef(),
      adminStateUp: AdminStateUp(),
      externalGateway: Type.Optional(
        Type.Object(
          {
            externalNetworkRef: Ref('Network object of the external network.'),
            enableSNAT: Type.Optional(Type.Boolean({ description: 'Source NAT for the subnets behind.' })),
          },
          { description: 'Gateway to an external network.' },
        ),
      ),
      routes: Type.Optional(List(Route, 32, 'Static routes.')),
      tags: Type.Optional(Tags()),
    },
    ['projectRef'],
  ),
  filter: Type.Object({
    name: Type.Optional(Name()),
    projectRef: Type.Optional(Ref('Project object.')),
    tags: Type.Optional(Tags()),
  }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    description: Type.Optional(Str(255)),
    projectId: Type.Optional(Str(64)),
    status: Type.Optional(Str(32)),
    adminStateUp: Type.Optional(Type.Boolean()),
    externalGateway: Type.Optional(
      Type.Object({
        networkId: Type.Optional(Str(64)),
        enableSNAT: Type.Optional(Type.Boolean()),
        externalFixedIPs: Type.Optional(List(ObservedFixedIP, 8, 'Gateway addresses.')),
      }),
    ),
    routes: Type.Optional(List(ObservedRoute, 32, 'Static routes.')),
    interfaceSubnetIds: Type.Optional(ObservedIds('Subnets attached by an interface.')),
    tags: Type.Optional(Tags()),
  }),
} satisfies OpenStackKind;

export const Port = {
  kind: 'Port',
  plural: 'ports',
  shortNames: ['osport'],
  resource: withRules(
    ObjectWithImmutable(
      {
        name: OpenStackName(),
        description: Type.Optional(Description()),
        networkRef: Ref('Network object the port is on.'),
        projectRef: ProjectRef(),
        adminStateUp: AdminStateUp(),
        macAddress: Type.Optional(MacAddress()),
        fixedIPs: Type.Optional(
          List(
            withRules(
              Type.Object({
                subnetRef: Type.Optional(Ref('Subnet object to take an address from.')),
                ipAddress: Type.Optional(IPAddress('Address to take.')),
              }),
              {
                rule: 'has(self.subnetRef) || has(self.ipAddress)',
                message: 'a fixed IP needs subnetRef or ipAddress',
              },
            ),
            16,
            'Addresses of the port; one from each subnet of the network when left out.',
          ),
        ),
        securityGroupRefs: Type.Optional(
          Type.Array(Ref('SecurityGroup object.'), {
            maxItems: 16,
            description: "SecurityGroup objects; the project's default group when left out.",
            'x-kubernetes-list-type': 'set',
          }),
        ),
        portSecurityEnabled: Type.Optional(Type.Boolean()),
        allowedAddressPairs: Type.Optional(
          List(
            Type.Object({
              ipAddress: IPPrefix('Address or CIDR the port may also send from.'),
              macAddress: Type.Optional(MacAddress()),
            }),
            16,
            'Extra addresses allowed through port security.',
          ),
        ),
        tags: Type.Optional(Tags()),
      },
      ['networkRef', 'projectRef', 'macAddress'],
    ),
    {
      rule: '!has(self.portSecurityEnabled) || self.portSecurityEnabled || !has(self.securityGroupRefs) || size(self.securityGroupRefs) == 0',
      message: 'securityGroupRefs need portSecurityEnabled',
    },
  ),
  filter: Type.Object({
    name: Type.Optional(Name()),
    networkRef: Type.Optional(Ref('Network object.')),
    projectRef: Type.Optional(Ref('Project object.')),
    tags: Type.Optional(Tags()),
  }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    description: Type.Optional(Str(255)),
    projectId: Type.Optional(Str(64)),
    networkId: Type.Optional(Str(64)),
    status: Type.Optional(Str(32)),
    adminStateUp: Type.Optional(Type.Boolean()),
    macAddress: Type.Optional(Str(17)),
    fixedIPs: Type.Optional(List(ObservedFixedIP, 16, 'Addresses.')),
    securityGroupIds: Type.Optional(ObservedIds('Security groups.')),
    portSecurityEnabled: Type.Optional(Type.Boolean()),
    allowedAddressPairs: Type.Optional(
      List(Type.Object({ ipAddress: Str(49), macAddress: Type.Optional(Str(17)) }), 16, 'Address pairs.'),
    ),
    deviceOwner: Type.Optional(Str(255)),
    deviceId: Type.Optional(Str(255)),
    tags: Type.Optional(Tags()),
  }),
} satisfies OpenStackKind;

const SecurityGroupRule = withRules(
  Type.Object({
    description: Type.Optional(Description()),
    direction: StringEnum(['ingress', 'egress'] as const),
    ethertype: Type.Optional(StringEnum(['IPv4', 'IPv6'] as const, { default: 'IPv4' })),
    protocol: Type.Optional(Str(16, { description: 'tcp, udp, icmp, ... or an IP protocol number.' })),
    portRangeMin: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    portRangeMax: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    remoteIPPrefix: Type.Optional(IPPrefix('Remote addresses the rule matches.')),
    remoteGroupRef: Type.Optional(
      Ref('SecurityGroup object whose members the rule matches (may be this one).'),
    ),
  }),
  {
    rule: '!(has(self.remoteIPPrefix) && has(self.remoteGroupRef))',
    message: 'remoteIPPrefix and remoteGroupRef are exclusive',
  },
  {
    rule: '!has(self.portRangeMin) || !has(self.portRangeMax) || self.portRangeMin <= self.portRangeMax',
    message: 'portRangeMin must not exceed portRangeMax',
  },
  {
    rule: '!(has(self.portRangeMin) || has(self.portRangeMax)) || has(self.protocol)',
    message: 'a port range needs a protocol',
  },
);

export const SecurityGroup = {
  kind: 'SecurityGroup',
  plural: 'securitygroups',
  shortNames: ['ossg'],
  resource: ObjectWithImmutable(
    {
      name: OpenStackName(),
      description: Type.Optional(Description()),
      projectRef: ProjectRef(),
      stateful: Type.Optional(Type.Boolean({ default: true })),
      rules: Type.Optional(
        List(SecurityGroupRule, 100, "The group's complete rule list; rules not listed are removed."),
      ),
      tags: Type.Optional(Tags()),
    },
    ['projectRef'],
  ),
  filter: Type.Object({
    name: Type.Optional(Name()),
    projectRef: Type.Optional(Ref('Project object.')),
    tags: Type.Optional(Tags()),
  }),
  observed: Type.Object({
    name: Type.Optional(Name()),
    description: Type.Optional(Str(255)),
    projectId: Type.Optional(Str(64)),
    stateful: Type.Optional(Type.Boolean()),
    rules: Type.Optional(
      List(
        Type.Object({
          id: Type.Optional(Str(64)),
          description: Type.Optional(Str(255)),
          direction: Type.Optional(Str(16)),
          ethertype: Type.Optional(Str(16)),
          protocol: Type.Optional(Str(16)),
          portRangeMin: Type.Optional(Type.Integer()),
          portRangeMax: Type.Optional(Type.Integer()),
          remoteIPPrefix: Type.Optional(Str(49)),
          remoteGroupId: Type.Optional(Str(64)),
        }),
        100,
        'Rules.',
      ),
    ),
    tags: Type.Optional(Tags()),
  }),
} satisfies OpenStackKind;

export const FloatingIP = {
  kind: 'FloatingIP',
  plural: 'floatingips',
  shortNames: ['osfip'],
  resource: withRules(
    ObjectWithImmutable(
      {
        description: Type.Optional(Description()),
        externalNetworkRef: Ref('Network object of the external network to allocate from.'),
        subnetRef: Type.Optional(Ref('Subnet object of the external network to allocate from.')),
        floatingIPAddress: Type.Optional(IPAddress('Address to allocate (admin only).')),
        projectRef: ProjectRef(),
        portRef: Type.Optional(Ref('Port object to bind the address to; unbound when left out.')),
        fixedIPAddress: Type.Optional(IPAddress('Which address of the port to bind to.')),
        tags: Type.Optional(Tags()),
      },
      ['externalNetworkRef', 'subnetRef', 'floatingIPAddress', 'projectRef'],
    ),
    { rule: '!has(self.fixedIPAddress) || has(self.portRef)', message: 'fixedIPAddress needs portRef' },
  ),
  filter: Type.Object({
    floatingIPAddress: Type.Optional(Str(45)),
    externalNetworkRef: Type.Optional(Ref('Network object.')),
    portRef: Type.Optional(Ref('Port object.')),
    projectRef: Type.Optional(Ref('Project object.')),
    tags: Type.Optional(Tags()),
  }),
  observed: Type.Object({
    description: Type.Optional(Str(255)),
    floatingIPAddress: Type.Optional(Str(45)),
    floatingNetworkId: Type.Optional(Str(64)),
    portId: Type.Optional(Str(64)),
    fixedIPAddress: Type.Optional(Str(45)),
    routerId: Type.Optional(Str(64)),
    projectId: Type.Optional(Str(64)),
    status: Type.Optional(Str(32)),
    tags: Type.Optional(Tags()),
  }),
  columns: [{ name: 'Address', type: 'string', jsonPath: '.status.resource.floatingIPAddress' }],
} satisfies OpenStackKind;
