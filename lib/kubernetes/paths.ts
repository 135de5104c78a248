// The REST paths of the Kubernetes API: the core group lives under /api/v1, every other
// group under /apis/<group>/<version>; namespaced objects under namespaces/<namespace>.

export interface ResourceLocation {
  /** Empty or absent for the core group (Secrets, Events). */
  group?: string;
  version: string;
  plural: string;
  /** Absent: across all namespaces (a list or watch), or a cluster-scoped resource. */
  namespace?: string;
  name?: string;
  /** `status`, `scale`... */
  subresource?: string;
}

export function resourcePath(location: ResourceLocation): string {
  const segment = encodeURIComponent;
  let path = location.group ? `/apis/${location.group}/${location.version}` : `/api/${location.version}`;
  if (location.namespace) path += `/namespaces/${segment(location.namespace)}`;
  path += `/${location.plural}`;
  if (location.name) path += `/${segment(location.name)}`;
  if (location.subresource) path += `/${location.subresource}`;
  return path;
}
