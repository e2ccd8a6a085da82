import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RealtimeClient, type RealtimeEvent } from './realtime.ts';

/** Just enough of the browser WebSocket for the client; the test plays the server. */
class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  static all: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = FakeSocket.CLOSED;
  }
  // server side
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  push(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason: '' });
  }
}

const message = (id: string) => ({ type: 'message.created', data: { id } });

function setup(initialSeq: number | null = null) {
  let seq = initialSeq;
  const events: string[] = [];
  const status: boolean[] = [];
  const readies: boolean[] = [];
  let resync: () => Promise<void> = async () => undefined;
  const client = new RealtimeClient({
    url: 'wss://parley.test/api/v1/widget/realtime?inbox=abc',
    token: () => 'tok',
    getLastSeq: () => seq,
    setLastSeq: (s) => void (seq = s),
    handlers: {
      event: (e: RealtimeEvent) => events.push((e.data as { id: string }).id),
      resync: () => resync(),
      ready: (fresh) => readies.push(fresh),
      typing: () => undefined,
      status: (c) => status.push(c),
      rejected: () => undefined,
    },
  });
  return { client, events, status, readies, seq: () => seq, onResync: (fn: () => Promise<void>) => (resync = fn) };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('RealtimeClient', () => {
  it('says hello with the token and lastSeq, applies events once, and stores the new seq', () => {
    const t = setup(10);
    t.client.start();
    const ws = FakeSocket.all[0]!;
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'hello', token: 'tok', lastSeq: 10 });
    ws.push({ type: 'event', seq: 11, event: message('a') });
    ws.push({ type: 'event', seq: 11, event: message('a') }); // duplicate delivery
    ws.push({ type: 'event', seq: 9, event: message('old') });
    ws.push({ type: 'ready', seq: 12 });
    ws.push({ type: 'event', seq: 13, event: message('b') });
    expect(t.events).toEqual(['a', 'b']);
    expect(t.seq()).toBe(13);
    expect(t.readies).toEqual([false]);
    expect(t.status).toEqual([true]);
  });

  it('reports a fresh hello so the caller refetches what came before ready', () => {
    const t = setup(null);
    t.client.start();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.push({ type: 'ready', seq: 40 });
    expect(t.readies).toEqual([true]);
    expect(t.seq()).toBe(40);
  });

  it('reconnects with backoff after a drop and resumes from the stored seq', () => {
    const t = setup(5);
    t.client.start();
    const first = FakeSocket.all[0]!;
    first.open();
    first.push({ type: 'ready', seq: 7 });
    first.drop();
    expect(t.status).toEqual([true, false]);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(30_000);
    const second = FakeSocket.all[1]!;
    second.open();
    expect(second.sent[0]).toEqual({ type: 'hello', token: 'tok', lastSeq: 7 });
  });

  it('on resync, holds live events until the refetch is done, then moves to the resync seq', async () => {
    const t = setup(1);
    let finish!: () => void;
    t.onResync(() => new Promise<void>((resolve) => (finish = resolve)));
    t.client.start();
    const ws = FakeSocket.all[0]!;
    ws.open();
    ws.push({ type: 'resync', seq: 100 });
    ws.push({ type: 'event', seq: 101, event: message('live') });
    expect(t.events).toEqual([]);
    finish();
    await vi.runAllTicks();
    await Promise.resolve();
    await Promise.resolve();
    expect(t.events).toEqual(['live']);
    expect(t.seq()).toBe(101);
  });

  it('treats a silent connection as dead and reconnects', () => {
    const t = setup(1);
    t.client.start();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.push({ type: 'ready', seq: 1 });
    vi.advanceTimersByTime(25_000);
    expect(FakeSocket.all[0]!.sent.at(-1)).toEqual({ type: 'ping' });
    vi.advanceTimersByTime(60_000 + 30_000);
    expect(FakeSocket.all.length).toBeGreaterThanOrEqual(2);
    expect(t.status).toContain(false);
  });

  it('drops the socket when the browser goes offline and reconnects at once on nudge', () => {
    const t = setup(3);
    t.client.start();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.push({ type: 'ready', seq: 3 });
    t.client.offline();
    expect(t.status).toEqual([true, false]);
    t.client.nudge();
    expect(FakeSocket.all).toHaveLength(2);
  });
});
