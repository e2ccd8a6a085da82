import { randomUUID } from 'node:crypto';
import { sql, type Selectable, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import { isRoutingError, RoutingEngine, RoutingError, RoutingErrorCodes, type Decision, type EngineSnapshot, type RoutingEvent } from '@parley/routing';
import type { ContactRow, ConversationRow, ConversationSla, ConversationStatus, Database, MessageRow, RoutingItemState, RoutingOffersTable } from '../db/schema.ts';
import type { Db } from '../db/database.ts';
import { rowsById } from '../db/rows-by-id.ts';
import { sendAhead } from '../db/prepared-client.ts';
import { transact, type FinalWrite, type GroupCommitter, type Outbox } from '../realtime/transact.ts';
import type { RealtimeHub } from '../realtime/hub.ts';
import { insertConversationEvents, loadConversationDtos, updateConversationsSql, type ConversationEventInput, type UpdatableColumn } from '../conversations/conversations.repository.ts';
import { toConversationDto, type ConversationDto } from '../conversations/conversation-dto.ts';
import {
  CHANNEL_OF,
  ensureDefaultQueue,
  listQueueRecords,
  loadAgentInputs,
  loadRoutableConversations,
  lockTenantRouting,
  tenantRoutingLock,
  type RoutingStateHead,
  toQueueConfig,
} from './routing.repository.ts';
import { toOfferDto, type OfferDto } from './routing.types.ts';
import { enqueueClosingMessage } from './closing-message.ts';

type Trx = Transaction<Database>;
type OfferRow = Selectable<RoutingOffersTable>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventInput = DistributiveOmit<RoutingEvent, 'now'>;
export type Actor = { type: 'user' | 'system' | 'contact'; id: string | null };

export interface RoutingServiceDeps {
  db: Db;
  committer: GroupCommitter;
  log: Logger;
  /** Counts the agents' sockets open on this node; tells agent apps who came online or went offline. */
  hub: Pick<RealtimeHub, 'agentConnections' | 'connectedAgents' | 'ephemeral'>;
}

export interface RoutingOptions {
  /** How often a node looks for tenants with due routing timers set by any node. */
  pollMs?: number;
  disconnectGraceSeconds?: number;
  /** How long this node's lease lasts without renewal (renewed every third of it); past it, other nodes drop the agent connections it held. Default 30. */
  nodeLeaseSeconds?: number;
  /** This server process's id among the nodes sharing the database (default: a new random one). */
  nodeId?: string;
  /** Journal rows (routing transactions) after which a snapshot ends the journal (default 500). */
  snapshotEvery?: number;
}

/** Journal rows (routing transactions) after which a snapshot ends the journal: bounds the replay on load. */
const SNAPSHOT_EVERY_TRANSACTIONS = 500;

/**
 * Journal rows after which a snapshot ends the journal, for an engine holding `items`: at least
 * `every`, and one more per ten items. A snapshot costs the main thread ~5 µs per item (copied,
 * then serialized: ~50 ms at 10,000 waiting), so its cost per transaction stays flat however
 * much work waits, and the journal a load replays stays small beside the snapshot it loads.
 */
export function snapshotInterval(items: number, every = SNAPSHOT_EVERY_TRANSACTIONS): number {
  return Math.max(every, Math.ceil(items / 10));
}

interface TenantEngine {
  engine: RoutingEngine;
  /** Token of the state this engine matches in routing_state; null while changed and not committed. */
  token: string | null;
  /** routing_state.version of that state, and how many journal rows lie between it and the snapshot. */
  version: number;
  journaled: number;
  /** What the transaction holding the engine did to it: its events, or a change that needs a snapshot; and the stored token it started from. */
  pending: { events: RoutingEvent[]; snapshot: boolean; from: string | null };
  /**
   * Rows of the open offers this engine made, so that closing one builds its `offer_closed`
   * event without reading the row back. Goes with the engine: a reload (another node's change,
   * a rolled-back transaction) starts empty, and offers not found here are read back.
   */
  openOffers: Map<string, OfferRow>;
  timer: NodeJS.Timeout | null;
  timerAt: number | null;
}

/** A conversation row; `queue_has_sla` when the caller read whether its queue keeps SLA clocks (unknown: assume it may). */
export type RoutedConversation = ConversationRow & { queue_has_sla?: boolean | null; inbox_queue_id?: string | null; default_queue_id?: string | null };

/** A conversation as the caller's transaction has it, with what its DTO shows besides the row. */
export interface KnownConversation {
  row: ConversationRow;
  contact: ContactRow;
  lastMessage: MessageRow | null;
}

/** A new conversation entering routing, with the queues its arrival may use (read with its insert). */
export type Arrival = KnownConversation & { inboxQueueId: string | null; defaultQueueId: string | null };

type ConversationChanges = Partial<{
  queue_id: string | null;
  routing_state: RoutingItemState | null;
  waiting_since: Date | null;
  assignee_id: string | null;
  status: ConversationStatus;
  priority: number;
  sla: ConversationSla[];
}>;

/**
 * One routing transaction of a tenant: the engine, the database transaction and its outbox.
 *
 * Rows that decisions change (conversations, history, new offers) are written behind: kept here
 * and written with one statement per kind when the work ends or before anything reads them
 * (`flush`), so a burst of decisions costs a few statements rather than a few per decision.
 */
export class RoutingTx {
  /** Conversations whose row changed: one `conversation.updated` each at the end. */
  readonly touched = new Set<string>();
  readonly now = Date.now();
  private readonly changes = new Map<string, ConversationChanges>();
  private readonly historyRows: ConversationEventInput[] = [];
  private readonly newOffers: OfferRow[] = [];
  /** Offers closed by this work, and the `routing.offer_closed` payloads waiting for their rows. */
  private readonly closingOffers = new Map<string, { status: OfferRow['status']; closedAt: Date; payload: { offer: OfferDto | null } }>();
  /** Conversations the caller reads when the work ends, read with those the events show (see finish). */
  private readonly wanted = new Set<string>();
  /** The conversations finish read or built, as they are after the work. */
  readonly loaded = new Map<string, ConversationDto>();
  /** Conversations the caller has as they are (changes this work makes are applied to copies): finish builds their DTOs without reading. */
  private readonly known = new Map<string, KnownConversation>();
  /** `routing.offer` events emitted in order, their conversation filled in once the rows are written. */
  private readonly offerPayloads: { offer: OfferDto; conversation: ConversationDto | null }[] = [];

  constructor(
    readonly tenantId: string,
    public engine: RoutingEngine,
    readonly trx: Trx,
    readonly outbox: Outbox,
    readonly actor: Actor,
    private readonly pending: TenantEngine['pending'],
    private readonly openOffers: TenantEngine['openOffers'],
  ) {}

  /** Applies one event (journaled, so the stored state can replay it) and carries out the decisions it causes, in order. */
  async apply(event: EventInput): Promise<Decision[]> {
    const full = { ...event, now: this.now } as RoutingEvent;
    // Journaled before applying: an event that fails part-way fails the same way when replayed.
    this.pending.events.push(full);
    const decisions = this.engine.apply(full);
    for (const d of decisions) await carryOut(this, d);
    return decisions;
  }

  /**
   * Swaps in an engine rebuilt from a changed snapshot, for changes the engine has no event for
   * (deleting a queue). Stored at the end of this transaction like any other change.
   */
  replaceEngine(engine: RoutingEngine): void {
    this.engine = engine;
    this.pending.snapshot = true;
  }

  /** Adds a user the engine does not know yet (invited after the engine was built). */
  async ensureAgent(userId: string): Promise<void> {
    if (this.engine.getAgent(userId)) return;
    const [agent] = await loadAgentInputs(this.trx, this.tenantId, [userId]);
    if (!agent) throw new RoutingError(RoutingErrorCodes.UNKNOWN_AGENT, `No user ${userId} in this tenant`, { agentId: userId });
    await this.apply({ type: 'addAgent', agent });
    const everyone = await this.trx.selectFrom('routing_queues').select('id').where('tenant_id', '=', this.tenantId).where('all_users', '=', true).execute();
    for (const { id } of everyone) {
      const q = this.engine.getQueue(id);
      if (q && !q.members.includes(userId)) await this.apply({ type: 'updateQueue', queue: { ...q, members: [...q.members, userId] } });
    }
  }

  /**
   * Gives routed work to an agent. `pick`: the agent takes it for themselves, accepting the offer
   * made to them or picking it from the queue (membership, the app open, room, skills); `force`:
   * a supervisor's force-assign, which may also take it from the agent who holds it.
   */
  async assign(itemId: string, agentId: string, how: 'pick' | 'force'): Promise<void> {
    await this.ensureAgent(agentId);
    if (how === 'force') {
      await this.apply({ type: 'forceAssign', itemId, agentId });
      return;
    }
    const item = this.engine.getItem(itemId);
    if (item?.state === 'offered' && item.agentId === agentId) await this.apply({ type: 'accept', offerId: item.offerId!, agentId });
    else await this.apply({ type: 'manualPick', itemId, agentId });
  }

  /** Has finish read these conversations too (in `loaded`), so the caller need not read them again. */
  alsoLoad(ids: string[]): void {
    for (const id of ids) this.wanted.add(id);
  }

  /** Conversations the caller holds as they are: finish builds their DTOs instead of reading them. */
  know(conversations: KnownConversation[]): void {
    for (const c of conversations) this.known.set(c.row.id, { ...c, row: { ...c.row, ...this.changes.get(c.row.id) } });
  }

  /** A conversation the caller holds (see know), as this work has left it so far. */
  knownConversation(id: string): KnownConversation | undefined {
    return this.known.get(id);
  }

  emit(type: string, payload: unknown, conversationId: string | null = null): void {
    this.outbox.emit({ conversationId, audience: 'agents', type, payload });
  }

  /** The offer's event, its conversation (as it is after this work) added by flush. */
  emitOffer(offer: OfferDto): void {
    const payload = { offer, conversation: null };
    this.offerPayloads.push(payload);
    this.emit('routing.offer', payload, offer.conversationId);
  }

  history(conversationId: string, type: string, data: Record<string, unknown>, actor: Actor = { type: 'system', id: null }): void {
    this.historyRows.push({ tenantId: this.tenantId, conversationId, type, actorType: actor.type, actorId: actor.id, data });
  }

  setConversation(id: string, changes: ConversationChanges, announce = true): void {
    this.changes.set(id, { ...this.changes.get(id), ...changes });
    const known = this.known.get(id);
    if (known) Object.assign(known.row, changes);
    if (announce) this.touched.add(id);
  }

  addOffer(row: OfferRow): void {
    this.newOffers.push(row);
    this.openOffers.set(row.id, row);
  }

  /** Closes an offer and announces it (`routing.offer_closed`, the offer's row added by flush). */
  closeOffer(conversationId: string, offerId: string, status: OfferRow['status'], event: { reason: string; detail?: unknown }): void {
    const payload = { offer: null, ...event };
    this.closingOffers.set(offerId, { status, closedAt: new Date(this.now), payload });
    this.emit('routing.offer_closed', payload, conversationId);
  }

  /** Writes what is held (one statement): before reading rows this work may have changed. */
  async flush(): Promise<void> {
    await this.write(false);
  }

  /**
   * The held writes, run now as one statement; or, with `mayDefer` and when nothing needs their
   * result (no closed offer's row to read back for its event), handed to the outbox to ride in
   * the statement that stores the transaction's events (one round trip fewer). Whatever reads
   * those tables later in the transaction flushes the outbox first (see Outbox.defer).
   */
  private async write(mayDefer: boolean): Promise<void> {
    const closing = [...this.closingOffers].map(([id, c]) => ({ id, ...c }));
    this.closingOffers.clear();
    // An offer made and closed by this same work is still held: it is inserted closed.
    const closeLater = closing.filter((c) => {
      const held = this.newOffers.find((o) => o.id === c.id);
      if (!held) return true;
      this.openOffers.delete(c.id);
      Object.assign(held, { status: c.status, closed_at: c.closedAt });
      c.payload.offer = toOfferDto(held);
      return false;
    });
    // An offer this engine made has its row here: its event is built from it, not read back.
    const readBack = closeLater.filter((c) => {
      const open = this.openOffers.get(c.id);
      this.openOffers.delete(c.id);
      if (!open) return true;
      c.payload.offer = toOfferDto({ ...open, status: c.status, closed_at: c.closedAt });
      return false;
    });
    const writes: unknown[] = [
      ...(this.newOffers.length > 0 ? [insertOffersSql(this.newOffers.splice(0))] : []),
      ...conversationUpdates(this.tenantId, this.changes),
      ...(this.historyRows.length > 0 ? [insertConversationEvents(this.historyRows.splice(0))] : []),
    ];
    this.changes.clear();
    // The closing of offers is the main statement (the others its WITH): its RETURNING fills the events of those read back.
    if (closeLater.length > 0) writes.unshift(closeOffersSql(this.tenantId, closeLater));
    if (writes.length === 0) return;
    if (mayDefer && readBack.length === 0) {
      for (const w of writes) this.outbox.defer(w);
      return;
    }
    // Data-modifying CTEs: several writes in one round trip (they touch different rows or tables).
    const [last, ...others] = writes;
    const ctes = others.map((w, i) => sql`${sql.raw(`w${i}`)} AS (${w})`);
    const { rows } = await sql<OfferRow>`${ctes.length > 0 ? sql`WITH ${sql.join(ctes)} ` : sql``}${last}`.execute(this.trx);
    if (readBack.length === 0) return;
    const closed = new Map(rows.map((r) => [r.id, r]));
    for (const c of readBack) {
      const row = closed.get(c.id);
      // Every offer the engine makes has its row; a missing one leaves its event without the offer.
      if (row) c.payload.offer = toOfferDto(row);
    }
  }

  /**
   * Ends the work: rows written, then the conversations its events show, read once each (unless
   * known). When none is to be read, the writes may wait for the transaction's last statement.
   */
  async finish(): Promise<void> {
    const offers = this.offerPayloads.splice(0);
    const ids = [...offers.map((o) => o.offer.conversationId), ...this.touched, ...this.wanted];
    const unknown = ids.filter((id) => !this.known.has(id));
    await this.write(unknown.length === 0);
    const dtos = await loadConversationDtos(this.trx, this.tenantId, unknown);
    for (const id of ids) {
      const known = this.known.get(id);
      if (known) dtos.set(id, toConversationDto(known.row, known.contact, known.lastMessage));
    }
    for (const [id, dto] of dtos) this.loaded.set(id, dto);
    for (const payload of offers) payload.conversation = dtos.get(payload.offer.conversationId) ?? null;
    for (const id of this.touched) {
      const dto = dtos.get(id);
      if (dto) this.outbox.emit({ conversationId: id, audience: 'all', type: 'conversation.updated', payload: dto });
    }
    this.touched.clear();
  }
}

/** New offers, one statement text for any number (they travel as JSON), so it is prepared once. */
function insertOffersSql(offers: OfferRow[]) {
  return sql`INSERT INTO routing_offers (id, tenant_id, conversation_id, agent_id, queue_id, channel, status, created_at, expires_at, closed_at)
    SELECT v.id, v.tenant_id, v.conversation_id, v.agent_id, v.queue_id, v.channel, v.status, v.created_at, v.expires_at, v.closed_at
    FROM jsonb_to_recordset(${JSON.stringify(offers)}::jsonb) AS v(id text, tenant_id text, conversation_id text, agent_id text, queue_id text, channel text,
      status text, created_at timestamptz, expires_at timestamptz, closed_at timestamptz)`;
}

/** Closes offers: one UPDATE returning their rows. */
export function closeOffersSql(tenantId: string, offers: { id: string; status: OfferRow['status']; closedAt: Date }[]) {
  const rows = offers.map((o) => ({ id: o.id, status: o.status, closed_at: o.closedAt.toISOString() }));
  return sql`UPDATE routing_offers AS o SET status = v.status, closed_at = v.closed_at
    ${rowsById('o', rows, sql`id text, status text, closed_at timestamptz`)} AND o.tenant_id = ${tenantId} RETURNING o.*`;
}

/** The changes routing holds as UPDATE statements, one per set of columns changed (usually one). */
function conversationUpdates(tenantId: string, changes: Map<string, ConversationChanges>) {
  const bySignature = new Map<string, ({ id: string } & ConversationChanges)[]>();
  for (const [id, c] of changes) {
    const signature = Object.keys(c).sort().join(',');
    bySignature.set(signature, [...(bySignature.get(signature) ?? []), { ...c, id }]);
  }
  return [...bySignature].map(([signature, rows]) => updateConversationsSql(tenantId, signature.split(',').filter(Boolean) as UpdatableColumn[], rows));
}

/**
 * Runs the routing engine of each tenant inside the server (issue 3). One engine per tenant per
 * process, rebuilt from routing_state when another node (or a rolled-back transaction) changed it;
 * every event runs in a transaction holding the tenant's routing lock (its routing_state row), so
 * engines of several nodes take turns on one state. See docs/decisions/0003-routing-serialization.md.
 */
export class RoutingService {
  private readonly tenants = new Map<string, TenantEngine>();
  /** The tenants' engines a transaction has taken (locked and loaded), to be stored at its commit. */
  private readonly heldBy = new WeakMap<Trx, Map<string, TenantEngine>>();
  /** Tenants' routing locks a transaction sent ahead (lockAhead) and has not taken yet. */
  private readonly sentLocks = new WeakMap<Trx, Map<string, () => Promise<RoutingStateHead[]>>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly ticking = new Set<string>();
  private poller: NodeJS.Timeout | null = null;
  private closed = false;
  /** This process among the nodes sharing the database: agent connections are counted per node, so a node that dies takes its own. */
  readonly nodeId: string;
  private lease: { ready: Promise<void>; timer: NodeJS.Timeout } | null = null;
  private leaseTaken = false;

  constructor(
    private readonly deps: RoutingServiceDeps,
    private readonly options: RoutingOptions = {},
  ) {
    this.nodeId = options.nodeId ?? randomUUID();
  }

  /** Starts looking for due timers of every tenant (offer timeouts, rings, SLA, wrap-up). */
  start(): void {
    if (this.poller) return;
    this.poller = setInterval(() => void this.pollDue(), this.options.pollMs ?? 1000);
    this.poller.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    for (const t of this.tenants.values()) if (t.timer) clearTimeout(t.timer);
    await Promise.allSettled([...this.inflight]);
    if (this.lease) {
      clearInterval(this.lease.timer);
      // Going away for good: the other nodes drop this node's connections at their next poll.
      await this.deps.db.deleteFrom('routing_nodes').where('node_id', '=', this.nodeId).execute().catch(() => undefined);
    }
  }

  /** Runs `work` with the tenant's engine in its own transaction (group-committed with others). */
  run<T>(tenantId: string, work: (tx: RoutingTx) => Promise<T>, actor: Actor = { type: 'system', id: null }): Promise<T> {
    if (this.closed) return Promise.reject(new Error('routing is shut down'));
    return this.track(transact(this.deps, tenantId, (trx, outbox) => this.inTx(trx, outbox, tenantId, work, actor)));
  }

  /** Work that close() waits for. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.then(
      () => this.inflight.delete(p),
      () => this.inflight.delete(p),
    );
    return p;
  }

  /**
   * Runs `work` with the tenant's engine inside a use case's transaction. The first use of a
   * tenant's engine in a transaction takes the lock and brings the engine up to the stored
   * state; later uses in the same (group-committed) transaction go on from there, and the state
   * is stored once, just before the commit.
   */
  async inTx<T>(trx: Trx, outbox: Outbox, tenantId: string, work: (tx: RoutingTx) => Promise<T>, actor: Actor = { type: 'system', id: null }): Promise<T> {
    // Routing reads conversations: the use case's deferred writes to them land first.
    await outbox.flush();
    let held = this.heldBy.get(trx);
    if (!held) this.heldBy.set(trx, (held = new Map()));
    let te = held.get(tenantId);
    let fresh = false;
    let firstHere = false;
    if (!te) {
      ({ te, fresh, firstHere } = await this.take(trx, tenantId));
      const taken = te;
      held.set(tenantId, taken);
      outbox.beforeCommit(`routing:${tenantId}`, () => this.store(trx, outbox, tenantId, taken));
    }
    const tx = new RoutingTx(tenantId, te.engine, trx, outbox, actor, te.pending, te.openOffers);
    if (fresh) await this.routeOpenConversations(tx);
    // Connections counted before they were counted per node (node '') belong to no live node.
    else if (firstHere) await tx.apply({ type: 'nodeLost', nodeId: '' });
    const result = await work(tx);
    te.engine = tx.engine;
    await tx.finish();
    return result;
  }

  /**
   * For a use case about to route in its transaction: sends the tenant's routing lock now, AHEAD
   * of the use case's own statements, so that taking it (inTx) costs no round trip of its own
   * when pipelining is on. The lock is then held from here to the commit, also if routing turns
   * out to have nothing to do.
   */
  async lockAhead(trx: Trx, tenantId: string): Promise<void> {
    let sent = this.sentLocks.get(trx);
    if (!sent) this.sentLocks.set(trx, (sent = new Map()));
    if (sent.has(tenantId) || this.heldBy.get(trx)?.has(tenantId)) return;
    sent.set(tenantId, await sendAhead(trx, tenantRoutingLock(trx, tenantId)));
  }

  /** Locks the tenant's routing for this transaction and returns its engine as stored. */
  private async take(trx: Trx, tenantId: string): Promise<{ te: TenantEngine; fresh: boolean; firstHere: boolean }> {
    const sentAhead = this.sentLocks.get(trx)?.get(tenantId);
    this.sentLocks.get(trx)?.delete(tenantId);
    const row = await lockTenantRouting(trx, tenantId, sentAhead);
    const firstHere = !this.tenants.has(tenantId);
    let te = this.tenants.get(tenantId);
    let fresh = false;
    if (!row) {
      te = this.remember(tenantId, await this.buildFromTables(trx, tenantId));
      fresh = true;
    } else if (!te || te.token !== row.token) {
      const stored = (await loadStoredEngine(trx, tenantId))!;
      te = this.remember(tenantId, stored.engine, stored.journaled);
    }
    te.token = null; // until this transaction's state is stored
    te.version = Number(row?.version ?? 0);
    te.pending = { events: [], snapshot: fresh, from: row?.token ?? null };
    return { te, fresh, firstHere };
  }

  /**
   * Stores the engine's state at the end of the transaction that changed it: the transaction's
   * events as one journal row (small, whatever the tenant's live work). A whole snapshot ends the
   * journal every few hundred transactions, written after the commit by a statement of its own,
   * so that no transaction holding the tenant's lock waits for it (megabytes with thousands
   * waiting); a change without an event (a new engine, a deleted queue) has no journal row to
   * stand for it, so its snapshot goes in the transaction. Returns the writes, which go in the
   * statement that stores the transaction's realtime events.
   */
  private async store(trx: Trx, outbox: Outbox, tenantId: string, te: TenantEngine): Promise<FinalWrite[]> {
    const { events, snapshot: mustSnapshot, from } = te.pending;
    if (events.length === 0 && !mustSnapshot) {
      // Nothing happened to the engine (a batch that only looked): the stored state still matches it.
      te.token = from;
      return [];
    }
    const token = randomUUID();
    const version = te.version + 1;
    const wake = te.engine.nextWakeAt();
    const state = { version, token, next_wake_at: wake === null ? null : new Date(wake), updated_at: new Date() };
    let writes: FinalWrite[];
    if (mustSnapshot) {
      writes = [
        trx
          .insertInto('routing_state')
          .values({ tenant_id: tenantId, ...state })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet(state)),
        upsertSnapshotSql(tenantId, version, te.engine.snapshot(STORED_SNAPSHOT)),
        trx.deleteFrom('routing_journal').where('tenant_id', '=', tenantId).where('version', '<=', version),
      ];
      te.journaled = 0;
    } else {
      writes = [
        trx.insertInto('routing_journal').values({ tenant_id: tenantId, version, events: JSON.stringify(events) }),
        trx.updateTable('routing_state').set(state).where('tenant_id', '=', tenantId),
      ];
      te.journaled += 1;
      if (te.journaled >= snapshotInterval(te.engine.itemCount(), this.options.snapshotEvery)) {
        // Copied now: the next transaction changes the engine in place.
        const snapshot = te.engine.snapshot(STORED_SNAPSHOT);
        outbox.afterCommit(() => this.background('writing a routing snapshot', this.track(writeSnapshot(this.deps.db, tenantId, version, snapshot))));
        te.journaled = 0;
      }
    }
    // Taken as stored: if the commit fails, the next transaction finds another token and reloads.
    te.pending = { events: [], snapshot: false, from: token };
    te.token = token;
    te.version = version;
    this.schedule(tenantId, wake);
    return writes;
  }

  /**
   * The tenant's engine for reading (wallboard, lists): this node's copy when it matches the
   * stored state, else a copy restored from it. Never changes anything.
   */
  async read(tenantId: string): Promise<RoutingEngine> {
    const te = this.tenants.get(tenantId);
    const current = await this.deps.db.selectFrom('routing_state').select('token').where('tenant_id', '=', tenantId).executeTakeFirst();
    if (te && current && te.token === current.token) return te.engine;
    const stored = await loadStoredEngine(this.deps.db, tenantId);
    if (!stored) {
      // First use: build (and store) it.
      await this.run(tenantId, async () => undefined);
      return this.read(tenantId);
    }
    // Kept, so that the next read (the widget asks on every page view) costs one indexed lookup,
    // unless a transaction holds the tenant's engine right now (its token is then null).
    const now = this.tenants.get(tenantId);
    if (!now || now.token !== null) this.remember(tenantId, stored.engine, stored.journaled).token = stored.token;
    return stored.engine;
  }

  // ------------------------------------------------------------ hooks called by use cases

  /** Conversations just opened in an inbox: they enter the inbox's queue. Returns them as routing left them. */
  async arriveInTx(trx: Trx, outbox: Outbox, tenantId: string, arrivals: Arrival[]): Promise<Map<string, ConversationDto>> {
    if (arrivals.length === 0) return new Map();
    const rows = arrivals.map((a) => ({ ...a.row, inbox_queue_id: a.inboxQueueId, default_queue_id: a.defaultQueueId }));
    return this.knowingInTx(trx, outbox, tenantId, arrivals, (tx) => arrive(tx, rows));
  }

  /** Puts a conversation back into a queue, for work already holding the tenant's engine (transfer, re-queue). */
  async arriveFromTx(tx: RoutingTx, conversationId: string): Promise<void> {
    await arrive(tx, await readArrivals(tx, [conversationId]), true);
  }

  /**
   * People changed conversations (PATCH /conversations/:id; rows before and after, inside the
   * transaction that changed them): routing follows, for a whole batch under one lock, and takes
   * no lock when nothing it cares about changed.
   */
  async conversationsChangedInTx(trx: Trx, outbox: Outbox, tenantId: string, changes: { before: ConversationRow; after: KnownConversation }[]): Promise<Map<string, ConversationDto>> {
    const followed = changes.filter(({ before, after }) => routingCares(before, after.row));
    if (followed.length === 0) return new Map();
    return this.knowingInTx(
      trx,
      outbox,
      tenantId,
      changes.map((c) => c.after),
      async (tx) => {
        for (const { before, after } of followed) await followChange(tx, before, after.row);
      },
    );
  }

  /**
   * A person assigns, by changing the conversation, one that routing holds (waiting, offered or
   * assigned): routing makes the move the routed way, so the rules of a pick or a force-assign
   * hold (queue membership, skills, room; an agent taking work must have the app open). `pick`:
   * an agent takes waiting work for themselves (or accepts the offer made to them); otherwise a
   * supervisor's force-assign, which may also take it from the agent who holds it. Answers the
   * conversation as routing left it; null when routing does not hold it (the caller assigns it by
   * hand); the refusal, with nothing changed, when routing refuses.
   */
  async assignRoutedInTx(trx: Trx, outbox: Outbox, tenantId: string, conversation: KnownConversation, move: { agentId: string; pick: boolean; actor: Actor }): Promise<KnownConversation | RoutingError | null> {
    const id = conversation.row.id;
    const { agentId } = move;
    return this.inTx(
      trx,
      outbox,
      tenantId,
      async (tx) => {
        if (!tx.engine.getItem(id)) return null;
        tx.know([conversation]);
        try {
          await tx.assign(id, agentId, move.pick ? 'pick' : 'force');
        } catch (err) {
          // The engine checks before it changes anything: a refusal leaves the rest of the batch to go on.
          if (isRoutingError(err)) return err;
          throw err;
        }
        return tx.knownConversation(id)!;
      },
      move.actor,
    );
  }

  /** inTx for a hook whose caller holds the conversations and wants them back as the work leaves them (DTOs, built without a read). */
  private async knowingInTx(trx: Trx, outbox: Outbox, tenantId: string, known: KnownConversation[], work: (tx: RoutingTx) => Promise<void>): Promise<Map<string, ConversationDto>> {
    let routed: RoutingTx | undefined;
    await this.inTx(trx, outbox, tenantId, async (tx) => {
      routed = tx;
      tx.know(known);
      tx.alsoLoad(known.map((k) => k.row.id));
      await work(tx);
    });
    return routed!.loaded;
  }

  /** An agent's socket opened or closed on this node (the hub has counted it already). */
  async agentConnectionsChanged(tenantId: string, userId: string): Promise<void> {
    await this.holdLease();
    const online = await this.run(tenantId, (tx) => this.recountAgent(tx, userId));
    if (online !== null) this.announcePresence(tenantId, [[userId, online]]);
  }

  /** Whether any agent of the tenant holds the agent app open, on any node (the widget's offline form). */
  async anyAgentConnected(tenantId: string): Promise<boolean> {
    return (await this.read(tenantId)).anyAgentConnected();
  }

  /** Agents whose connections on all nodes went from none to some, or back: agent apps show them online or offline. */
  private announcePresence(tenantId: string, changes: [string, boolean][]): void {
    for (const [userId, online] of changes) this.deps.hub.ephemeral(tenantId, { type: 'presence', data: { userId, online }, agentsOnly: true });
  }

  /**
   * Tells the engine how many of the agent's connections this node holds, as the hub counts them
   * when the transaction runs: a count, not a +1 or -1, so however the transactions of sockets
   * opening and closing (or of a recount after a lapsed lease) interleave, the last one leaves
   * the engine with the node's true count. Answers whether the agent is online now, when that
   * changed (null when not).
   */
  private async recountAgent(tx: RoutingTx, userId: string): Promise<boolean | null> {
    const count = this.deps.hub.agentConnections(tx.tenantId, userId);
    if (count === 0 && !tx.engine.getAgent(userId)) return null;
    // Whoever sees this node's lease run out knows to drop its connections in this tenant.
    if (count > 0) await tx.trx.insertInto('routing_node_tenants').values({ node_id: this.nodeId, tenant_id: tx.tenantId }).onConflict((oc) => oc.doNothing()).execute();
    await tx.ensureAgent(userId);
    const held = tx.engine.connectionsOn(userId, this.nodeId);
    if (count === held) return null;
    const before = tx.engine.getAgent(userId)!.connections;
    await tx.apply({ type: 'agentConnections', agentId: userId, nodeId: this.nodeId, count });
    const agent = tx.engine.getAgent(userId)!;
    // Opening the agent app is how an offline agent comes back to work.
    if (count > held && agent.presence === 'offline') await tx.apply({ type: 'agentStateChange', agentId: userId, presence: 'available' });
    return (before > 0) === (agent.connections > 0) ? null : agent.connections > 0;
  }

  /** A person answered the customer (inside the transaction that stored the reply): the SLA response clocks stop. */
  async agentRepliedInTx(trx: Trx, outbox: Outbox, tenantId: string, c: RoutedConversation): Promise<void> {
    if (!c.routing_state || c.queue_has_sla === false) return; // nothing in routing listens (the common case)
    await this.inTx(trx, outbox, tenantId, async (tx) => {
      if (tx.engine.getItem(c.id)) await tx.apply({ type: 'responded', itemId: c.id });
    });
  }

  /**
   * Customers wrote in these conversations (rows as they are after the messages, inside the
   * transaction that stored them): the next-response SLA clocks start, and a conversation their
   * message opened or re-opened that nobody holds waits in its queue. One routing lock for a
   * whole batch of messages, and none when no conversation concerns routing.
   */
  async customerMessagesInTx(trx: Trx, outbox: Outbox, tenantId: string, conversations: RoutedConversation[]): Promise<void> {
    // Waiting or held, a conversation concerns routing only when its queue keeps SLA clocks.
    const concerned = conversations.filter((c) => c.status === 'open' && (c.routing_state ? c.queue_has_sla !== false : !c.assignee_id));
    if (concerned.length === 0) return;
    await this.inTx(trx, outbox, tenantId, async (tx) => {
      const arrivals: string[] = [];
      for (const c of concerned) {
        const item = tx.engine.getItem(c.id);
        if (!item) {
          if (!c.assignee_id) arrivals.push(c.id);
        } else if (tx.engine.getQueue(item.queueId)?.sla) {
          await tx.apply({ type: 'customerMessage', itemId: c.id });
        }
      }
      // Rows that came with their queues (the batched message path) need no read.
      const held = new Map(concerned.flatMap((c) => (c.inbox_queue_id !== undefined && c.default_queue_id !== undefined ? [[c.id, c as ArrivalRow] as const] : [])));
      const read = new Map((await readArrivals(tx, arrivals.filter((id) => !held.has(id)))).map((r) => [r.id, r]));
      await arrive(tx, arrivals.flatMap((id) => held.get(id) ?? read.get(id) ?? []));
    });
  }

  /** Runs a hook without making its caller wait or fail (socket connects, replies). */
  background(what: string, p: Promise<unknown>): void {
    p.catch((err: unknown) => {
      if (!this.closed) this.deps.log.error({ err }, `routing: ${what} failed`);
    });
  }

  // ------------------------------------------------------------ internals

  private remember(tenantId: string, engine: RoutingEngine, journaled = 0): TenantEngine {
    const old = this.tenants.get(tenantId);
    const te: TenantEngine = { engine, token: null, version: 0, journaled, pending: { events: [], snapshot: false, from: null }, openOffers: new Map(), timer: old?.timer ?? null, timerAt: old?.timerAt ?? null };
    this.tenants.set(tenantId, te);
    return te;
  }

  private async buildFromTables(trx: Trx, tenantId: string): Promise<RoutingEngine> {
    await ensureDefaultQueue(trx, tenantId);
    const queues = await listQueueRecords(trx, tenantId);
    const agents = await loadAgentInputs(trx, tenantId);
    return new RoutingEngine({ queues: queues.map(toQueueConfig), agents, disconnectGraceSeconds: this.options.disconnectGraceSeconds });
  }

  /** First build of a tenant's engine: open conversations nobody holds start waiting. */
  private async routeOpenConversations(tx: RoutingTx): Promise<void> {
    await arrive(tx, await readArrivals(tx, (await loadRoutableConversations(tx.trx, tx.tenantId)).map((c) => c.id)));
  }

  private schedule(tenantId: string, wake: number | null): void {
    const te = this.tenants.get(tenantId);
    if (!te || this.closed) return;
    if (wake === null) {
      if (te.timer) clearTimeout(te.timer);
      te.timer = null;
      te.timerAt = null;
      return;
    }
    if (te.timer && te.timerAt !== null && te.timerAt <= wake) return;
    if (te.timer) clearTimeout(te.timer);
    te.timerAt = wake;
    te.timer = setTimeout(() => {
      te.timer = null;
      te.timerAt = null;
      this.tick(tenantId);
    }, Math.max(0, wake - Date.now()) + 2);
    te.timer.unref();
  }

  private tick(tenantId: string): void {
    // One tick at a time per tenant on this node: the local timer and the poller may both fire.
    if (this.closed || this.ticking.has(tenantId)) return;
    this.ticking.add(tenantId);
    const p = this.run(tenantId, (tx) => tx.apply({ type: 'tick' }));
    void p.then(
      () => this.ticking.delete(tenantId),
      () => this.ticking.delete(tenantId),
    );
    this.background('tick', p);
  }

  private async pollDue(): Promise<void> {
    if (this.closed) return;
    try {
      const due = await this.deps.db.selectFrom('routing_state').select('tenant_id').where('next_wake_at', '<=', new Date()).limit(200).execute();
      for (const { tenant_id } of due) this.tick(tenant_id);
      await this.dropLostNodes();
    } catch (err) {
      if (!this.closed) this.deps.log.error({ err }, 'routing: poll failed');
    }
  }

  /** This node's lease, taken before it records its first agent connection and renewed while it runs. */
  private holdLease(): Promise<void> {
    if (!this.lease) {
      const seconds = this.options.nodeLeaseSeconds ?? 30;
      const timer = setInterval(() => this.background('renewing the node lease', this.renewLease()), (seconds * 1000) / 3);
      timer.unref();
      const ready = this.renewLease().then(
        () => undefined,
        (err: unknown) => {
          // Not taken: the next connection tries again.
          clearInterval(timer);
          this.lease = null;
          throw err;
        },
      );
      this.lease = { ready, timer };
    }
    return this.lease.ready;
  }

  /**
   * Extends this node's lease. When it had already run out (renewals failed or were late, the
   * node still alive), other nodes may have dropped the agent connections it holds: it counts
   * them again in every tenant. Answers whether it had run out.
   */
  async renewLease(): Promise<boolean> {
    const seconds = this.options.nodeLeaseSeconds ?? 30;
    const until = new Date(Date.now() + seconds * 1000);
    const { rows } = await sql<{ before: Date | null }>`
      WITH before AS (SELECT alive_until FROM routing_nodes WHERE node_id = ${this.nodeId})
      INSERT INTO routing_nodes (node_id, alive_until) VALUES (${this.nodeId}, ${until})
      ON CONFLICT (node_id) DO UPDATE SET alive_until = excluded.alive_until
      RETURNING (SELECT alive_until FROM before) AS before`.execute(this.deps.db);
    const before = rows[0]?.before ?? null;
    const first = !this.leaseTaken;
    this.leaseTaken = true;
    const lapsed = !first && (before === null || new Date(before).getTime() < Date.now());
    if (!lapsed) return false;
    this.deps.log.warn({ nodeId: this.nodeId }, 'routing: this node\'s lease had run out; counting its agent connections again');
    await Promise.all(
      [...this.deps.hub.connectedAgents()].map(async ([tenantId, userIds]) => {
        const changes = await this.run(tenantId, async (tx) => {
          const online: [string, boolean][] = [];
          for (const userId of userIds) {
            const now = await this.recountAgent(tx, userId);
            if (now !== null) online.push([userId, now]);
          }
          return online;
        });
        this.announcePresence(tenantId, changes);
      }),
    );
    return true;
  }

  /**
   * Nodes whose lease ran out (crashed, killed, cut off) still count agent connections in the
   * engines of the tenants they served: drop them, once per node and tenant, whichever node
   * sees it first. Agents left with no connection get their grace period, then go offline.
   */
  private async dropLostNodes(): Promise<void> {
    // A node that took its lease and stopped before it held any connection left only its lease.
    await this.deps.db
      .deleteFrom('routing_nodes as n')
      .where('n.node_id', '!=', this.nodeId)
      .where('n.alive_until', '<', new Date())
      .where((eb) => eb.not(eb.exists(eb.selectFrom('routing_node_tenants as t').select('t.node_id').whereRef('t.node_id', '=', 'n.node_id'))))
      .execute();
    const lost = await this.deps.db
      .selectFrom('routing_node_tenants as t')
      .leftJoin('routing_nodes as n', 'n.node_id', 't.node_id')
      .select(['t.node_id', 't.tenant_id'])
      .where('t.node_id', '!=', this.nodeId)
      .where((eb) => eb.or([eb('n.node_id', 'is', null), eb('n.alive_until', '<', new Date())]))
      .limit(100)
      .execute();
    for (const { node_id, tenant_id } of lost) {
      const dropped = this.run(tenant_id, async (tx) => {
        // Under the tenant's lock, and only if the lease is still out: a node that renewed it meanwhile counts its connections again itself.
        const held = await tx.trx
          .deleteFrom('routing_node_tenants as t')
          .where('t.node_id', '=', node_id)
          .where('t.tenant_id', '=', tenant_id)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('routing_nodes as n').select('n.node_id').where('n.node_id', '=', node_id).where('n.alive_until', '>=', new Date()))))
          .returning('t.node_id')
          .executeTakeFirst();
        if (!held) return [];
        const agents = tx.engine.agentsOn(node_id);
        await tx.apply({ type: 'nodeLost', nodeId: node_id });
        // Its last tenant dropped, the dead node's lease goes too.
        await tx.trx
          .deleteFrom('routing_nodes')
          .where('node_id', '=', node_id)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('routing_node_tenants').select('node_id').where('node_id', '=', node_id))))
          .execute();
        return agents.filter((id) => tx.engine.getAgent(id)?.connections === 0).map((id): [string, boolean] => [id, false]);
      });
      this.background('dropping a lost node', dropped.then((offline) => this.announcePresence(tenant_id, offline)));
    }
  }
}

