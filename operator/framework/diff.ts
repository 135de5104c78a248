// kopf's field diff: what changed between two versions of a spec, as a list of operations on
// field paths, so an update handler (and its Event) can say "changed resource.mtu" rather than
// "something changed". Lists are compared as whole values, as kopf does.

export type DiffOperation =
  | { op: 'add'; path: string[]; new: unknown }
  | { op: 'change'; path: string[]; old: unknown; new: unknown }
  | { op: 'remove'; path: string[]; old: unknown };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of JSON values (what comes out of the Kubernetes API). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => jsonEqual(a[key], b[key]));
  }
  return false;
}

export function diff(old: unknown, current: unknown, path: string[] = []): DiffOperation[] {
  if (jsonEqual(old, current)) return [];
  if (old === undefined) return [{ op: 'add', path, new: current }];
  if (current === undefined) return [{ op: 'remove', path, old }];
  if (isPlainObject(old) && isPlainObject(current)) {
    const keys = [...new Set([...Object.keys(old), ...Object.keys(current)])].sort();
    return keys.flatMap((key) => diff(old[key], current[key], [...path, key]));
  }
  return [{ op: 'change', path, old, new: current }];
}

/** "resource.mtu, resource.tags" — the changed fields, for messages and Events. */
export function describeDiff(operations: DiffOperation[]): string {
  return operations.map((operation) => operation.path.join('.') || '(whole object)').join(', ');
}
