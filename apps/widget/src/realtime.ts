import { backoffDelay, SOCKET_BACKOFF } from './backoff.ts';
import type { Message } from './types.ts';

export type RealtimeEvent =
  | { type: 'message.created'; data: Message }
  | { type: 'conversation.updated'; data: { id: string; status: string } }
  | { type: 'conversation.read'; data: { conversationId?: string; by: 'contact' | 'agent'; at: string } };

export interface RealtimeHandlers {
  event(event: RealtimeEvent): void;
  /** The server could not replay the gap: refetch the conversation. Reject to reconnect and try again. */
  resync(): Promise<void>;
  /** `fresh` when hello had no lastSeq, so events before `ready` were not replayed: refetch to close the gap. */
  ready(fresh: boolean): void;
  typing(on: boolean): void;
  status(connected: boolean): void;
  /** A close that may mean the token is no longer valid (policy violation or an application code). */
  rejected(code: number, reason: string): void;
}

export interface RealtimeOptions {
  url: string;
  token(): string | null;
  getLastSeq(): number | null;
  setLastSeq(seq: number): void;
  handlers: RealtimeHandlers;
  pingInterval?: number;
  /** Silence after which the connection is presumed dead (half-open TCP after a network change). */
  deadAfter?: number;
}

type Inbound =
  | { type: 'ready'; seq: number }
  | { type: 'resync'; seq: number }
  | { type: 'event'; seq: number; event: { type: string; data: unknown } }
  | { type: 'ephemeral'; event: { type: string; data: { on?: unknown; who?: unknown } } }
  | { type: 'pong' }
  | { type: 'ack' };

/**
 * The widget's side of the realtime protocol: hello with the visitor token and the last
 * sequence number seen, replay/resync, live events, keep-alive, and reconnection with
 * exponential backoff + jitter after any close.
 */
export class RealtimeClient {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastRx = 0;
  private running = false;
  private isReady = false;
  private freshHello = false;
  /** Events that arrive while a resync refetch is in flight, applied after it. */
  private buffered: { seq: number; event: RealtimeEvent }[] | null = null;

  constructor(private readonly opts: RealtimeOptions) {}

  get connected(): boolean {
    return this.isReady;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    this.drop();
  }

  /** Reconnect at once if not connected (browser back online, tab visible again). */
  nudge(): void {
    if (!this.running) return;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.send({ type: 'ping' });
      return;
    }
    if (this.ws && this.ws.readyState === WebSocket.CONNECTING) return;
    this.attempt = 0;
    this.connect();
  }

  /**
   * The browser says the network is gone. An open socket may linger half-open for minutes
   * without a close frame, so drop it now; `nudge()` on `online` reconnects with lastSeq.
   */
  offline(): void {
    if (!this.running || !this.ws) return;
    this.drop();
    this.scheduleReconnect();
  }

  send(msg: Record<string, unknown>): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.drop();
    const token = this.opts.token();
    if (!token) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.lastRx = Date.now();
      const lastSeq = this.opts.getLastSeq();
      this.freshHello = lastSeq === null;
      this.send({ type: 'hello', token, lastSeq });
      this.startPing();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.ws) return;
      this.lastRx = Date.now();
      let msg: Inbound;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : '') as Inbound;
      } catch {
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.lost();
      if (ev.code === 1008 || ev.code >= 4000) this.opts.handlers.rejected(ev.code, ev.reason);
      this.scheduleReconnect();
    };
    // An error is always followed by close; nothing to do here.
    ws.onerror = () => undefined;
  }

  private onMessage(msg: Inbound): void {
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'ready': {
        // `ready` means "caught up to seq": take it as is, even if lower than ours (the
        // server's log was reset); otherwise every later event would look already seen.
        if (typeof msg.seq === 'number') this.opts.setLastSeq(msg.seq);
        this.attempt = 0;
        this.isReady = true;
        this.opts.handlers.status(true);
        this.opts.handlers.ready(this.freshHello);
        return;
      }
      case 'resync': {
        const seq = msg.seq;
        this.buffered = [];
        this.opts.handlers
          .resync()
          .then(() => {
            if (typeof seq === 'number') this.opts.setLastSeq(seq);
            const pending = this.buffered ?? [];
            this.buffered = null;
            for (const b of pending) this.apply(b.seq, b.event);
            this.isReady = true;
            this.attempt = 0;
            this.opts.handlers.status(true);
          })
          .catch(() => {
            // Keep the old lastSeq so the next hello asks for the same gap again.
            this.buffered = null;
            this.ws?.close(3000, 'resync failed');
          });
        return;
      }
      case 'event': {
        const e = msg.event;
        if (typeof msg.seq !== 'number' || !e || typeof e.type !== 'string') return;
        const event = e as RealtimeEvent;
        if (this.buffered) this.buffered.push({ seq: msg.seq, event });
        else this.apply(msg.seq, event);
        return;
      }
      case 'ephemeral': {
        const e = msg.event;
        if (e && e.type === 'typing' && e.data && e.data.who !== 'contact') this.opts.handlers.typing(e.data.on === true);
        return;
      }
      default:
        return;
    }
  }

  private apply(seq: number, event: RealtimeEvent): void {
    const last = this.opts.getLastSeq();
    if (last !== null && seq <= last) return; // already seen (replay overlap)
    try {
      this.opts.handlers.event(event);
    } finally {
      this.advance(seq);
    }
  }

  private advance(seq: number): void {
    const last = this.opts.getLastSeq();
    if (last === null || seq > last) this.opts.setLastSeq(seq);
  }

  private startPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    const interval = this.opts.pingInterval ?? 25_000;
    const deadAfter = this.opts.deadAfter ?? interval * 2 + 10_000;
    this.pingTimer = setInterval(() => {
      if (!this.ws) return;
      if (Date.now() - this.lastRx > deadAfter) {
        // No pong for two rounds: the TCP connection is likely dead without a close frame.
        const dead = this.ws;
        this.ws = null;
        try {
          dead.close();
        } catch {
          /* ignore */
        }
        this.lost();
        this.scheduleReconnect();
        return;
      }
      this.send({ type: 'ping' });
    }, interval);
  }

  private lost(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.buffered = null;
    if (this.isReady) {
      this.isReady = false;
      this.opts.handlers.status(false);
    }
  }

  private scheduleReconnect(): void {
    if (!this.running || this.retryTimer) return;
    const delay = backoffDelay(this.attempt++, SOCKET_BACKOFF);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private drop(): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        /* ignore */
      }
    }
    this.lost();
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }
}
