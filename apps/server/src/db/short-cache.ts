/**
 * Rows that every inbound request reads and admins rarely change (an inbox by its public id, a
 * tenant's settings), kept for a moment per database handle so that a burst of webhooks does not
 * read the same row thousands of times. The node that changes a row forgets it at once; other
 * nodes see the change within `ttlMs`. Absent rows are not kept (a new inbox works at once).
 */
export class ShortCache<V> {
  private readonly byDb = new WeakMap<object, Map<string, { value: V; until: number }>>();

  constructor(private readonly ttlMs: number) {}

  async get(db: object, key: string, load: () => Promise<V | null>): Promise<V | null> {
    let entries = this.byDb.get(db);
    if (!entries) this.byDb.set(db, (entries = new Map()));
    const hit = entries.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (value === null) entries.delete(key);
    else entries.set(key, { value, until: now + this.ttlMs });
    return value;
  }

  forget(db: object, key?: string): void {
    if (key === undefined) this.byDb.delete(db);
    else this.byDb.get(db)?.delete(key);
  }
}