/**
 * The tenant's engine as stored: the snapshot with the journal's events after it replayed in
 * order (the engine is deterministic given its events, each of which carries its time), and how
 * many journal rows that took. One statement, so a snapshot written meanwhile cannot pair with a
 * journal it already ended.
 */
async function loadStoredEngine(db: Db | Trx, tenantId: string): Promise<{ engine: RoutingEngine; token: string; journaled: number } | null> {
  const { rows } = await sql<{ snapshot: string; journal: RoutingEvent[][]; token: string }>`
    SELECT sn.snapshot, s.token,
      (SELECT coalesce(jsonb_agg(j.events ORDER BY j.version), '[]'::jsonb) FROM routing_journal j
        WHERE j.tenant_id = sn.tenant_id AND j.version > sn.version) AS journal
    FROM routing_state s JOIN routing_snapshots sn ON sn.tenant_id = s.tenant_id WHERE s.tenant_id = ${tenantId}`.execute(db);
  const row = rows[0];
  if (!row) return null;
  const engine = RoutingEngine.restore(JSON.parse(row.snapshot) as EngineSnapshot);
  for (const events of row.journal) {
    for (const event of events) {
      try {
        engine.apply(event);
      } catch (err) {
        // It failed the same way when it first ran (and its transaction went on without it).
        if (!isRoutingError(err)) throw err;
      }
    }
  }
  return { engine, token: row.token, journaled: row.journal.length };
}

