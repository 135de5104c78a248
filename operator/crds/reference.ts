// The per-kind reference of docs/operator.md, rendered from the same schemas as the CRDs so it
// cannot drift from them: `npm run crds` rewrites the part of the page between the markers and
// render.test.ts checks it.
import { type OpenStackKind, printerColumns } from './convention.js';
import { KINDS } from './kinds.js';
import { structural } from './render.js';

export const REFERENCE_PAGE = 'docs/operator.md';
export const REFERENCE_BEGIN = '<!-- BEGIN GENERATED REFERENCE (npm run crds) -->';
export const REFERENCE_END = '<!-- END GENERATED REFERENCE -->';

type Node = {
  type: string;
  format?: string;
  description?: string;
  enum?: unknown[];
  default?: unknown;
  items?: Node;
  properties?: Record<string, Node>;
  additionalProperties?: Node;
  required?: string[];
  'x-kubernetes-validations'?: { rule: string; message: string }[];
};

function typeOf(node: Node): string {
  if (node.enum) return node.enum.map((value) => `\`${value}\``).join(' \\| ');
  if (node.type === 'array') return `list of ${node.items?.properties ? 'objects' : typeOf(node.items!)}`;
  if (node.additionalProperties) return 'map of string';
  return node.format === 'date-time' ? 'timestamp' : node.type;
}

const isImmutable = (node: Node) =>
  node['x-kubernetes-validations']?.some((rule) => rule.rule === 'self == oldSelf') ?? false;

/** The messages of a field's own rules, but immutability, which has its own note. */
const checks = (node: Node) =>
  (node['x-kubernetes-validations'] ?? [])
    .filter((rule) => rule.rule !== 'self == oldSelf' && !rule.rule.includes('has(oldSelf.'))
    .map((rule) => `${rule.message[0]!.toUpperCase()}${rule.message.slice(1)}.`);

/** One row per field, nested objects and lists of objects flattened into dotted paths. */
function rows(node: Node, prefix = ''): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const path = `${prefix}${name}`;
    const flags = [
      node.required?.includes(name) ? 'required' : '',
      child.default !== undefined ? `default \`${JSON.stringify(child.default)}\`` : '',
      isImmutable(child) ? 'immutable' : '',
    ].filter(Boolean);
    const text = [
      child.description ?? '',
      ...checks(child),
      ...(child.type === 'array' && child.items ? checks(child.items) : []),
    ].filter(Boolean);
    const notes = [flags.join(', '), text.join(' ')].filter(Boolean).join('. ');
    const row = `| \`${path}\` | ${typeOf(child)} | ${notes} |`;
    const nested = child.type === 'array' ? child.items : child;
    const below = nested?.properties ? rows(nested, `${path}${child.type === 'array' ? '[]' : ''}.`) : [];
    return [row, ...below];
  });
}

const fieldNames = (node: Node) => Object.keys(node.properties ?? {}).map((name) => `\`${name}\``);

function kindSection(kind: OpenStackKind): string {
  const resource = structural(kind.resource, kind.kind) as Node;
  // Presence rules of immutable fields are already told by their rows.
  const rules = (resource['x-kubernetes-validations'] ?? [])
    .filter((rule) => !rule.rule.includes('has(oldSelf.'))
    .map((rule) => rule.message);
  const columns = printerColumns(kind).map((column) => column.name);
  return [
    `### ${kind.kind}`,
    '',
    `\`kubectl get ${kind.plural}\` (short name \`${kind.shortNames.join('`, `')}\`) shows ${columns.join(', ')}.`,
    '',
    '| `spec.resource` field | Type | Notes |',
    '| --- | --- | --- |',
    ...rows(resource),
    '',
    ...(rules.length > 0 ? [`Also checked: ${rules.join('; ')}.`, ''] : []),
    `\`spec.import.filter\`: ${fieldNames(structural(kind.filter) as Node).join(', ')}.`,
    '',
    `\`status.resource\`: ${fieldNames(structural(kind.observed) as Node).join(', ')}.`,
  ].join('\n');
}

export function referenceSection(): string {
  return [
    REFERENCE_BEGIN,
    '',
    ...KINDS.map(kindSection).flatMap((section) => [section, '']),
    REFERENCE_END,
  ].join('\n');
}

/** The page with its generated part replaced; throws when the markers are missing. */
export function withReference(page: string): string {
  const begin = page.indexOf(REFERENCE_BEGIN);
  const end = page.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin)
    throw new Error(`the page lacks the markers ${REFERENCE_BEGIN} ... ${REFERENCE_END}`);
  return page.slice(0, begin) + referenceSection() + page.slice(end + REFERENCE_END.length);
}
