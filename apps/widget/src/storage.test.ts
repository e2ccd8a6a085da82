import { describe, expect, it } from 'vitest';
import { memoryStore, WidgetStorage } from './storage.ts';

describe('WidgetStorage', () => {
  it('namespaces by inbox and clears a session with its seq and outbox', () => {
    const kv = memoryStore();
    const a = new WidgetStorage(kv, 'inbox-a');
    const b = new WidgetStorage(kv, 'inbox-b');
    a.setSession('tok', 'user-1');
    a.setLastSeq(12);
    a.setRaw('outbox', '[]');
    expect(b.getSession()).toBeNull();
    expect(a.getSession()).toEqual({ token: 'tok', identifier: 'user-1' });
    expect(a.getLastSeq()).toBe(12);
    a.clearSession();
    expect(a.getSession()).toBeNull();
    expect(a.getLastSeq()).toBeNull();
    expect(a.getRaw('outbox')).toBeNull();
  });
});
