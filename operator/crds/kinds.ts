// Every kind the operator serves, in the order the reference lists them.
import type { OpenStackKind } from './convention.js';
import { ApplicationCredential, Project, User } from './identity.js';
import { Image } from './image.js';
import { FloatingIP, Network, Port, Router, SecurityGroup, Subnet } from './network.js';

export const KINDS: readonly OpenStackKind[] = [
  Project,
  User,
  ApplicationCredential,
  Image,
  Network,
  Subnet,
  Router,
  Port,
  SecurityGroup,
  FloatingIP,
];
