// Turns the schema source into the YAML files in crds/ and the chart: one
// CustomResourceDefinition per kind and the operator's ClusterRole. `npm run crds` writes them
// (generate.ts); render.test.ts fails when the files on disk differ from what this renders.
import { stringify } from 'yaml';
import {
  CATEGORY,
  GROUP,
  type OpenStackKind,
  printerColumns,
  specSchema,
  statusSchema,
  VERSION,
} from './convention.js';
import { KINDS } from './kinds.js';

const HEADER = '# Generated from operator/crds/*.ts by `npm run crds`: edit the TypeScript, not this file.\n';

/** Keys Kubernetes cannot take in a structural schema; TypeBox unions and records produce them. */
const NOT_STRUCTURAL = ['anyOf', 'oneOf', 'allOf', 'not', 'const', 'patternProperties', '$id', '$ref'];
/** Reading order of a schema node's keys in the YAML; the rest follow in their own order. */
const KEY_ORDER = ['description', 'type', 'format', 'enum', 'default', 'items', 'properties', 'required'];

type JsonSchema = { [key: string]: unknown };

/**
 * A plain copy of a TypeBox schema (its symbol keys dropped) with keys in reading order. Throws
 * when a node is not structural, so a schema Kubernetes would refuse never reaches a file.
 */
export function structural(schema: unknown, path = 'schema'): JsonSchema {
  const node = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  for (const key of NOT_STRUCTURAL) {
    if (key in node) throw new Error(`${path}: '${key}' is not allowed in a structural schema`);
  }
  if (typeof node.type !== 'string') throw new Error(`${path}: every node needs a type`);
  const ordered: JsonSchema = {};
  for (const key of [...KEY_ORDER, ...Object.keys(node)]) {
    if (!(key in node) || key in ordered) continue;
    const value = node[key];
    if (key === 'properties') {
      ordered[key] = Object.fromEntries(
        Object.entries(value as JsonSchema).map(([name, child]) => [
          name,
          structural(child, `${path}.${name}`),
        ]),
      );
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      ordered[key] = structural(value, `${path}[]`);
    } else {
      ordered[key] = value;
    }
  }
  return ordered;
}

export function customResourceDefinition(kind: OpenStackKind) {
  const plural = kind.plural;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural,
        singular: kind.kind.toLowerCase(),
        shortNames: kind.shortNames,
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns(kind),
          schema: {
            openAPIV3Schema: structural(
              {
                type: 'object',
                description: `An OpenStack ${kind.kind}, created or imported (docs/operator.md).`,
                properties: {
                  apiVersion: { type: 'string' },
                  kind: { type: 'string' },
                  metadata: { type: 'object' },
                  spec: specSchema(kind.resource, kind.filter),
                  status: statusSchema(kind.observed),
                },
                required: ['spec'],
              },
              kind.kind,
            ),
          },
        },
      ],
    },
  };
}

export const OPERATOR_CLUSTER_ROLE = 'overcast-operator';

/**
 * What the operator may do, and nothing more: read and watch its kinds, write their status and
 * finalizers (never create or delete them: users do), read the credentials Secrets and update
 * them only to place or remove its finalizer, post Events, and hold its leader-election Lease.
 */
export function operatorRules() {
  const plurals = KINDS.map((kind) => kind.plural);
  return [
    { apiGroups: [GROUP], resources: plurals, verbs: ['get', 'list', 'watch', 'update', 'patch'] },
    {
      apiGroups: [GROUP],
      resources: plurals.map((plural) => `${plural}/status`),
      verbs: ['get', 'update', 'patch'],
    },
    { apiGroups: [GROUP], resources: plurals.map((plural) => `${plural}/finalizers`), verbs: ['update'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
    { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
  ];
}

export function operatorClusterRole() {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: OPERATOR_CLUSTER_ROLE },
    rules: operatorRules(),
  };
}

const toYaml = (value: unknown) => HEADER + stringify(value, { lineWidth: 0 });

export const crdFileName = (kind: OpenStackKind) => `${GROUP}_${kind.plural}.yaml`;

/** CRD files are recognised by this prefix, so the generator can remove those of a dropped kind. */
export const GENERATED_CRD_PREFIX = `${GROUP}_`;

/** Directories that hold a copy of every CRD: the repository's and the chart's (Helm installs those). */
export const CRD_DIRECTORIES = ['crds', 'charts/overcast/crds'];

/** Every generated file, by path relative to the repository root. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of KINDS) {
    const text = toYaml(customResourceDefinition(kind));
    for (const directory of CRD_DIRECTORIES) files.set(`${directory}/${crdFileName(kind)}`, text);
  }
  files.set('crds/operator-clusterrole.yaml', toYaml(operatorClusterRole()));
  // The chart's template names the role after the release and includes these rules.
  files.set('charts/overcast/files/operator-rules.yaml', toYaml(operatorRules()));
  return files;
}
