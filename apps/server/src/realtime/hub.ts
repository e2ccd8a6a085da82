import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import { currentSeq, eventsBetween, type RealtimeEvent } from './event-log.ts';

export interface Ephemeral {
  type: string;
  data: Record<string, unknown>;
  /** Ephemeral events about one conversation reach its visitor too, unless agentsOnly. */
  conversationId?: string;
  agentsOnly?: boolean;
}

export interface HubListener {
  event(e: RealtimeEvent): void;
  ephemeral(e: Ephemeral): void;
}

interface TenantChannel {
  /** Highest seq handed to listeners; every seq up to it was delivered, in order. */
  delivered: number;
  ready: Promise<void>;
  pending: Map<number, RealtimeEvent>;
  listeners: Set<HubListener>;
  gapTimer: NodeJS.Timeout | null;
  /** Highest seq another node announced as committed. */
  heard: number;
  /** A read of the event log is under way; `again` asks for one more after it. */
  fetching: boolean;
  again: boolean;
}

/**
 * Fans committed events out to the sockets of one node, per tenant, strictly in seq order.
 *
 * Transactions commit in seq order but their publish calls may arrive out of order (or, after a
 * crash between commit and publish, not at all): the hub holds back an event until every lower
 * seq was delivered, and fills a gap that lasts from the event log. Events committed by other
 * nodes are announced (heardOf) and read from the event log too.
 */
export class RealtimeHub {
  private channels = new Map<string, TenantChannel>();
  private agentsOnline = new Map<string, Map<string, number>>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly gapFillMs = 150,
  ) {}

  /** Joins a tenant's stream; returns the seq the listener is positioned after. */
  async subscribe(tenantId: string, listener: HubListener): Promise<{ position: number; unsubscribe: () => void }> {
    const channel = this.channelFor(tenantId);
    await channel.ready;
    channel.listeners.add(listener);
    return {
      position: channel.delivered,
      unsubscribe: () => {
        channel.listeners.delete(listener);
        if (channel.listeners.size === 0 && this.channels.get(tenantId) === channel) {
          if (channel.gapTimer) clearTimeout(channel.gapTimer);
          this.channels.delete(tenantId);
        }
      },
    };
  }

  publish(tenantId: string, events: RealtimeEvent[]): void {
    const channel = this.channels.get(tenantId);
    if (!channel) return; // nobody listening on this node
    for (const e of events) if (e.seq > channel.delivered) channel.pending.set(e.seq, e);
    this.drain(tenantId, channel);
  }

  /** Sends a typing or presence signal to this node's listeners (but `except`) and, through `relay`, to the other nodes'. */
  ephemeral(tenantId: string, e: Ephemeral, except?: HubListener): void {
    this.ephemeralHere(tenantId, e, except);
    this.relay?.(tenantId, e);
  }

  /** A signal another node relayed. */
  ephemeralHere(tenantId: string, e: Ephemeral, except?: HubListener): void {
    const channel = this.channels.get(tenantId);
    if (!channel) return;
    for (const l of channel.listeners) if (l !== except) l.ephemeral(e);
  }

  /** Set when other nodes may serve the same tenants: passes this node's signals on to them. */
  relay: ((tenantId: string, e: Ephemeral) => void) | null = null;

  /** Agents' sockets open on this node, counted for routing (which knows them on every node). */
  agentConnected(tenantId: string, userId: string): void {
    const users = this.agentsOnline.get(tenantId) ?? new Map<string, number>();
    this.agentsOnline.set(tenantId, users);
    users.set(userId, (users.get(userId) ?? 0) + 1);
  }

  agentDisconnected(tenantId: string, userId: string): void {
    const users = this.agentsOnline.get(tenantId);
    const n = (users?.get(userId) ?? 1) - 1;
    if (n > 0) users!.set(userId, n);
    else users?.delete(userId);
  }

  /** How many sockets of the agent are open on this node. */
  agentConnections(tenantId: string, userId: string): number {
    return this.agentsOnline.get(tenantId)?.get(userId) ?? 0;
  }

  /** Each tenant with agents connected to this node, and those agents. */
  *connectedAgents(): Iterable<[string, string[]]> {
    for (const [tenantId, users] of this.agentsOnline) if (users.size > 0) yield [tenantId, [...users.keys()]];
  }

  private channelFor(tenantId: string): TenantChannel {
    let channel = this.channels.get(tenantId);
    if (channel) return channel;
    const created: TenantChannel = {
      delivered: 0,
      ready: Promise.resolve(),
      pending: new Map(),
      listeners: new Set(),
      gapTimer: null,
      heard: 0,
      fetching: false,
      again: false,
    };
    created.ready = currentSeq(this.db, tenantId).then((seq) => {
      created.delivered = seq;
      for (const s of created.pending.keys()) if (s <= seq) created.pending.delete(s);
      this.drain(tenantId, created);
    });
    this.channels.set(tenantId, created);
    return created;
  }

  private drain(tenantId: string, channel: TenantChannel): void {
    let next = channel.pending.get(channel.delivered + 1);
    while (next) {
      channel.pending.delete(next.seq);
      channel.delivered = next.seq;
      for (const l of channel.listeners) l.event(next);
      next = channel.pending.get(channel.delivered + 1);
    }
    if (channel.pending.size > 0 && !channel.gapTimer) {
      channel.gapTimer = setTimeout(() => void this.fillGap(tenantId, channel), this.gapFillMs);
    }
  }

  /** Another node committed the tenant's events up to `seq`: listeners here get them from the event log. */
  heardOf(tenantId: string, seq: number): void {
    const channel = this.channels.get(tenantId);
    if (!channel || seq <= channel.heard) return; // nobody listening on this node, or already known
    channel.heard = seq;
    void this.catchUp(tenantId, channel);
  }

  /** Announcements may have been missed (the listening connection was lost): every stream here reads what it has not seen. */
  async catchUpAll(): Promise<void> {
    await Promise.all(
      [...this.channels].map(async ([tenantId, channel]) => {
        try {
          this.heardOf(tenantId, await currentSeq(this.db, tenantId));
        } catch (err) {
          this.log.error({ err, tenantId }, 'realtime catch-up failed');
        }
      }),
    );
  }

  private fillGap(tenantId: string, channel: TenantChannel): Promise<void> {
    channel.gapTimer = null;
    return this.catchUp(tenantId, channel);
  }

  /** Reads from the event log what lies between the delivered seq and the highest one known to exist (one read at a time per tenant). */
  private async catchUp(tenantId: string, channel: TenantChannel): Promise<void> {
    if (channel.fetching) return void (channel.again = true);
    channel.fetching = true;
    try {
      await channel.ready;
      do {
        channel.again = false;
        const upto = Math.max(channel.heard, channel.pending.size > 0 ? Math.min(...channel.pending.keys()) : 0);
        if (upto <= channel.delivered) break;
        const missing = await eventsBetween(this.db, tenantId, channel.delivered, upto);
        for (const e of missing) if (e.seq > channel.delivered) channel.pending.set(e.seq, e);
        this.drain(tenantId, channel);
      } while (channel.again);
    } catch (err) {
      this.log.error({ err, tenantId }, 'realtime gap fill failed');
    } finally {
      channel.fetching = false;
    }
  }
}
