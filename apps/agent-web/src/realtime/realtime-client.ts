import type { ServerFrame } from '../api/types';

export type ConnectionStatus = 'connecting' | 'online' | 'offline';

export interface RealtimeOptions {
  url: string;
  /** The last applied sequence number, read at every (re)connect for the hello. */
  getLastSeq: () => number | null;
  onFrame: (frame: ServerFrame) => void;
  onStatus: (status: ConnectionStatus) => void;
  /** The socket closed without ever opening (refused upgrade or no network). */
  onConnectFailed?: () => void;
  /** Injected for tests; defaults to the browser's WebSocket. */
  createSocket?: (url: string) => WebSocket;
}

const PING_EVERY_MS = 20_000;
/** No frame at all for this long (a ping is answered by a pong) means the socket is dead. */
const SILENCE_LIMIT_MS = 45_000;
/** After waking up or coming back online a ping must be answered quickly. */
const WAKE_PROBE_MS = 5_000;
const MAX_BACKOFF_MS = 15_000;

/** Reconnect delay: exponential from 500 ms, capped, with jitter so a fleet does not stampede. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * One WebSocket to the agent realtime endpoint that keeps itself alive: hello with the last
 * seq on every connect, heartbeat, reconnect with backoff after errors, network loss or sleep.
 */
export class RealtimeConnection {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  private lastFrameAt = 0;
  /** The current socket got its ready/resync: frames on it prove the link is up. */
  private ready = false;
  private status: ConnectionStatus = 'offline';

  constructor(private readonly opts: RealtimeOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.handleOnline);
    window.addEventListener('offline', this.handleOffline);
    document.addEventListener('visibilitychange', this.handleVisibility);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.handleOnline);
    window.removeEventListener('offline', this.handleOffline);
    document.removeEventListener('visibilitychange', this.handleVisibility);
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s) s.close(1000, 'bye');
    this.setStatus('offline');
  }

  send(frame: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Drops the current socket (if any) and connects again at once. */
  reconnectNow(): void {
    if (this.stopped) return;
    this.attempt = 0;
    this.dropSocket();
    this.connect();
  }

  private connect(): void {
    if (this.stopped || this.socket) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.setStatus('connecting');
    let socket: WebSocket;
    try {
      socket = this.opts.createSocket ? this.opts.createSocket(this.opts.url) : new WebSocket(this.opts.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    this.ready = false;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.lastFrameAt = Date.now();
      socket.send(JSON.stringify({ type: 'hello', lastSeq: this.opts.getLastSeq() }));
      this.startHeartbeat();
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (this.socket !== socket) return;
      this.lastFrameAt = Date.now();
      if (this.probeTimer) {
        clearTimeout(this.probeTimer);
        this.probeTimer = null;
      }
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'ready' || frame.type === 'resync') {
        this.attempt = 0;
        this.ready = true;
      }
      // Any frame after ready (a pong after waking up, too) shows the link works again.
      if (this.ready) this.setStatus('online');
      this.opts.onFrame(frame);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      // Refused before opening: maybe the session ended (the upgrade answers 401).
      if (!opened) this.opts.onConnectFailed?.();
      this.ready = false;
      this.stopHeartbeat();
      this.scheduleRetry();
    };
    socket.onerror = () => {
      // onclose follows and schedules the retry.
    };
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = null;
    this.ready = false;
    this.stopHeartbeat();
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(4000, 'reconnect');
      } catch {
        // Already closing.
      }
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.setStatus(navigator.onLine === false ? 'offline' : 'connecting');
    const delay = backoffDelay(this.attempt++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        // Missed pongs: the network or the machine slept; the socket is a zombie.
        this.reconnectNow();
        return;
      }
      this.send({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  private stopHeartbeat(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  private clearTimers(): void {
    this.stopHeartbeat();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Checks a socket that looks open really is: a ping must be answered soon. */
  private probe(): void {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      this.reconnectNow();
      return;
    }
    if (this.probeTimer) return;
    this.send({ type: 'ping' });
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      this.reconnectNow();
    }, WAKE_PROBE_MS);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.opts.onStatus(status);
  }

  private readonly handleOnline = (): void => {
    if (!this.stopped) this.probe();
  };

  private readonly handleOffline = (): void => {
    this.setStatus('offline');
  };

  private readonly handleVisibility = (): void => {
    if (!this.stopped && document.visibilityState === 'visible') this.probe();
  };
}

export function realtimeUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/api/v1/realtime`;
}