/**
 * Writes a snapshot taken at `version` and ends the journal up to it, unless a newer snapshot
 * is there already. Needs no lock: transactions meanwhile only add journal rows after it.
 */
async function writeSnapshot(db: Db, tenantId: string, version: number, snapshot: EngineSnapshot): Promise<void> {
  await sql`WITH written AS (${upsertSnapshotSql(tenantId, version, snapshot)})
    DELETE FROM routing_journal WHERE tenant_id = ${tenantId} AND version <= (SELECT version FROM written)`.execute(db);
}

/** Closed offers are answered from routing_offers: the stored state need not carry them (up to thousands, copied under the lock). */
const STORED_SNAPSHOT = { closedOffers: false };

/** Stores a snapshot taken at `version` unless a newer one is there already; returns its version when it did. */
function upsertSnapshotSql(tenantId: string, version: number, snapshot: EngineSnapshot) {
  return sql`INSERT INTO routing_snapshots (tenant_id, version, snapshot) VALUES (${tenantId}, ${version}, ${JSON.stringify(snapshot)})
    ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot
    WHERE routing_snapshots.version < excluded.version
    RETURNING version`;
}

/** What an arrival needs of a conversation: its row's routing columns and the queues it may go to. */
type ArrivalRow = Pick<ConversationRow, 'id' | 'status' | 'channel_type' | 'priority' | 'labels' | 'custom_attributes' | 'queue_id' | 'assignee_id'> & {
  inbox_queue_id: string | null;
  default_queue_id: string | null;
};

