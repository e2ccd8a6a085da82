import { describe, expect, it } from 'vitest';
import { ShortCache } from './short-cache.ts';

describe('ShortCache', () => {
  it('reads a row once for requests that miss together, keeps it for its ttl, keeps no absent row, forgets on demand', async () => {
    const cache = new ShortCache<{ v: number }>(60_000);
    const db = {};
    let loads = 0;
    let value: { v: number } | null = { v: 1 };
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 10));
      return value;
    };
    const together = await Promise.all([cache.get(db, 'k', load), cache.get(db, 'k', load), cache.get(db, 'k', load)]);
    expect(together).toEqual([{ v: 1 }, { v: 1 }, { v: 1 }]);
    expect(loads).toBe(1);
    value = { v: 2 };
    expect(await cache.get(db, 'k', load)).toEqual({ v: 1 });
    cache.forget(db, 'k');
    expect(await cache.get(db, 'k', load)).toEqual({ v: 2 });
    expect(loads).toBe(2);

    value = null;
    expect(await cache.get(db, 'absent', load)).toBeNull();
    value = { v: 3 };
    expect(await cache.get(db, 'absent', load)).toEqual({ v: 3 });
    expect(loads).toBe(4);
    // Another database handle has its own entries.
    expect(await cache.get({}, 'k', load)).toEqual({ v: 3 });
  });

  it('does not keep a failed read', async () => {
    const cache = new ShortCache<number>(60_000);
    const db = {};
    await expect(cache.get(db, 'k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get(db, 'k', async () => 7)).toBe(7);
  });
});
