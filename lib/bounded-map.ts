// A Map with a size limit, for caches keyed by what clients send (tokens, SQL text): it forgets
// its oldest entry once full, so no client can make it grow without bound.
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`a bounded map holds at least one entry, not ${capacity}`);
    }
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.capacity) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