/** Reads conversations for arrive (after writing what the work holds, which they may show). */
async function readArrivals(tx: RoutingTx, conversationIds: string[]): Promise<ArrivalRow[]> {
  const ids = conversationIds.filter((id) => !tx.engine.getItem(id));
  if (ids.length === 0) return [];
  await tx.flush();
  const rows = await tx.trx
    .selectFrom('conversations as c')
    .innerJoin('inboxes as i', 'i.id', 'c.inbox_id')
    .select(['c.id', 'c.status', 'c.channel_type', 'c.priority', 'c.labels', 'c.custom_attributes', 'c.queue_id', 'i.queue_id as inbox_queue_id', 'c.assignee_id'])
    .select((eb) => eb.selectFrom('routing_queues').select('id').where('tenant_id', '=', tx.tenantId).where('is_default', '=', true).limit(1).as('default_queue_id'))
    .where('c.tenant_id', '=', tx.tenantId)
    // One statement text for any number of ids (prepared once), driven by the ids (decision 0005).
    .where(sql<boolean>`c.id IN (SELECT unnest(${ids}::text[]))`)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Puts conversations into their queues (the conversation's, else its inbox's, else the default queue), in order. */
async function arrive(tx: RoutingTx, conversations: ArrivalRow[], evenIfAssigned = false): Promise<void> {
  for (const c of conversations) {
    const id = c.id;
    if (c.status !== 'open' || (c.assignee_id && !evenIfAssigned) || tx.engine.getItem(id)) continue;
    const queueId = [c.queue_id, c.inbox_queue_id, c.default_queue_id].find((q) => q && tx.engine.getQueue(q));
    if (!queueId) continue;
    const attributes = routableAttributes(c.custom_attributes);
    tx.setConversation(id, { queue_id: queueId, routing_state: 'waiting', waiting_since: new Date(tx.now) }, false);
    await tx.apply({
      type: 'arrive',
      item: {
        id,
        tenantId: tx.tenantId,
        queueId,
        channel: CHANNEL_OF[c.channel_type],
        priority: c.priority,
        labels: c.labels,
        attributes,
        ...(c.assignee_id ? { lastAgentId: c.assignee_id } : {}),
      },
    });
  }
}

/** Whether a person's change of a conversation concerns routing (see followChange). */
function routingCares(before: ConversationRow, after: ConversationRow): boolean {
  const statusMatters = before.status !== after.status && (after.status === 'resolved' || after.status === 'open' || before.status === 'open');
  return statusMatters || before.assignee_id !== after.assignee_id || (after.status === 'open' && reweighed(before, after));
}

function reweighed(before: ConversationRow, after: ConversationRow): boolean {
  return after.priority !== before.priority || JSON.stringify(after.labels) !== JSON.stringify(before.labels) || JSON.stringify(after.custom_attributes) !== JSON.stringify(before.custom_attributes);
}

/**
 * Routing follows what a person changed. Resolved: the agent's slot is freed (still waiting, it
 * was abandoned). Priority, labels or attributes: it moves to its new place, and priority rules
 * are weighed again. Un-assigned: it waits in its queue again (an assignment of work routing
 * holds was made the routed way already, see assignRoutedInTx; one of work it does not hold
 * stays outside it). Paused (snoozed, pending) while nobody held it: it stops waiting.
 * Re-opened: it waits again.
 */
async function followChange(tx: RoutingTx, before: ConversationRow, after: ConversationRow): Promise<void> {
  const id = after.id;
  const item = () => tx.engine.getItem(id);
  if (after.status === 'resolved' && before.status !== 'resolved') {
    const waiting = item();
    if (!waiting) return;
    if (waiting.state !== 'assigned') tx.history(id, 'abandoned', { queueId: waiting.queueId, state: waiting.state });
    await tx.apply({ type: 'complete', itemId: id });
    tx.setConversation(id, { routing_state: null }, false);
    return;
  }
  if (after.status === 'open' && reweighed(before, after) && item()) {
    await tx.apply({ type: 'updateItem', itemId: id, priority: after.priority, labels: after.labels, attributes: routableAttributes(after.custom_attributes) });
  }
  if (after.assignee_id !== before.assignee_id) {
    if (item()) await tx.apply({ type: 'complete', itemId: id, wrapUpSeconds: 0 });
    tx.setConversation(id, { routing_state: null }, false);
    if (after.assignee_id === null) await arrive(tx, await readArrivals(tx, [id]));
  }
  if (after.status !== 'open' && before.status === 'open') {
    const held = item();
    if (!held || held.state === 'assigned') return;
    await tx.apply({ type: 'complete', itemId: id, wrapUpSeconds: 0 });
    tx.setConversation(id, { routing_state: null }, false);
  } else if (after.status === 'open' && before.status !== 'open') {
    await arrive(tx, await readArrivals(tx, [id]));
  }
}

/** The custom attributes priority rules can test: plain strings, numbers and booleans. */
function routableAttributes(custom: Record<string, unknown> | null): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(custom ?? {})) if (['string', 'number', 'boolean'].includes(typeof v)) out[k] = v as string | number | boolean;
  return out;
}

