/**
 * Key/value storage namespaced by inbox. localStorage can throw (disabled storage,
 * Safari private mode, sandboxed iframes), so every access is guarded and falls back
 * to memory: the widget then still works, it just forgets on reload.
 */
export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export function memoryStore(): KeyValueStore {
  const map = new Map<string, string>();
  return {
    get: (k) => (map.has(k) ? (map.get(k) as string) : null),
    set: (k, v) => void map.set(k, v),
    remove: (k) => void map.delete(k),
  };
}

export function browserStore(): KeyValueStore {
  const fallback = memoryStore();
  let ls: Storage | null = null;
  try {
    ls = window.localStorage;
    const probe = '__parley_probe__';
    ls.setItem(probe, '1');
    ls.removeItem(probe);
  } catch {
    ls = null;
  }
  if (!ls) return fallback;
  const store = ls;
  return {
    get(k) {
      try {
        return store.getItem(k);
      } catch {
        return fallback.get(k);
      }
    },
    set(k, v) {
      try {
        store.setItem(k, v);
      } catch {
        fallback.set(k, v); // quota exceeded: keep it for this page at least
      }
    },
    remove(k) {
      try {
        store.removeItem(k);
      } catch {
        /* ignore */
      }
      fallback.remove(k);
    },
  };
}

/** Everything the widget persists for one inbox, under `parley:<publicId>:*`. */
export class WidgetStorage {
  constructor(
    private readonly store: KeyValueStore,
    private readonly publicId: string,
  ) {}

  private key(name: string): string {
    return `parley:${this.publicId}:${name}`;
  }

  getSession(): { token: string; identifier: string | null } | null {
    const raw = this.store.get(this.key('session'));
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (parsed && typeof parsed === 'object' && typeof (parsed as { token?: unknown }).token === 'string') {
        const p = parsed as { token: string; identifier?: unknown };
        return { token: p.token, identifier: typeof p.identifier === 'string' ? p.identifier : null };
      }
    } catch {
      /* corrupted entry: treat as absent */
    }
    return null;
  }

  setSession(token: string, identifier: string | null): void {
    this.store.set(this.key('session'), JSON.stringify({ token, identifier }));
  }

  clearSession(): void {
    this.store.remove(this.key('session'));
    this.store.remove(this.key('lastSeq'));
    this.store.remove(this.key('outbox'));
  }

  getLastSeq(): number | null {
    const raw = this.store.get(this.key('lastSeq'));
    const n = raw === null ? NaN : Number(raw);
    return Number.isFinite(n) ? n : null;
  }

  setLastSeq(seq: number): void {
    this.store.set(this.key('lastSeq'), String(seq));
  }

  getRaw(name: string): string | null {
    return this.store.get(this.key(name));
  }

  setRaw(name: string, value: string): void {
    this.store.set(this.key(name), value);
  }
}
