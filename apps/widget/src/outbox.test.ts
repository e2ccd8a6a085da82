import { describe, expect, it } from 'vitest';
import { ApiError } from './api.ts';
import { isRetryable, Outbox, OutboxSender, type OutboxEntry } from './outbox.ts';
import type { Message } from './types.ts';

function memory(initial: string | null = null) {
  let raw = initial;
  return { load: () => raw, save: (v: string) => void (raw = v), get raw() { return raw; } };
}

const entry = (id: string): OutboxEntry => ({ clientMessageId: id, content: `text ${id}`, attachmentIds: [], attachments: [], createdAt: '2025-01-01T00:00:00Z' });

function serverMessage(e: OutboxEntry): Message {
  return {
    id: `m-${e.clientMessageId}`, conversationId: 'c', direction: 'in', private: false, senderType: 'contact', senderId: null,
    senderName: null, content: e.content, attachments: [], status: 'received', clientMessageId: e.clientMessageId, createdAt: '2025-01-01T00:00:01Z',
  };
}

/** Timers the test fires by hand. */
function manualTimers() {
  const pending: { fn: () => void; ms: number }[] = [];
  return {
    setTimer: (fn: () => void, ms: number) => { const t = { fn, ms }; pending.push(t); return t; },
    clearTimer: (t: unknown) => { const i = pending.indexOf(t as (typeof pending)[number]); if (i >= 0) pending.splice(i, 1); },
    pending,
    fire() { const t = pending.shift(); t?.fn(); },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Outbox', () => {
  it('persists entries so they survive a reload, without duplicates', () => {
    const store = memory();
    const a = new Outbox(store.load, store.save);
    a.add(entry('1'));
    a.add(entry('1'));
    a.add(entry('2'));
    const reloaded = new Outbox(store.load, store.save);
    expect(reloaded.entries().map((e) => e.clientMessageId)).toEqual(['1', '2']);
    reloaded.remove('1');
    expect(new Outbox(store.load, store.save).entries().map((e) => e.clientMessageId)).toEqual(['2']);
  });

  it('ignores corrupted storage', () => {
    expect(new Outbox(() => '{not json', () => undefined).entries()).toEqual([]);
    expect(new Outbox(() => '[{"foo":1}]', () => undefined).entries()).toEqual([]);
  });
});

describe('isRetryable', () => {
  it('retries network failures, 429 and 5xx but not other client errors', () => {
    expect(isRetryable(new ApiError(0, 'NETWORK', ''))).toBe(true);
    expect(isRetryable(new ApiError(503, 'x', ''))).toBe(true);
    expect(isRetryable(new ApiError(429, 'x', ''))).toBe(true);
    expect(isRetryable(new ApiError(400, 'x', ''))).toBe(false);
    expect(isRetryable(new ApiError(401, 'x', ''))).toBe(false);
    expect(isRetryable(new Error('boom'))).toBe(false);
  });
});

describe('OutboxSender', () => {
  it('sends in order and retries a failed entry with the same clientMessageId after a backoff', async () => {
    const store = memory();
    const outbox = new Outbox(store.load, store.save);
    outbox.add(entry('1'));
    outbox.add(entry('2'));
    const timers = manualTimers();
    const posted: string[] = [];
    let failNext = 1;
    const sent: string[] = [];
    const sender = new OutboxSender({
      outbox,
      post: async (e) => {
        posted.push(e.clientMessageId);
        if (failNext-- > 0) throw new ApiError(0, 'NETWORK', 'offline');
        return serverMessage(e);
      },
      onSent: (m) => sent.push(m.id),
      onFailed: () => { throw new Error('should not fail'); },
      setTimer: timers.setTimer,
      clearTimer: timers.clearTimer,
      random: () => 0.5,
    });
    await sender.flush();
    expect(posted).toEqual(['1']);
    expect(timers.pending).toHaveLength(1);
    expect(outbox.entries()).toHaveLength(2); // still queued, still persisted
    timers.fire();
    await tick();
    await tick();
    expect(posted).toEqual(['1', '1', '2']);
    expect(sent).toEqual(['m-1', 'm-2']);
    expect(outbox.entries()).toHaveLength(0);
    expect(store.raw).toBe('[]');
  });

  it('drops an entry the server rejects and reports it, then sends the next', async () => {
    const store = memory();
    const outbox = new Outbox(store.load, store.save);
    outbox.add(entry('bad'));
    outbox.add(entry('good'));
    const failed: string[] = [];
    const sent: string[] = [];
    const sender = new OutboxSender({
      outbox,
      post: async (e) => {
        if (e.clientMessageId === 'bad') throw new ApiError(422, 'PARLEY_ERR_VALIDATION', 'too long');
        return serverMessage(e);
      },
      onSent: (m) => sent.push(m.id),
      onFailed: (e) => failed.push(e.clientMessageId),
    });
    await sender.flush();
    expect(failed).toEqual(['bad']);
    expect(sent).toEqual(['m-good']);
  });

  it('kick() cancels the backoff and sends at once', async () => {
    const outbox = new Outbox(() => null, () => undefined);
    outbox.add(entry('1'));
    const timers = manualTimers();
    let online = false;
    const sent: string[] = [];
    const sender = new OutboxSender({
      outbox,
      post: async (e) => {
        if (!online) throw new ApiError(0, 'NETWORK', '');
        return serverMessage(e);
      },
      onSent: (m) => sent.push(m.id),
      onFailed: () => undefined,
      setTimer: timers.setTimer,
      clearTimer: timers.clearTimer,
    });
    await sender.flush();
    expect(timers.pending).toHaveLength(1);
    online = true;
    sender.kick();
    await tick();
    expect(timers.pending).toHaveLength(0);
    expect(sent).toEqual(['m-1']);
  });

  it('does not post the same entry twice when flushed concurrently', async () => {
    const outbox = new Outbox(() => null, () => undefined);
    outbox.add(entry('1'));
    let posts = 0;
    const sender = new OutboxSender({
      outbox,
      post: async (e) => { posts++; await tick(); return serverMessage(e); },
      onSent: () => undefined,
      onFailed: () => undefined,
    });
    await Promise.all([sender.flush(), sender.flush(), sender.flush()]);
    expect(posts).toBe(1);
  });
});