/** Carries out one decision of the engine: rows, history and realtime events. */
async function carryOut(tx: RoutingTx, d: Decision): Promise<void> {
  const at = new Date(d.at);
  switch (d.type) {
    case 'queued':
      tx.setConversation(d.itemId, { routing_state: 'waiting', queue_id: d.queueId }, false);
      tx.history(d.itemId, 'queued', { queueId: d.queueId, reason: d.reason });
      tx.emit('routing.conversation', { conversationId: d.itemId, queueId: d.queueId, state: 'waiting', event: 'queued' }, d.itemId);
      return;
    case 'offer': {
      const item = tx.engine.getItem(d.itemId);
      const row = { id: d.offerId, tenant_id: tx.tenantId, conversation_id: d.itemId, agent_id: d.agentId, queue_id: d.queueId, channel: item?.channel ?? 'chat', status: 'open' as const, created_at: at, expires_at: new Date(d.expiresAt), closed_at: null };
      tx.addOffer(row);
      tx.setConversation(d.itemId, { routing_state: 'offered', queue_id: d.queueId }, false);
      tx.history(d.itemId, 'offered', { queueId: d.queueId, agentId: d.agentId, offerId: d.offerId, expiresAt: new Date(d.expiresAt).toISOString() });
      tx.emitOffer(toOfferDto(row));
      return;
    }
    case 'assigned': {
      await tx.flush();
      const before = await tx.trx.selectFrom('conversations').select(['assignee_id', 'waiting_since']).where('tenant_id', '=', tx.tenantId).where('id', '=', d.itemId).executeTakeFirst();
      const waitedSeconds = before?.waiting_since ? Math.max(0, (d.at - before.waiting_since.getTime()) / 1000) : 0;
      tx.setConversation(d.itemId, { assignee_id: d.agentId, routing_state: 'assigned', queue_id: d.queueId });
      tx.history(d.itemId, 'assigned', { from: before?.assignee_id ?? null, to: d.agentId, via: d.via, queueId: d.queueId, offerId: d.offerId ?? null, waitedSeconds }, tx.actor);
      if (d.offerId) tx.closeOffer(d.itemId, d.offerId, 'accepted', { reason: 'accepted' });
      return;
    }
    case 'offerExpired':
    case 'offerDeclined':
    case 'offerRevoked': {
      const status = d.type === 'offerExpired' ? 'expired' : d.type === 'offerDeclined' ? 'declined' : 'revoked';
      tx.closeOffer(d.itemId, d.offerId, status, { reason: status, ...(d.type === 'offerRevoked' ? { detail: d.reason } : {}) });
      tx.setConversation(d.itemId, { routing_state: 'waiting' }, false);
      tx.history(d.itemId, `offer_${status}`, { agentId: d.agentId, offerId: d.offerId, ...(d.type === 'offerRevoked' ? { reason: d.reason } : {}) });
      return;
    }
    case 'requeued': {
      await tx.flush();
      const row = await tx.trx.selectFrom('conversations').select('assignee_id').where('tenant_id', '=', tx.tenantId).where('id', '=', d.itemId).executeTakeFirst();
      const dropAssignee = row?.assignee_id === d.agentId;
      tx.setConversation(d.itemId, { routing_state: 'waiting', queue_id: d.queueId, ...(dropAssignee ? { assignee_id: null } : {}) }, dropAssignee);
      tx.history(d.itemId, 'requeued', { queueId: d.queueId, reason: d.reason, agentId: d.agentId });
      tx.emit('routing.conversation', { conversationId: d.itemId, queueId: d.queueId, state: 'waiting', event: 'requeued', detail: { reason: d.reason, agentId: d.agentId } }, d.itemId);
      return;
    }
    case 'overflowed':
      tx.setConversation(d.itemId, { queue_id: d.toQueueId }, false);
      tx.history(d.itemId, 'overflowed', { fromQueueId: d.fromQueueId, toQueueId: d.toQueueId, reason: d.reason });
      tx.emit('routing.conversation', { conversationId: d.itemId, queueId: d.toQueueId, state: 'waiting', event: 'overflowed', detail: { fromQueueId: d.fromQueueId, reason: d.reason } }, d.itemId);
      return;
    case 'outOfHours':
    case 'maxWaitExceeded':
    case 'queueFull': {
      const type = d.type === 'outOfHours' ? 'out_of_hours' : d.type === 'maxWaitExceeded' ? 'max_wait_exceeded' : 'queue_full';
      const data: Record<string, unknown> = { queueId: d.queueId, action: d.action };
      if (d.type === 'outOfHours') data.nextOpenAt = d.nextOpenAt === null ? null : new Date(d.nextOpenAt).toISOString();
      tx.history(d.itemId, type, data);
      if (d.action.kind !== 'overflow') {
        // The conversation leaves routing: closed with a message, or kept for an offline answer.
        tx.setConversation(d.itemId, { routing_state: null, status: d.action.kind === 'close' ? 'resolved' : 'pending' });
        if (d.action.kind === 'close') await enqueueClosingMessage(tx.trx, tx.tenantId, d.itemId, d.action.message);
      }
      tx.emit('routing.conversation', { conversationId: d.itemId, queueId: d.queueId, state: d.action.kind === 'overflow' ? 'waiting' : null, event: type, detail: data }, d.itemId);
      return;
    }
    case 'unroutable':
      tx.history(d.itemId, 'unroutable', { queueId: d.queueId, reason: d.reason });
      tx.emit('routing.conversation', { conversationId: d.itemId, queueId: d.queueId, state: 'waiting', event: 'unroutable', detail: { reason: d.reason } }, d.itemId);
      return;
    case 'itemRemoved':
      tx.setConversation(d.itemId, { routing_state: null }, false);
      return;
    case 'released':
      return;
    case 'transferred':
      tx.history(d.itemId, 'transferred', { from: d.fromAgentId, to: d.to }, tx.actor);
      if ('queueId' in d.to) {
        tx.setConversation(d.itemId, { assignee_id: null, queue_id: d.to.queueId, routing_state: 'waiting', waiting_since: at });
      } else {
        // To an agent: offered to them (an `offer` or, with auto-accept, `assigned` follows).
        tx.setConversation(d.itemId, { assignee_id: null, routing_state: 'waiting' });
      }
      return;
    case 'priorityChanged':
      tx.setConversation(d.itemId, { priority: d.to });
      tx.history(d.itemId, 'priority_changed', { from: d.from, to: d.to, reason: d.reason });
      return;
    case 'agentStateChanged': {
      const reason = tx.engine.getAgent(d.agentId)?.notReadyReason ?? null;
      await tx.trx
        .insertInto('agent_states')
        .values({ tenant_id: tx.tenantId, user_id: d.agentId, state: d.to, reason, since: at })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ state: d.to, reason, since: at }))
        .execute();
      await tx.trx.insertInto('agent_state_events').values({ tenant_id: tx.tenantId, user_id: d.agentId, from_state: d.from, to_state: d.to, reason, cause: d.reason, created_at: at }).execute();
      tx.emit('agent.state_changed', { agentId: d.agentId, state: d.to, reason, since: at.toISOString(), cause: d.reason });
      return;
    }
    case 'slaWarning':
    case 'slaBreached': {
      const status = d.type === 'slaWarning' ? 'warning' : 'breached';
      await tx.flush();
      const row = await tx.trx.selectFrom('conversations').select('sla').where('tenant_id', '=', tx.tenantId).where('id', '=', d.itemId).executeTakeFirst();
      const sla = (row?.sla ?? []).filter((s) => s.clock !== d.clock);
      sla.push({ clock: d.clock, dueAt: new Date(d.dueAt).toISOString(), status });
      tx.setConversation(d.itemId, { sla }, false);
      tx.history(d.itemId, `sla_${status}`, { clock: d.clock, dueAt: new Date(d.dueAt).toISOString() });
      tx.emit('routing.sla', { conversationId: d.itemId, clock: d.clock, status, dueAt: new Date(d.dueAt).toISOString() }, d.itemId);
      return;
    }
    case 'escalated':
      tx.history(d.itemId, 'escalated', { clock: d.clock, action: d.action });
      return;
  }
}
