/**
 * Rows that every inbound request reads and admins rarely change (an inbox by its public id, a
 * tenant's settings), kept for a moment per database handle so that a burst of webhooks does not
 * read the same row thousands of times. The node that changes a row forgets it at once; other
 * nodes see the change within `ttlMs`. Absent rows are not kept (a new inbox works at once).
 */
export class ShortCache<V> {
  private readonly byDb = new WeakMap<object, Map<string, { value: Promise<V | null>; until: number }>>();

  constructor(private readonly ttlMs: number) {}

  /** The kept value, else `load`'s (one load at a time per key: requests that miss together share it). */
  get(db: object, key: string, load: () => Promise<V | null>): Promise<V | null> {
    let entries = this.byDb.get(db);
    if (!entries) this.byDb.set(db, (entries = new Map()));
    const hit = entries.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.value;
    const entry = { value: load(), until: now + this.ttlMs };
    entries.set(key, entry);
    const drop = () => {
      if (entries.get(key) === entry) entries.delete(key);
    };
    entry.value.then((value) => value === null && drop(), drop);
    return entry.value;
  }

  forget(db: object, key?: string): void {
    if (key === undefined) this.byDb.delete(db);
    else this.byDb.get(db)?.delete(key);
  }
}
