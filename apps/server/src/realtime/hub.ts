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
}

/**
 * Fans committed events out to the sockets of one node, per tenant, strictly in seq order.
 *
 * Transactions commit in seq order but their publish calls may arrive out of order (or, after a
 * crash between commit and publish, not at all): the hub holds back an event until every lower
 * seq was delivered, and fills a gap that lasts from the event log.
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

  ephemeral(tenantId: string, e: Ephemeral, except?: HubListener): void {
    const channel = this.channels.get(tenantId);
    if (!channel) return;
    for (const l of channel.listeners) if (l !== except) l.ephemeral(e);
  }

  /** Agents' connection counts, for "is anyone online" (widget offline form) and presence. */
  agentConnected(tenantId: string, userId: string): boolean {
    const users = this.agentsOnline.get(tenantId) ?? new Map<string, number>();
    this.agentsOnline.set(tenantId, users);
    const n = (users.get(userId) ?? 0) + 1;
    users.set(userId, n);
    return n === 1;
  }

  agentDisconnected(tenantId: string, userId: string): boolean {
    const users = this.agentsOnline.get(tenantId);
    const n = (users?.get(userId) ?? 1) - 1;
    if (n > 0) users!.set(userId, n);
    else users?.delete(userId);
    return n <= 0;
  }

  /** How many sockets of the agent are open on this node. */
  agentConnections(tenantId: string, userId: string): number {
    return this.agentsOnline.get(tenantId)?.get(userId) ?? 0;
  }

  /** Each tenant with agents connected to this node, and those agents. */
  *connectedAgents(): Iterable<[string, string[]]> {
    for (const [tenantId, users] of this.agentsOnline) if (users.size > 0) yield [tenantId, [...users.keys()]];
  }

  onlineAgents(tenantId: string): string[] {
    return [...(this.agentsOnline.get(tenantId)?.keys() ?? [])];
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

  private async fillGap(tenantId: string, channel: TenantChannel): Promise<void> {
    channel.gapTimer = null;
    if (channel.pending.size === 0) return;
    const upto = Math.min(...channel.pending.keys());
    try {
      const missing = await eventsBetween(this.db, tenantId, channel.delivered, upto);
      for (const e of missing) if (e.seq > channel.delivered) channel.pending.set(e.seq, e);
    } catch (err) {
      this.log.error({ err, tenantId }, 'realtime gap fill failed');
    }
    this.drain(tenantId, channel);
  }
}
