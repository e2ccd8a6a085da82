import type { WebSocket } from 'ws';
import type { Db } from '../db/database.ts';
import type { Ephemeral, HubListener, RealtimeHub } from './hub.ts';
import { eventsBetween, oldestRetainedSeq, type RealtimeEvent } from './event-log.ts';

/** An event's frame for agents' sockets, encoded once for all of them (ws sends a Buffer as it is; a string it encodes per socket). */
const sharedFrames = new WeakMap<RealtimeEvent, Buffer>();
/** A Buffer sent as a text frame. */
const TEXT = { binary: false } as const;

/** How many missed events a reconnecting client is sent before it is told to refetch instead. */
export const MAX_REPLAY = 1000;

export interface ConnectionScope {
  tenantId: string;
  /** Agents see every event as stored: its frame is serialized once for all their sockets. */
  seesEverything?: boolean;
  /** Events this client must not get even so (another agent's offers). */
  hides?(e: RealtimeEvent): boolean;
  /** Set for a visitor: only this conversation's events meant for visitors. */
  visitorConversationId?: string;
  /** Shapes an event for this client; null drops it. */
  view(e: RealtimeEvent): unknown | null;
  viewEphemeral(e: Ephemeral): Ephemeral | null;
}

/**
 * One client's ordered stream: on hello it joins the tenant's live stream first, then sends
 * what the client missed from the event log, then the live events held back meanwhile — so
 * nothing falls between replay and live, and nothing is sent twice.
 */
export class RealtimeConnection implements HubListener {
  private lastSent = 0;
  private held: RealtimeEvent[] | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly socket: WebSocket,
    private readonly scope: ConnectionScope,
    private readonly hub: RealtimeHub,
    private readonly db: Db,
  ) {}

  async start(lastSeq: number | null): Promise<void> {
    this.held = [];
    const { position, unsubscribe } = await this.hub.subscribe(this.scope.tenantId, this);
    this.unsubscribe = unsubscribe;
    if (lastSeq === null || lastSeq >= position) {
      this.lastSent = lastSeq === null ? position : Math.max(lastSeq, 0);
      this.send({ type: 'ready', seq: position });
    } else {
      const oldest = await oldestRetainedSeq(this.db, this.scope.tenantId);
      const tooOld = lastSeq < 0 || oldest === null || lastSeq < oldest - 1;
      const missed = tooOld ? [] : await eventsBetween(this.db, this.scope.tenantId, lastSeq, position, this.scope.visitorConversationId, MAX_REPLAY + 1);
      if (tooOld || missed.length > MAX_REPLAY) {
        this.send({ type: 'resync', seq: position });
      } else {
        for (const e of missed) this.deliver(e);
        this.send({ type: 'ready', seq: position });
      }
      this.lastSent = position;
    }
    const held = this.held;
    this.held = null;
    for (const e of held) this.deliver(e);
  }

  event(e: RealtimeEvent): void {
    if (this.held) this.held.push(e);
    else this.deliver(e);
  }

  ephemeral(e: Ephemeral): void {
    if (this.held) return;
    const shaped = this.scope.viewEphemeral(e);
    if (shaped) this.send({ type: 'ephemeral', event: { type: shaped.type, data: shaped.data } });
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private deliver(e: RealtimeEvent): void {
    if (e.seq <= this.lastSent) return;
    this.lastSent = e.seq;
    if (this.scope.hides?.(e)) return;
    if (this.scope.seesEverything) {
      let frame = sharedFrames.get(e);
      if (frame === undefined) sharedFrames.set(e, (frame = Buffer.from(JSON.stringify({ type: 'event', seq: e.seq, event: { type: e.type, data: e.payload } }))));
      return this.sendRaw(frame);
    }
    if (this.scope.visitorConversationId && (e.conversationId !== this.scope.visitorConversationId || e.audience !== 'all')) return;
    const data = this.scope.view(e);
    if (data !== null) this.send({ type: 'event', seq: e.seq, event: { type: e.type, data } });
  }

  send(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  private corked = false;

  private sendRaw(frame: string | Buffer): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    // Frames sent in one tick (a committed batch fans out many) leave in one TCP write.
    const tcp = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (tcp && !this.corked) {
      this.corked = true;
      tcp.cork();
      process.nextTick(() => {
        this.corked = false;
        tcp.uncork();
      });
    }
    // A failed write closes the socket, which ends this connection (no callback per frame).
    this.socket.send(frame, TEXT);
  }
}
