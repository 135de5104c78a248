// Which objects wait on which: when a dependency changes, its dependents are queued again
// (no polling). Keys are opaque strings: "Kind/namespace/name" for dependencies, queue keys
// for dependents.
export class DependencyIndex {
  private readonly dependents = new Map<string, Set<string>>();
  private readonly dependenciesOf = new Map<string, string[]>();

  /** Replaces what `dependent` waits on (an empty list: nothing, as when it is deleted). */
  set(dependent: string, dependencies: string[]): void {
    for (const previous of this.dependenciesOf.get(dependent) ?? []) {
      const waiting = this.dependents.get(previous);
      waiting?.delete(dependent);
      if (waiting?.size === 0) this.dependents.delete(previous);
    }
    for (const dependency of dependencies) {
      const waiting = this.dependents.get(dependency) ?? new Set<string>();
      waiting.add(dependent);
      this.dependents.set(dependency, waiting);
    }
    if (dependencies.length > 0) this.dependenciesOf.set(dependent, [...dependencies]);
    else this.dependenciesOf.delete(dependent);
  }

  dependentsOf(dependency: string): string[] {
    return [...(this.dependents.get(dependency) ?? [])];
  }
}
