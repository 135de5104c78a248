// The local components, by name, for `overcast kit install` and the test harness.
import type { KitContext } from './common.js';
import { installKubernetes } from './kubernetes.js';
import { installMariaDb } from './mariadb.js';
import { installOpenstackClients } from './openstack.js';
import { installOvs } from './ovs.js';
import { installRabbitMq } from './rabbitmq.js';

export interface KitComponent {
  name: string;
  description: string;
  install(ctx: KitContext): Promise<unknown>;
}

export const KIT_COMPONENTS: readonly KitComponent[] = [
  { name: 'mariadb', description: 'MariaDB server (Debian package)', install: installMariaDb },
  { name: 'rabbitmq', description: 'RabbitMQ broker (Debian package)', install: installRabbitMq },
  {
    name: 'ovs',
    description: 'Open vSwitch, dnsmasq, iproute2, iptables, QEMU (Debian packages)',
    install: installOvs,
  },
  {
    name: 'openstack',
    description: 'the openstack CLI and tempest (Debian packages)',
    install: installOpenstackClients,
  },
  {
    name: 'kubernetes',
    description: 'etcd, kube-apiserver, kube-controller-manager, kubectl and helm (built from Go modules)',
    install: installKubernetes,
  },
];
