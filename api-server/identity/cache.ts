// Read-through cache of what token validation needs (users, projects, domains, roles,
// catalog), so validating a token reads no database. Any identity write in this process
// clears it; entries also expire after a short time so that writes made by another
// api-server replica are seen soon.
//
// Values derived from several entries (a token's whole request context, its rendered body) are
// kept elsewhere with a stamp(): they stay usable exactly as long as the entries they were
// built from would, that is until the next clear() or the same time-to-live.
export interface CacheStamp {
  readonly generation: number;
  readonly expiresAt: number;
}

export class IdentityCache {
  private entries = new Map<string, { expiresAt: number; value: Promise<unknown> }>();
  private generation = 0;

  constructor(private readonly ttlMs = 30_000) {}

  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value as Promise<T>;
    const value = load();
    this.entries.set(key, { expiresAt: now + this.ttlMs, value });
    // A failed load must not be served from the cache.
    value.catch(() => this.entries.delete(key));
    return value;
  }

  clear(): void {
    this.entries.clear();
    this.generation++;
  }

  /** Taken before building a derived value from this cache's entries. */
  stamp(): CacheStamp {
    return { generation: this.generation, expiresAt: Date.now() + this.ttlMs };
  }

  /** Whether a value built after `stamp` was taken is still as fresh as its sources. */
  isFresh(stamp: CacheStamp): boolean {
    return stamp.generation === this.generation && stamp.expiresAt > Date.now();
  }
}
