import { openStateAt, nextOpenTime } from './business-hours.ts';
import { emptyLoad, hasSpareCapacity, invertBlocking, DEFAULT_BLOCKING, type ChannelLoad } from './capacity.ts';
import { RoutingError, RoutingErrorCodes } from './errors.ts';
import { IndexedHeap, MinHeap, type HeapNode } from './indexed-heap.ts';
import { priorityKey, ruleConditionsHold } from './priority.ts';
import { computeSlaDue, type EscalationAction, type SlaClockKind } from './sla.ts';
import { STRATEGIES, type StrategyCandidate } from './strategies.ts';
import {
  CHANNELS,
  type AgentConfig,
  type AgentInput,
  type AgentPresence,
  type AgentStateReason,
  type AgentView,
  type AssignVia,
  type Channel,
  type Decision,
  type EngineConfig,
  type EngineOptions,
  type ItemState,
  type ItemView,
  type OfferRevokeReason,
  type OverflowReason,
  type QueueConfig,
  type QueueExitAction,
  type RequeueReason,
  type RoutingEvent,
  type SkillRequirement,
  type TransferTarget,
  type UnroutableReason,
  type WorkItemInput,
} from './types.ts';
import { validateAgentConfig, validateQueueConfig, validateQueueReferences, validateWorkItem } from './validation.ts';

const DEFAULT_OFFER_TIMEOUT_S = 30;
const DEFAULT_DECLINE_COOLDOWN_S = 30;
const DEFAULT_PRIORITY_WEIGHT_S = 60;
const DEFAULT_GRACE_S = 60;
/** Closed offers remembered so a late accept gets a precise error instead of "not found". */
const CLOSED_OFFER_MEMORY = 10_000;

// ---------------------------------------------------------------- internal records

interface SlaClock {
  startedAt: number;
  warnAt: number;
  dueAt: number;
  warned: boolean;
  breached: boolean;
}

interface ItemRec extends HeapNode {
  id: string;
  tenantId: string;
  queueId: string;
  channel: Channel;
  basePriority: number;
  ruleBoost: number;
  escalationBoost: number;
  appliedRules: Set<string>;
  required: SkillRequirement[];
  preferred: SkillRequirement[];
  preferredAgentId: string | null;
  lastAgentId: string | null;
  labels: string[];
  attributes: Record<string, string | number | boolean>;
  seq: number;
  epoch: number;
  state: ItemState;
  waitingSince: number;
  enqueuedAt: number;
  ring: number;
  reservedFor: string | null;
  reserveUntil: number | null;
  excluded: Map<string, number>;
  agentId: string | null;
  offerId: string | null;
  offerExpiresAt: number | null;
  sla: Partial<Record<SlaClockKind, SlaClock>>;
  slaQueueId: string | null;
  maxWaitHandledEpoch: number;
  reported: Set<UnroutableReason>;
  // index bookkeeping
  cls: ItemClass | null;
  key: number;
}

/** Waiting items of one queue that every agent sees alike: same channel, ring, requirements, reservation. */
interface ItemClass {
  id: string;
  queue: QueueRec;
  channel: Channel;
  /** Ring count that decides admission (see QueueRec.accessAt): agents with level <= ring may take. */
  ring: number;
  reqs: SkillRequirement[];
  reservedFor: string | null;
  heap: IndexedHeap<ItemRec>;
  /** Items some agent may not take (declined recently); few, scanned linearly. */
  restricted: Set<ItemRec>;
  feasibility: { version: number; reason: UnroutableReason | null } | null;
}

interface QueueRec {
  cfg: QueueConfig;
  weight: number;
  ringAfterMs: number[];
  /** accessAt[r] = highest ring (1-based) among the first r that adds members; decides who is admitted. */
  accessAt: number[];
  lowerAt: number[]; // lowerAt[r] = total level lowering once r rings are reached
  dropRing: number; // ring count from which preferred skills are no longer required; -1 = never required
  /** agentId → ring count from which the agent may take items (0 = member). */
  access: Map<string, number>;
  memberIndex: Map<string, number>;
  classes: Map<string, ItemClass>;
  /**
   * Unreserved classes by channel, then by the class's first required skill ('' = none), so an
   * agent only looks at classes it might satisfy.
   */
  openByChannel: Map<Channel, Map<string, Set<ItemClass>>>;
  reservedByAgent: Map<string, Set<ItemClass>>;
  ready: Record<Channel, Set<AgentRec>>;
  waiting: number;
  rrLastIndex: number;
  openCache: { open: boolean; from: number; until: number | null } | null;
}

interface AgentRec {
  id: string;
  tenantId: string;
  skills: Record<string, number>;
  skillNames: string[];
  capacity: Partial<Record<Channel, number>>;
  blocking: Partial<Record<Channel, Channel[]>>;
  blockedBy: Record<Channel, Channel[]>;
  presence: AgentPresence;
  notReadyReason: string | null;
  wrapUpUntil: number | null;
  connections: number;
  /** The connections by the server node that holds them ('' when none was named), so a node that dies takes its own with it. */
  connectionsByNode: Map<string, number>;
  graceUntil: number | null;
  lastIdleSince: number;
  load: ChannelLoad;
  offers: Set<string>;
  items: Set<string>;
  /** queueId → ring count from which the agent may take that queue's items */
  access: Map<string, number>;
  ready: Set<Channel>;
}

type TimerKind = 'offer' | 'exclusion' | 'grace' | 'wrapup' | 'ring' | 'pref' | 'rule' | 'maxwait' | 'sla-warn' | 'sla-due';
const TIMER_RANK: Record<TimerKind, number> = {
  offer: 0,
  exclusion: 1,
  grace: 2,
  wrapup: 3,
  ring: 4,
  pref: 5,
  rule: 6,
  maxwait: 7,
  'sla-warn': 8,
  'sla-due': 9,
};

interface Timer {
  at: number;
  kind: TimerKind;
  ref: string;
  sub: string;
  epoch: number;
}

function timerBefore(a: Timer, b: Timer): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.kind !== b.kind) return TIMER_RANK[a.kind] < TIMER_RANK[b.kind];
  if (a.ref !== b.ref) return a.ref < b.ref;
  return a.sub < b.sub;
}

function itemBefore(a: ItemRec, b: ItemRec): boolean {
  return a.key > b.key || (a.key === b.key && a.seq < b.seq);
}

type ClosedOffer = { status: 'accepted' | 'declined' | 'expired' | 'revoked'; agentId: string; itemId: string };

// ---------------------------------------------------------------- snapshot format

export interface AgentSnapshot extends AgentConfig {
  presence: AgentPresence;
  notReadyReason: string | null;
  wrapUpUntil: number | null;
  connections: number;
  /** Absent in snapshots written before connections were counted per node: all count as node ''. */
  connectionsByNode?: Record<string, number>;
  graceUntil: number | null;
  lastIdleSince: number;
}

/** An item as a snapshot holds it: its record without the indexes' bookkeeping, its sets and maps as arrays. */
export type ItemSnapshot = Omit<ItemRec, keyof HeapNode | 'cls' | 'key' | 'appliedRules' | 'excluded' | 'reported'> & {
  appliedRules: string[];
  excluded: [string, number][];
  reported: UnroutableReason[];
};

/** Plain JSON state of an engine; {@link RoutingEngine.restore} rebuilds an equivalent engine. */
export interface EngineSnapshot {
  version: 1;
  options: EngineOptions;
  lastNow: number;
  seq: number;
  offerSeq: number;
  queues: QueueConfig[];
  queueState: { id: string; rrLastIndex: number }[];
  agents: AgentSnapshot[];
  items: ItemSnapshot[];
  closedOffers: [string, ClosedOffer][];
}

// ---------------------------------------------------------------- helpers

function mergeReqs(a: readonly SkillRequirement[], b: readonly SkillRequirement[]): SkillRequirement[] {
  if (b.length === 0) return a.slice();
  const m = new Map<string, number>();
  for (const r of a) m.set(r.skill, Math.max(m.get(r.skill) ?? 0, r.minLevel));
  for (const r of b) m.set(r.skill, Math.max(m.get(r.skill) ?? 0, r.minLevel));
  return [...m].map(([skill, minLevel]) => ({ skill, minLevel }));
}

function hasSkills(agent: AgentRec, reqs: readonly SkillRequirement[]): boolean {
  for (const r of reqs) if ((agent.skills[r.skill] ?? 0) < r.minLevel) return false;
  return true;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * The routing engine (CC-2..CC-5, CC-9): pure state machine. Feed it {@link RoutingEvent}s
 * through {@link RoutingEngine.apply}; it returns the {@link Decision}s the server must carry
 * out (send an offer, play voicemail, notify a supervisor…). It never reads the clock: every
 * event carries `now`, and time-driven work (offer timeouts, bullseye rings, grace periods,
 * wrap-up, SLA clocks) happens on `tick` events — call `tick` at {@link nextWakeAt}.
 *
 * @example
 * const engine = new RoutingEngine({ queues, agents });
 * const decisions = engine.apply({ type: 'arrive', now: Date.now(), item });
 * for (const d of decisions) if (d.type === 'offer') notifyAgent(d.agentId, d.offerId);
 */
export class RoutingEngine {
  private readonly options: Required<EngineOptions>;
  private readonly queues = new Map<string, QueueRec>();
  private readonly agents = new Map<string, AgentRec>();
  private readonly items = new Map<string, ItemRec>();
  private readonly offers = new Map<string, ItemRec>();
  private readonly closedOffers = new Map<string, ClosedOffer>();
  private readonly timers = new MinHeap<Timer>(timerBefore);
  private lastNow = 0;
  private seq = 0;
  private offerSeq = 0;
  /** Bumped when skills, capacity or membership change; invalidates cached "unroutable" answers. */
  private rosterVersion = 0;
  private out: Decision[] = [];
  private now = 0;

  constructor(config: EngineConfig) {
    this.options = { disconnectGraceSeconds: config.disconnectGraceSeconds ?? DEFAULT_GRACE_S };
    const ids = new Set<string>();
    for (const q of config.queues) {
      validateQueueConfig(q);
      if (ids.has(q.id)) throw new RoutingError(RoutingErrorCodes.DUPLICATE_ID, `Queue ${q.id} is defined twice`, { queueId: q.id });
      ids.add(q.id);
    }
    const byId = new Map(config.queues.map((q) => [q.id, q]));
    for (const q of config.queues) validateQueueReferences(q, (id) => byId.get(id));
    for (const q of config.queues) this.queues.set(q.id, this.makeQueue(clone(q)));
    for (const a of config.agents) {
      if (this.agents.has(a.id)) throw new RoutingError(RoutingErrorCodes.DUPLICATE_ID, `Agent ${a.id} is defined twice`, { agentId: a.id });
      this.refreshReady(this.insertAgent(a, 0));
    }
  }

  // ================================================================ public API

  /**
   * Applies one event and returns the decisions it caused, in order. Throws a
   * {@link RoutingError} (and changes nothing) when the event is invalid: unknown ids, an offer
   * that is expired, already accepted or not offered to that agent, and so on.
   */
  apply(event: RoutingEvent): Decision[] {
    if (typeof event?.now !== 'number' || !Number.isFinite(event.now)) {
      throw new RoutingError(RoutingErrorCodes.INVALID_EVENT, 'Every event needs a finite `now` (ms)', { type: event?.type });
    }
    // Clocks of several nodes can disagree slightly; never let time run backwards inside the engine.
    this.now = Math.max(event.now, this.lastNow);
    this.out = [];
    switch (event.type) {
      case 'arrive':
        this.onArrive(event.item);
        break;
      case 'tick':
        this.onTick();
        break;
      case 'agentStateChange':
        this.onAgentStateChange(event.agentId, event.presence, event.notReadyReason);
        break;
      case 'agentConnected':
        this.onAgentConnected(event.agentId, event.nodeId ?? '');
        break;
      case 'agentDisconnected':
        this.onAgentDisconnected(event.agentId, event.nodeId ?? '');
        break;
      case 'agentConnections':
        this.onAgentConnections(event.agentId, event.nodeId, event.count);
        break;
      case 'nodeLost':
        this.onNodeLost(event.nodeId);
        break;
      case 'accept':
        this.onAccept(event.offerId, event.agentId);
        break;
      case 'decline':
        this.onDecline(event.offerId, event.agentId);
        break;
      case 'complete':
        this.onComplete(event.itemId, event.wrapUpSeconds);
        break;
      case 'transfer':
        this.onTransfer(event.itemId, event.to);
        break;
      case 'forceAssign':
        this.onForceAssign(event.itemId, event.agentId);
        break;
      case 'manualPick':
        this.onManualPick(event.itemId, event.agentId);
        break;
      case 'responded':
        this.onResponded(event.itemId);
        break;
      case 'customerMessage':
        this.onCustomerMessage(event.itemId);
        break;
      case 'updateItem':
        this.onUpdateItem(event);
        break;
      case 'addAgent':
        this.onAddAgent(event.agent);
        break;
      case 'updateAgent':
        this.onUpdateAgent(event.agent);
        break;
      case 'removeAgent':
        this.onRemoveAgent(event.agentId);
        break;
      case 'addQueue':
        this.onAddQueue(event.queue);
        break;
      case 'updateQueue':
        this.onUpdateQueue(event.queue);
        break;
      case 'rebalance':
        for (const q of this.queues.values()) this.rebalanceQueue(q);
        break;
      default:
        throw new RoutingError(RoutingErrorCodes.INVALID_EVENT, `Unknown event type ${String((event as { type?: unknown }).type)}`, {});
    }
    this.lastNow = this.now;
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Earliest time a `tick` has work to do, or `null` when nothing is scheduled. May be early, never late. */
  nextWakeAt(): number | null {
    return this.timers.peek()?.at ?? null;
  }

  getItem(itemId: string): ItemView | undefined {
    const it = this.items.get(itemId);
    return it && this.itemView(it);
  }

  getAgent(agentId: string): AgentView | undefined {
    const a = this.agents.get(agentId);
    return a && this.agentView(a);
  }

  /** How many of the agent's connections the server node holds (0 for an unknown agent). */
  connectionsOn(agentId: string, nodeId: string): number {
    return this.agents.get(agentId)?.connectionsByNode.get(nodeId) ?? 0;
  }

  /** The agents with a connection held by the server node. */
  agentsOn(nodeId: string): string[] {
    return [...this.agents.values()].filter((a) => a.connectionsByNode.has(nodeId)).map((a) => a.id);
  }

  /** Whether any agent holds a connection, on any node. */
  anyAgentConnected(): boolean {
    for (const a of this.agents.values()) if (a.connections > 0) return true;
    return false;
  }

  listItems(): ItemView[] {
    return [...this.items.values()].map((it) => this.itemView(it));
  }

  /** How many items the engine holds (waiting, offered, assigned), without listing them. */
  itemCount(): number {
    return this.items.size;
  }

  listAgents(): AgentView[] {
    return [...this.agents.values()].map((a) => this.agentView(a));
  }

  listQueues(): QueueConfig[] {
    return [...this.queues.values()].map((q) => clone(q.cfg));
  }

  getQueue(queueId: string): QueueConfig | undefined {
    const q = this.queues.get(queueId);
    return q && clone(q.cfg);
  }

  /** Number of items waiting (not offered, not assigned) in a queue. */
  waitingCount(queueId: string): number {
    return this.queueOrThrow(queueId).waiting;
  }

  /**
   * The engine's whole state, as plain data. `closedOffers: false` leaves out the memory of
   * recently closed offers (which only words the error of a late accept or decline) for a
   * store that answers those from elsewhere, without copying it.
   */
  snapshot(options: { closedOffers?: boolean } = {}): EngineSnapshot {
    return {
      version: 1,
      options: { ...this.options },
      lastNow: this.lastNow,
      seq: this.seq,
      offerSeq: this.offerSeq,
      queues: [...this.queues.values()].map((q) => clone(q.cfg)),
      queueState: [...this.queues.values()].map((q) => ({ id: q.cfg.id, rrLastIndex: q.rrLastIndex })),
      agents: [...this.agents.values()].map((a) => ({
        id: a.id,
        tenantId: a.tenantId,
        skills: { ...a.skills },
        capacity: { ...a.capacity },
        blocking: clone(a.blocking),
        presence: a.presence,
        notReadyReason: a.notReadyReason,
        wrapUpUntil: a.wrapUpUntil,
        connections: a.connections,
        connectionsByNode: Object.fromEntries(a.connectionsByNode),
        graceUntil: a.graceUntil,
        lastIdleSince: a.lastIdleSince,
      })),
      items: [...this.items.values()].map((it) => ({
        id: it.id,
        tenantId: it.tenantId,
        queueId: it.queueId,
        channel: it.channel,
        basePriority: it.basePriority,
        ruleBoost: it.ruleBoost,
        escalationBoost: it.escalationBoost,
        appliedRules: [...it.appliedRules],
        required: clone(it.required),
        preferred: clone(it.preferred),
        preferredAgentId: it.preferredAgentId,
        lastAgentId: it.lastAgentId,
        labels: [...it.labels],
        attributes: { ...it.attributes },
        seq: it.seq,
        epoch: it.epoch,
        state: it.state,
        waitingSince: it.waitingSince,
        enqueuedAt: it.enqueuedAt,
        ring: it.ring,
        reservedFor: it.reservedFor,
        reserveUntil: it.reserveUntil,
        excluded: [...it.excluded],
        agentId: it.agentId,
        offerId: it.offerId,
        offerExpiresAt: it.offerExpiresAt,
        sla: clone(it.sla),
        slaQueueId: it.slaQueueId,
        maxWaitHandledEpoch: it.maxWaitHandledEpoch,
        reported: [...it.reported],
      })),
      closedOffers: options.closedOffers === false ? [] : [...this.closedOffers].map(([id, c]) => [id, { ...c }]),
    };
  }

  /** Rebuilds an engine from {@link snapshot} output (e.g. after a restart, from the DB). */
  static restore(snapshot: EngineSnapshot): RoutingEngine {
    if (snapshot?.version !== 1) {
      throw new RoutingError(RoutingErrorCodes.INVALID_SNAPSHOT, `Unsupported snapshot version ${String(snapshot?.version)}`, {});
    }
    const engine = new RoutingEngine({ ...snapshot.options, queues: snapshot.queues, agents: [] });
    engine.lastNow = snapshot.lastNow;
    engine.now = snapshot.lastNow;
    engine.seq = snapshot.seq;
    engine.offerSeq = snapshot.offerSeq;
    for (const s of snapshot.queueState) {
      const q = engine.queues.get(s.id);
      if (q) q.rrLastIndex = s.rrLastIndex;
    }
    for (const a of snapshot.agents) {
      const rec = engine.insertAgent({ ...a, notReadyReason: a.notReadyReason ?? undefined }, a.lastIdleSince);
      rec.wrapUpUntil = a.wrapUpUntil;
      if (a.connectionsByNode) rec.connectionsByNode = new Map(Object.entries(a.connectionsByNode).filter(([, n]) => n > 0));
      rec.graceUntil = a.graceUntil;
      rec.lastIdleSince = a.lastIdleSince;
      if (rec.wrapUpUntil !== null) engine.schedule(rec.wrapUpUntil, 'wrapup', rec.id, '', 0);
      if (rec.graceUntil !== null) engine.schedule(rec.graceUntil, 'grace', rec.id, '', 0);
    }
    for (const s of snapshot.items) {
      const q = engine.queues.get(s.queueId);
      if (!q) throw new RoutingError(RoutingErrorCodes.INVALID_SNAPSHOT, `Item ${s.id} is in unknown queue ${s.queueId}`, { itemId: s.id });
      const it: ItemRec = {
        ...clone(s),
        appliedRules: new Set(s.appliedRules),
        excluded: new Map(s.excluded),
        reported: new Set(s.reported),
        cls: null,
        key: 0,
        heapIndex: -1,
      };
      engine.items.set(it.id, it);
      if (it.state === 'waiting') {
        engine.placeWaiting(it);
        engine.scheduleWaitingTimers(it, q);
      } else {
        const agent = it.agentId === null ? undefined : engine.agents.get(it.agentId);
        if (!agent) throw new RoutingError(RoutingErrorCodes.INVALID_SNAPSHOT, `Item ${s.id} held by unknown agent ${String(it.agentId)}`, { itemId: s.id });
        agent.load[it.channel]++;
        if (it.state === 'offered' && it.offerId !== null && it.offerExpiresAt !== null) {
          agent.offers.add(it.offerId);
          engine.offers.set(it.offerId, it);
          engine.schedule(it.offerExpiresAt, 'offer', it.offerId, '', 0);
        } else {
          agent.items.add(it.id);
        }
      }
      for (const [agentId, until] of it.excluded) engine.schedule(until, 'exclusion', it.id, agentId, 0);
      engine.scheduleSlaTimers(it);
    }
    for (const [id, c] of snapshot.closedOffers) engine.closedOffers.set(id, { ...c });
    for (const a of engine.agents.values()) engine.refreshReady(a);
    return engine;
  }

  // ================================================================ events

  private onArrive(input: WorkItemInput): void {
    validateWorkItem(input);
    if (this.items.has(input.id)) throw new RoutingError(RoutingErrorCodes.DUPLICATE_ID, `Item ${input.id} is already routed`, { itemId: input.id });
    const q = this.queueOrThrow(input.queueId);
    if (q.cfg.tenantId !== input.tenantId) {
      throw new RoutingError(RoutingErrorCodes.TENANT_MISMATCH, `Item ${input.id} of tenant ${input.tenantId} cannot enter queue ${q.cfg.id}`, {
        itemId: input.id,
        queueId: q.cfg.id,
      });
    }
    const it: ItemRec = {
      id: input.id,
      tenantId: input.tenantId,
      queueId: q.cfg.id,
      channel: input.channel,
      basePriority: input.priority ?? 0,
      ruleBoost: 0,
      escalationBoost: 0,
      appliedRules: new Set(),
      required: (input.requiredSkills ?? []).map((r) => ({ skill: r.skill, minLevel: r.minLevel })),
      preferred: (input.preferredSkills ?? []).map((r) => ({ skill: r.skill, minLevel: r.minLevel })),
      preferredAgentId: input.preferredAgentId ?? null,
      lastAgentId: input.lastAgentId ?? null,
      labels: [...(input.labels ?? [])],
      attributes: { ...(input.attributes ?? {}) },
      seq: ++this.seq,
      epoch: 0,
      state: 'waiting',
      waitingSince: this.now,
      enqueuedAt: this.now,
      ring: 0,
      reservedFor: null,
      reserveUntil: null,
      excluded: new Map(),
      agentId: null,
      offerId: null,
      offerExpiresAt: null,
      sla: {},
      slaQueueId: null,
      maxWaitHandledEpoch: -1,
      reported: new Set(),
      cls: null,
      key: 0,
      heapIndex: -1,
    };
    this.items.set(it.id, it);
    if (q.cfg.sla) {
      it.slaQueueId = q.cfg.id;
      this.startSlaClock(it, 'first-response');
      this.startSlaClock(it, 'resolution');
    }
    this.routeToQueue(it, q, []);
  }

  private onTick(): void {
    for (let t = this.timers.peek(); t !== undefined && t.at <= this.now; t = this.timers.peek()) {
      this.timers.pop();
      this.fire(t);
    }
  }

  private onAgentStateChange(agentId: string, presence: AgentPresence, reason?: string): void {
    const a = this.agentOrThrow(agentId);
    if (!['available', 'busy', 'away', 'offline', 'not-ready'].includes(presence)) {
      throw new RoutingError(RoutingErrorCodes.INVALID_EVENT, `Unknown presence ${String(presence)}`, { agentId });
    }
    if (a.presence === presence && (a.notReadyReason ?? undefined) === reason) return;
    this.setPresence(a, presence, 'requested', reason ?? null);
  }

  private onAgentConnected(agentId: string, nodeId: string): void {
    this.addConnections(this.agentOrThrow(agentId), nodeId, 1);
  }

  private onAgentConnections(agentId: string, nodeId: string, count: number): void {
    const a = this.agentOrThrow(agentId);
    if (typeof nodeId !== 'string' || !Number.isInteger(count) || count < 0) {
      throw new RoutingError(RoutingErrorCodes.INVALID_EVENT, 'agentConnections needs a nodeId and a whole count >= 0', { agentId });
    }
    const held = a.connectionsByNode.get(nodeId) ?? 0;
    if (count > held) this.addConnections(a, nodeId, count - held);
    else if (count < held) this.dropConnections(a, nodeId, held - count);
  }

  private addConnections(a: AgentRec, nodeId: string, n: number): void {
    a.connections += n;
    a.connectionsByNode.set(nodeId, (a.connectionsByNode.get(nodeId) ?? 0) + n);
    a.graceUntil = null;
    this.refreshReady(a);
    this.matchAgent(a);
  }

  private onAgentDisconnected(agentId: string, nodeId: string): void {
    const a = this.agentOrThrow(agentId);
    const held = a.connectionsByNode.get(nodeId) ?? 0;
    if (held === 0) return;
    this.dropConnections(a, nodeId, 1);
  }

  /** A server node stopped (crashed, killed, cut off): the connections it held are gone. */
  private onNodeLost(nodeId: string): void {
    if (typeof nodeId !== 'string') throw new RoutingError(RoutingErrorCodes.INVALID_EVENT, 'nodeLost needs a nodeId', {});
    for (const a of this.agents.values()) {
      const held = a.connectionsByNode.get(nodeId) ?? 0;
      if (held > 0) this.dropConnections(a, nodeId, held);
    }
  }

  private dropConnections(a: AgentRec, nodeId: string, n: number): void {
    const left = (a.connectionsByNode.get(nodeId) ?? 0) - n;
    if (left > 0) a.connectionsByNode.set(nodeId, left);
    else a.connectionsByNode.delete(nodeId);
    a.connections -= n;
    if (a.connections === 0 && a.presence !== 'offline') {
      // Keep the agent's state for a grace period (a page reload, a flaky network); no new
      // offers meanwhile. If nobody reconnects, the tick turns the agent offline.
      a.graceUntil = this.now + this.options.disconnectGraceSeconds * 1000;
      this.schedule(a.graceUntil, 'grace', a.id, '', 0);
    }
    this.refreshReady(a);
  }

  private onAccept(offerId: string, agentId: string): void {
    const it = this.openOfferOrThrow(offerId, agentId);
    const a = this.agents.get(agentId)!;
    this.offers.delete(offerId);
    a.offers.delete(offerId);
    a.items.add(it.id);
    this.rememberClosedOffer(offerId, { status: 'accepted', agentId, itemId: it.id });
    it.state = 'assigned';
    it.offerId = null;
    it.offerExpiresAt = null;
    this.emit({ type: 'assigned', at: this.now, itemId: it.id, queueId: it.queueId, agentId, via: 'accept', offerId });
  }

  private onDecline(offerId: string, agentId: string): void {
    const it = this.openOfferOrThrow(offerId, agentId);
    const a = this.agents.get(agentId)!;
    this.emit({ type: 'offerDeclined', at: this.now, itemId: it.id, agentId, offerId });
    this.closeOffer(it, a, 'declined');
    this.exclude(it, a);
    this.requeue(it, 'declined', agentId);
    this.refreshReady(a);
    this.settleRequeued([it]);
    this.matchAgent(a);
  }

  private onComplete(itemId: string, wrapUpSeconds?: number): void {
    const it = this.itemOrThrow(itemId);
    if (wrapUpSeconds !== undefined && !(wrapUpSeconds >= 0)) {
      throw new RoutingError(RoutingErrorCodes.INVALID_EVENT, 'wrapUpSeconds must be >= 0', { itemId });
    }
    const q = this.queues.get(it.queueId)!;
    let freed: AgentRec | undefined;
    if (it.state === 'waiting') {
      this.unplaceWaiting(it);
    } else if (it.state === 'offered') {
      freed = this.agents.get(it.agentId!)!;
      this.emit({ type: 'offerRevoked', at: this.now, itemId: it.id, agentId: freed.id, offerId: it.offerId!, reason: 'item-removed' });
      this.closeOffer(it, freed, 'revoked');
    } else {
      freed = this.agents.get(it.agentId!)!;
      freed.items.delete(it.id);
      freed.load[it.channel]--;
      this.emit({ type: 'released', at: this.now, itemId: it.id, agentId: freed.id, reason: 'completed' });
      const wrap = wrapUpSeconds ?? q.cfg.wrapUpSeconds ?? 0;
      if (wrap > 0 && freed.presence === 'available') {
        this.setPresence(freed, 'wrap-up', 'wrap-up-started', null);
        freed.wrapUpUntil = this.now + wrap * 1000;
        this.schedule(freed.wrapUpUntil, 'wrapup', freed.id, '', 0);
      }
    }
    this.items.delete(it.id);
    this.emit({ type: 'itemRemoved', at: this.now, itemId: it.id, queueId: it.queueId, reason: 'completed' });
    if (freed) {
      if (freed.load.chat + freed.load.email + freed.load.sms + freed.load.social + freed.load.voice + freed.load.task === 0) {
        freed.lastIdleSince = this.now;
      }
      this.refreshReady(freed);
      this.matchAgent(freed);
    }
  }

  private onTransfer(itemId: string, to: TransferTarget): void {
    const it = this.itemOrThrow(itemId);
    if (it.state === 'offered') {
      throw new RoutingError(RoutingErrorCodes.ITEM_NOT_ASSIGNED, `Item ${itemId} is being offered; transfer it once accepted`, { itemId, state: it.state });
    }
    const from = it.state === 'assigned' ? this.agents.get(it.agentId!)! : undefined;
    if ('agentId' in to) {
      const target = this.agentOrThrow(to.agentId);
      if (target === from) throw new RoutingError(RoutingErrorCodes.INVALID_EVENT, `Item ${itemId} is already with agent ${target.id}`, { itemId });
      this.checkDirected(it, target, { needConnection: true });
    } else {
      const q = this.queueOrThrow(to.queueId);
      if (q.cfg.tenantId !== it.tenantId) {
        throw new RoutingError(RoutingErrorCodes.TENANT_MISMATCH, `Queue ${q.cfg.id} belongs to another tenant`, { itemId, queueId: q.cfg.id });
      }
    }
    // Valid: detach from the current holder or queue.
    if (from) {
      this.handOff(it, from, 'transferred');
    } else {
      this.unplaceWaiting(it);
    }
    it.agentId = null;
    this.emit({ type: 'transferred', at: this.now, itemId: it.id, fromAgentId: from?.id ?? null, to: { ...to } });
    if ('agentId' in to) {
      this.deliver(it, this.agents.get(to.agentId)!, this.queues.get(it.queueId)!);
    } else {
      // A transfer is a new routing request: its wait starts now.
      it.waitingSince = this.now;
      it.state = 'waiting';
      it.excluded.clear();
      // The agent who hands the item off should not get it straight back.
      if (from) this.exclude(it, from, this.queues.get(to.queueId)!);
      this.routeToQueue(it, this.queues.get(to.queueId)!, []);
    }
    if (from) {
      this.refreshReady(from);
      this.matchAgent(from);
    }
  }

  /**
   * A supervisor gives the item to an agent: from the queue, from under another agent's offer, or
   * from the agent who holds it (who gets their room back). The target's skills and room count.
   */
  private onForceAssign(itemId: string, agentId: string): void {
    const it = this.itemOrThrow(itemId);
    const a = this.agentOrThrow(agentId);
    if (it.state === 'assigned' && it.agentId === a.id) {
      throw new RoutingError(RoutingErrorCodes.ITEM_NOT_WAITING, `Item ${itemId} is already assigned to ${a.id}`, { itemId, agentId: a.id, state: it.state });
    }
    const offeredTo = it.state === 'offered' ? this.agents.get(it.agentId!)! : undefined;
    if (offeredTo !== a) this.checkDirected(it, a, { needConnection: false });
    if (it.state === 'assigned') {
      const from = this.agents.get(it.agentId!)!;
      this.handOff(it, from, 'reassigned');
      this.assignDirect(it, a, 'force-assign');
      this.refreshReady(from);
      this.matchAgent(from);
      return;
    }
    if (offeredTo) {
      if (offeredTo !== a) {
        this.emit({ type: 'offerRevoked', at: this.now, itemId: it.id, agentId: offeredTo.id, offerId: it.offerId!, reason: 'force-assigned' });
      }
      this.closeOffer(it, offeredTo, offeredTo === a ? 'accepted' : 'revoked');
    } else {
      this.unplaceWaiting(it);
    }
    this.assignDirect(it, a, 'force-assign');
    if (offeredTo && offeredTo !== a) {
      this.refreshReady(offeredTo);
      this.matchAgent(offeredTo);
    }
  }

  /** The agent who holds the item lets go of it for someone else: their room back, remembered as its last agent. */
  private handOff(it: ItemRec, from: AgentRec, reason: 'transferred' | 'reassigned'): void {
    from.items.delete(it.id);
    from.load[it.channel]--;
    it.lastAgentId = from.id;
    this.emit({ type: 'released', at: this.now, itemId: it.id, agentId: from.id, reason });
  }

  private onManualPick(itemId: string, agentId: string): void {
    const it = this.itemOrThrow(itemId);
    const a = this.agentOrThrow(agentId);
    if (it.state !== 'waiting') {
      throw new RoutingError(RoutingErrorCodes.ITEM_NOT_WAITING, `Item ${itemId} is ${it.state}, only waiting items can be picked`, { itemId, state: it.state });
    }
    const level = a.access.get(it.queueId);
    if (level === undefined || level > it.ring || (it.reservedFor !== null && it.reservedFor !== a.id)) {
      throw new RoutingError(RoutingErrorCodes.AGENT_NOT_ELIGIBLE, `Agent ${agentId} may not take items of queue ${it.queueId} yet`, { itemId, agentId });
    }
    this.checkDirected(it, a, { needConnection: true });
    this.unplaceWaiting(it);
    this.assignDirect(it, a, 'manual-pick');
  }

  private onResponded(itemId: string): void {
    const it = this.itemOrThrow(itemId);
    delete it.sla['first-response'];
    delete it.sla['next-response'];
  }

  private onCustomerMessage(itemId: string): void {
    const it = this.itemOrThrow(itemId);
    if (!it.sla['first-response'] && !it.sla['next-response']) this.startSlaClock(it, 'next-response');
  }

  /**
   * New priority, labels or attributes. The priority rules are weighed again: a rule whose
   * condition now holds (and whose waiting time has passed) raises the item, one whose condition
   * no longer holds stops raising it. A waiting item moves to its new place in the queue.
   */
  private onUpdateItem(e: Extract<RoutingEvent, { type: 'updateItem' }>): void {
    const it = this.itemOrThrow(e.itemId);
    validateWorkItem({ id: it.id, tenantId: it.tenantId, queueId: it.queueId, channel: it.channel, priority: e.priority, labels: e.labels });
    if (e.priority !== undefined) it.basePriority = e.priority;
    if (e.labels !== undefined) it.labels = [...e.labels];
    if (e.attributes !== undefined) it.attributes = { ...e.attributes };
    const q = this.queues.get(it.queueId)!;
    for (const rule of q.cfg.priorityRules ?? []) {
      const holds = ruleConditionsHold(rule, it);
      const due = this.now - it.enqueuedAt >= (rule.when.waitedSeconds ?? 0) * 1000;
      if (it.appliedRules.has(rule.id) && !holds) {
        it.appliedRules.delete(rule.id);
        it.ruleBoost -= rule.raiseBy;
      } else if (!it.appliedRules.has(rule.id) && holds && due) {
        it.appliedRules.add(rule.id);
        it.ruleBoost += rule.raiseBy;
      }
    }
    // Rules not due yet keep their timers, which weigh the condition when they fire.
    if (it.state === 'waiting') this.refile(it);
  }

  private onAddAgent(input: AgentInput): void {
    if (this.agents.has(input?.id)) throw new RoutingError(RoutingErrorCodes.DUPLICATE_ID, `Agent ${input.id} already exists`, { agentId: input.id });
    const a = this.insertAgent(input, this.now);
    this.rosterVersion++;
    this.refreshReady(a);
    this.matchAgent(a);
  }

  private onUpdateAgent(cfg: AgentConfig): void {
    validateAgentConfig(cfg);
    const a = this.agentOrThrow(cfg.id);
    if (a.tenantId !== cfg.tenantId) throw new RoutingError(RoutingErrorCodes.TENANT_MISMATCH, `Agent ${cfg.id} cannot change tenant`, { agentId: cfg.id });
    // Assigned work cannot be taken back; refuse a capacity below it rather than break the cap.
    const assigned = emptyLoad();
    for (const id of a.items) assigned[this.items.get(id)!.channel]++;
    for (const ch of CHANNELS) {
      if (assigned[ch] > (cfg.capacity[ch] ?? 0)) {
        throw new RoutingError(
          RoutingErrorCodes.CAPACITY_BELOW_LOAD,
          `Agent ${a.id} holds ${assigned[ch]} ${ch} item(s); capacity ${cfg.capacity[ch] ?? 0} is below that`,
          { agentId: a.id, channel: ch, assigned: assigned[ch] },
        );
      }
    }
    a.skills = { ...cfg.skills };
    a.skillNames = Object.keys(a.skills);
    a.capacity = { ...cfg.capacity };
    a.blocking = clone(cfg.blocking ?? DEFAULT_BLOCKING);
    a.blockedBy = invertBlocking(a.blocking);
    this.rosterVersion++;
    const revoked: ItemRec[] = [];
    for (const offerId of [...a.offers].sort()) {
      const it = this.offers.get(offerId)!;
      let reason: 'agent-skills-changed' | 'agent-capacity-changed' | undefined;
      if (!hasSkills(a, this.effectiveReqs(this.queues.get(it.queueId)!, it, it.ring))) reason = 'agent-skills-changed';
      else if (a.load[it.channel] > (a.capacity[it.channel] ?? 0)) reason = 'agent-capacity-changed';
      if (reason) {
        this.revokeOffer(it, a, reason);
        revoked.push(it);
      }
    }
    this.refreshReady(a);
    this.settleRequeued(revoked);
    this.matchAgent(a);
  }

  private onRemoveAgent(agentId: string): void {
    const a = this.agentOrThrow(agentId);
    const requeued: ItemRec[] = [];
    for (const offerId of [...a.offers].sort()) {
      const it = this.offers.get(offerId)!;
      this.revokeOffer(it, a, 'agent-removed');
      requeued.push(it);
    }
    for (const itemId of [...a.items].sort()) {
      const it = this.items.get(itemId)!;
      a.items.delete(itemId);
      a.load[it.channel]--;
      it.lastAgentId = a.id;
      this.requeue(it, 'agent-removed', a.id);
      requeued.push(it);
    }
    a.presence = 'offline';
    this.refreshReady(a);
    for (const qid of a.access.keys()) this.queues.get(qid)!.access.delete(a.id);
    this.agents.delete(a.id);
    this.rosterVersion++;
    this.settleRequeued(requeued);
  }

  private onAddQueue(cfg: QueueConfig): void {
    validateQueueConfig(cfg);
    if (this.queues.has(cfg.id)) throw new RoutingError(RoutingErrorCodes.DUPLICATE_ID, `Queue ${cfg.id} already exists`, { queueId: cfg.id });
    validateQueueReferences(cfg, (id) => (id === cfg.id ? cfg : this.queues.get(id)?.cfg));
    const q = this.makeQueue(clone(cfg));
    this.queues.set(cfg.id, q);
    this.rosterVersion++;
    for (const [agentId, level] of q.access) {
      const a = this.agents.get(agentId);
      if (a && a.tenantId === cfg.tenantId) this.grantAccess(a, q, level);
    }
  }

  private onUpdateQueue(cfg: QueueConfig): void {
    validateQueueConfig(cfg);
    const q = this.queueOrThrow(cfg.id);
    if (q.cfg.tenantId !== cfg.tenantId) throw new RoutingError(RoutingErrorCodes.TENANT_MISMATCH, `Queue ${cfg.id} cannot change tenant`, { queueId: cfg.id });
    validateQueueReferences(cfg, (id) => (id === cfg.id ? cfg : this.queues.get(id)?.cfg));
    const waiting = [...this.items.values()].filter((it) => it.queueId === q.cfg.id && it.state === 'waiting');
    for (const it of waiting) this.unplaceWaiting(it);
    for (const agentId of q.access.keys()) {
      const a = this.agents.get(agentId);
      if (a) this.revokeAccess(a, q);
    }
    const fresh = this.makeQueue(clone(cfg));
    q.cfg = fresh.cfg;
    q.weight = fresh.weight;
    q.ringAfterMs = fresh.ringAfterMs;
    q.accessAt = fresh.accessAt;
    q.lowerAt = fresh.lowerAt;
    q.dropRing = fresh.dropRing;
    q.access = fresh.access;
    q.memberIndex = fresh.memberIndex;
    q.openCache = null;
    this.rosterVersion++;
    for (const [agentId, level] of q.access) {
      const a = this.agents.get(agentId);
      if (a && a.tenantId === cfg.tenantId) this.grantAccess(a, q, level);
    }
    for (const it of waiting) {
      it.ring = this.ringsReached(q, it);
      this.placeWaiting(it);
      this.scheduleWaitingTimers(it, q);
    }
    this.rebalanceQueue(q);
  }

  // ================================================================ routing core

  /** Enters `q`, honouring its hours and size, or follows the queue's exit action. */
  private routeToQueue(it: ItemRec, q: QueueRec, visited: string[]): void {
    if (!this.isQueueOpen(q)) {
      const action = q.cfg.outOfHoursAction ?? { kind: 'offline-form' };
      const nextOpenAt = q.cfg.businessHours ? nextOpenTime(q.cfg.businessHours, this.now) : null;
      this.emit({ type: 'outOfHours', at: this.now, itemId: it.id, queueId: q.cfg.id, action: clone(action), nextOpenAt });
      this.exitVia(it, q, action, 'out-of-hours', visited, false);
      return;
    }
    if (q.cfg.maxQueueSize && q.waiting >= q.cfg.maxQueueSize.size) {
      const action = q.cfg.maxQueueSize.action;
      this.emit({ type: 'queueFull', at: this.now, itemId: it.id, queueId: q.cfg.id, action: clone(action) });
      this.exitVia(it, q, action, 'queue-full', visited, false);
      return;
    }
    this.enqueue(it, q);
  }

  /**
   * Sends an item that `q` cannot keep where `action` says. `inQueue` is true when the item is
   * currently placed in `q` (max wait, SLA), false when it was only trying to enter.
   */
  private exitVia(it: ItemRec, q: QueueRec, action: QueueExitAction, reason: OverflowReason, visited: string[], inQueue: boolean): void {
    if (action.kind === 'overflow') {
      const target = this.queues.get(action.queueId);
      if (!target || target === q || visited.includes(target.cfg.id)) {
        // Every queue on the path refuses the item: keep it here rather than lose it.
        this.reportUnroutable(it, q, 'overflow-loop', true);
        if (!inQueue) this.enqueue(it, q, true);
        return;
      }
      if (inQueue) this.unplaceWaiting(it);
      this.emit({ type: 'overflowed', at: this.now, itemId: it.id, fromQueueId: q.cfg.id, toQueueId: target.cfg.id, reason });
      this.routeToQueue(it, target, [...visited, q.cfg.id]);
      return;
    }
    if (inQueue) this.unplaceWaiting(it);
    this.items.delete(it.id);
    this.emit({ type: 'itemRemoved', at: this.now, itemId: it.id, queueId: q.cfg.id, reason: 'exited' });
  }

  private enqueue(it: ItemRec, q: QueueRec, quiet = false): void {
    it.queueId = q.cfg.id;
    it.epoch++;
    it.enqueuedAt = this.now;
    it.state = 'waiting';
    it.agentId = null;
    it.reported.clear();
    it.ring = this.ringsReached(q, it);
    it.appliedRules.clear();
    it.ruleBoost = 0;
    for (const rule of q.cfg.priorityRules ?? []) {
      if ((rule.when.waitedSeconds ?? 0) <= 0 && ruleConditionsHold(rule, it)) {
        it.appliedRules.add(rule.id);
        it.ruleBoost += rule.raiseBy;
      }
    }
    it.reservedFor = null;
    it.reserveUntil = null;
    const prefId = it.preferredAgentId ?? it.lastAgentId;
    const window = q.cfg.lastAgentPreferenceSeconds ?? 0;
    if (prefId !== null && window > 0) {
      const pref = this.agents.get(prefId);
      if (pref && pref.presence !== 'offline' && !it.excluded.has(pref.id) && q.access.has(pref.id) && hasSkills(pref, this.effectiveReqs(q, it, it.ring))) {
        it.reservedFor = pref.id;
        it.reserveUntil = this.now + window * 1000;
      }
    }
    this.placeWaiting(it);
    this.scheduleWaitingTimers(it, q);
    if (this.matchItem(it)) return;
    if (!quiet && !this.checkFeasible(it)) return;
    if (!quiet) this.emit({ type: 'queued', at: this.now, itemId: it.id, queueId: q.cfg.id, reason: 'no-available-agent' });
  }

  /** Back to waiting in its queue after an offer or assignment ended; catches up on time passed. */
  private requeue(it: ItemRec, reason: RequeueReason, agentId: string): void {
    const q = this.queues.get(it.queueId)!;
    it.state = 'waiting';
    it.agentId = null;
    it.ring = this.ringsReached(q, it);
    for (const rule of q.cfg.priorityRules ?? []) {
      const w = rule.when.waitedSeconds;
      if (w !== undefined && !it.appliedRules.has(rule.id) && this.now - it.enqueuedAt >= w * 1000 && ruleConditionsHold(rule, it)) {
        it.appliedRules.add(rule.id);
        it.ruleBoost += rule.raiseBy;
      }
    }
    if (it.reserveUntil !== null && this.now >= it.reserveUntil) {
      it.reservedFor = null;
      it.reserveUntil = null;
    }
    this.placeWaiting(it);
    this.scheduleWaitingTimers(it, q);
    this.emit({ type: 'requeued', at: this.now, itemId: it.id, queueId: q.cfg.id, reason, agentId });
  }

  /** Routes requeued items, best first, so the score order holds among them too. */
  private settleRequeued(items: ItemRec[]): void {
    items.sort((a, b) => (itemBefore(a, b) ? -1 : 1));
    for (const it of items) {
      if (it.state !== 'waiting' || this.items.get(it.id) !== it) continue;
      const q = this.queues.get(it.queueId)!;
      if (q.cfg.maxWait && this.now - it.enqueuedAt >= q.cfg.maxWait.seconds * 1000 && it.maxWaitHandledEpoch !== it.epoch) {
        this.handleMaxWait(it, q);
        continue;
      }
      if (!this.matchItem(it)) this.checkFeasible(it);
    }
  }

  private rebalanceQueue(q: QueueRec): void {
    const waiting: ItemRec[] = [];
    for (const cls of q.classes.values()) {
      waiting.push(...cls.heap.values(), ...cls.restricted);
    }
    waiting.sort((a, b) => (itemBefore(a, b) ? -1 : 1));
    for (const it of waiting) if (it.state === 'waiting') this.matchItem(it);
  }

  /** Finds the strategy's agent for a waiting item among ready agents. */
  private matchItem(it: ItemRec): boolean {
    const cls = it.cls!;
    const q = cls.queue;
    const ready = q.ready[it.channel];
    if (ready.size === 0) return false;
    const strategy = STRATEGIES[q.cfg.strategy];
    const candidates: StrategyCandidate[] = [];
    const agentsById = new Map<string, AgentRec>();
    for (const a of ready) {
      const level = a.access.get(q.cfg.id)!;
      if (level > it.ring) continue;
      if (it.reservedFor !== null && it.reservedFor !== a.id) continue;
      if (it.excluded.has(a.id)) continue;
      if (!hasSkills(a, cls.reqs)) continue;
      candidates.push(this.candidate(a, q, cls.reqs, it.preferred));
      agentsById.set(a.id, a);
    }
    if (candidates.length === 0) return false;
    const chosen = strategy.select({
      queueId: q.cfg.id,
      item: { id: it.id, channel: it.channel, requiredSkills: cls.reqs, preferredSkills: it.preferred },
      candidates,
      lastAssignedIndex: q.rrLastIndex,
      now: this.now,
    });
    const agent = chosen === undefined ? undefined : agentsById.get(chosen);
    if (!agent) return false;
    this.unplaceWaiting(it);
    this.deliver(it, agent, q);
    return true;
  }

  /** Gives an agent who has room the best items it may take, across its queues, until full. */
  private matchAgent(a: AgentRec): void {
    while (a.ready.size > 0 && this.agents.get(a.id) === a) {
      let best: ItemRec | undefined;
      for (const [qid, level] of a.access) {
        const q = this.queues.get(qid)!;
        if (q.waiting === 0) continue;
        for (const ch of a.ready) {
          const bySkill = q.openByChannel.get(ch);
          if (!bySkill) continue;
          if (bySkill.size <= a.skillNames.length + 1) {
            for (const classes of bySkill.values()) for (const cls of classes) best = this.bestInClass(cls, a, level, best);
          } else {
            const none = bySkill.get('');
            if (none) for (const cls of none) best = this.bestInClass(cls, a, level, best);
            for (const skill of a.skillNames) {
              const classes = bySkill.get(skill);
              if (classes) for (const cls of classes) best = this.bestInClass(cls, a, level, best);
            }
          }
        }
        const reserved = q.reservedByAgent.get(a.id);
        if (reserved) for (const cls of reserved) if (a.ready.has(cls.channel)) best = this.bestInClass(cls, a, level, best);
      }
      if (!best) return;
      const q = this.queues.get(best.queueId)!;
      this.unplaceWaiting(best);
      this.deliver(best, a, q);
    }
  }

  private bestInClass(cls: ItemClass, a: AgentRec, level: number, best: ItemRec | undefined): ItemRec | undefined {
    if (cls.ring < level) return best;
    const top = cls.heap.peek();
    const better = top !== undefined && (best === undefined || itemBefore(top, best));
    // Cheap score comparison first: most classes cannot beat the best found so far.
    if ((!better && cls.restricted.size === 0) || !hasSkills(a, cls.reqs)) return best;
    if (better) best = top;
    for (const it of cls.restricted) {
      if (!it.excluded.has(a.id) && (best === undefined || itemBefore(it, best))) best = it;
    }
    return best;
  }

  private candidate(a: AgentRec, q: QueueRec, reqs: readonly SkillRequirement[], preferred: readonly SkillRequirement[]): StrategyCandidate {
    let load = 0;
    let cap = 0;
    for (const ch of CHANNELS) {
      load += a.load[ch];
      cap += a.capacity[ch] ?? 0;
    }
    let skillScore = 0;
    if (q.cfg.strategy === 'best-skill-match') {
      const skills = new Set(reqs.map((r) => r.skill));
      for (const p of preferred) skills.add(p.skill);
      for (const s of skills) skillScore += a.skills[s] ?? 0;
    }
    const idx = q.memberIndex.get(a.id);
    return {
      id: a.id,
      lastIdleSince: a.lastIdleSince,
      occupancy: cap === 0 ? 1 : load / cap,
      skillScore,
      memberIndex: idx ?? Number.MAX_SAFE_INTEGER,
    };
  }

  /** Offers (or, with auto-accept, assigns) a detached item to an agent who has room. */
  private deliver(it: ItemRec, a: AgentRec, q: QueueRec): void {
    a.load[it.channel]++;
    a.lastIdleSince = this.now;
    it.agentId = a.id;
    const idx = q.memberIndex.get(a.id);
    if (idx !== undefined) q.rrLastIndex = idx;
    if (q.cfg.autoAccept?.[it.channel]) {
      it.state = 'assigned';
      a.items.add(it.id);
      this.emit({ type: 'assigned', at: this.now, itemId: it.id, queueId: q.cfg.id, agentId: a.id, via: 'auto-accept' });
    } else {
      const offerId = `${it.id}~${++this.offerSeq}`;
      it.state = 'offered';
      it.offerId = offerId;
      it.offerExpiresAt = this.now + (q.cfg.offerTimeoutSeconds ?? DEFAULT_OFFER_TIMEOUT_S) * 1000;
      a.offers.add(offerId);
      this.offers.set(offerId, it);
      this.schedule(it.offerExpiresAt, 'offer', offerId, '', 0);
      this.emit({ type: 'offer', at: this.now, itemId: it.id, queueId: q.cfg.id, agentId: a.id, offerId, expiresAt: it.offerExpiresAt });
    }
    this.refreshReady(a);
  }

  private assignDirect(it: ItemRec, a: AgentRec, via: AssignVia): void {
    a.load[it.channel]++;
    a.lastIdleSince = this.now;
    a.items.add(it.id);
    it.state = 'assigned';
    it.agentId = a.id;
    this.emit({ type: 'assigned', at: this.now, itemId: it.id, queueId: it.queueId, agentId: a.id, via });
    this.refreshReady(a);
  }

  /** Directed work (transfer, force assign, manual pick) still respects skills, tenant and capacity. */
  private checkDirected(it: ItemRec, a: AgentRec, opts: { needConnection: boolean }): void {
    const ctx = { itemId: it.id, agentId: a.id };
    if (a.tenantId !== it.tenantId) throw new RoutingError(RoutingErrorCodes.TENANT_MISMATCH, `Agent ${a.id} belongs to another tenant`, ctx);
    if (a.presence === 'offline' || (opts.needConnection && a.connections === 0)) {
      throw new RoutingError(RoutingErrorCodes.AGENT_UNAVAILABLE, `Agent ${a.id} is offline`, ctx);
    }
    const q = this.queues.get(it.queueId)!;
    const reqs = this.effectiveReqs(q, it, it.ring);
    if (!hasSkills(a, reqs)) {
      throw new RoutingError(RoutingErrorCodes.AGENT_LACKS_SKILL, `Agent ${a.id} lacks a skill item ${it.id} requires`, { ...ctx, requiredSkills: reqs });
    }
    if (!hasSpareCapacity(a.capacity, a.blockedBy, a.load, it.channel)) {
      throw new RoutingError(RoutingErrorCodes.NO_CAPACITY, `Agent ${a.id} has no ${it.channel} capacity left`, { ...ctx, channel: it.channel });
    }
  }

  // ================================================================ offers

  private openOfferOrThrow(offerId: string, agentId: string): ItemRec {
    const it = this.offers.get(offerId);
    if (!it) {
      const closed = this.closedOffers.get(offerId);
      if (!closed) throw new RoutingError(RoutingErrorCodes.OFFER_NOT_FOUND, `Offer ${offerId} does not exist`, { offerId, agentId });
      if (closed.agentId !== agentId) {
        throw new RoutingError(RoutingErrorCodes.NOT_OFFERED_TO_AGENT, `Offer ${offerId} was not made to agent ${agentId}`, { offerId, agentId });
      }
      if (closed.status === 'accepted') {
        throw new RoutingError(RoutingErrorCodes.ALREADY_ACCEPTED, `Offer ${offerId} was already accepted`, { offerId, agentId, itemId: closed.itemId });
      }
      if (closed.status === 'expired') {
        throw new RoutingError(RoutingErrorCodes.OFFER_EXPIRED, `Offer ${offerId} expired`, { offerId, agentId, itemId: closed.itemId });
      }
      throw new RoutingError(RoutingErrorCodes.OFFER_CLOSED, `Offer ${offerId} was ${closed.status}`, { offerId, agentId, itemId: closed.itemId, status: closed.status });
    }
    if (it.agentId !== agentId) {
      throw new RoutingError(RoutingErrorCodes.NOT_OFFERED_TO_AGENT, `Offer ${offerId} was not made to agent ${agentId}`, { offerId, agentId });
    }
    if (this.now >= it.offerExpiresAt!) {
      // The tick that expires it may not have run yet; the answer must not depend on that.
      throw new RoutingError(RoutingErrorCodes.OFFER_EXPIRED, `Offer ${offerId} expired at ${it.offerExpiresAt}`, { offerId, agentId, itemId: it.id });
    }
    return it;
  }

  private closeOffer(it: ItemRec, a: AgentRec, status: ClosedOffer['status']): void {
    const offerId = it.offerId!;
    this.offers.delete(offerId);
    a.offers.delete(offerId);
    a.load[it.channel]--;
    this.rememberClosedOffer(offerId, { status, agentId: a.id, itemId: it.id });
    it.offerId = null;
    it.offerExpiresAt = null;
    it.agentId = null;
  }

  private revokeOffer(it: ItemRec, a: AgentRec, reason: OfferRevokeReason & RequeueReason): void {
    this.emit({ type: 'offerRevoked', at: this.now, itemId: it.id, agentId: a.id, offerId: it.offerId!, reason });
    this.closeOffer(it, a, 'revoked');
    this.requeue(it, reason, a.id);
  }

  private rememberClosedOffer(offerId: string, c: ClosedOffer): void {
    this.closedOffers.set(offerId, c);
    if (this.closedOffers.size > CLOSED_OFFER_MEMORY) {
      this.closedOffers.delete(this.closedOffers.keys().next().value!);
    }
  }

  private exclude(it: ItemRec, a: AgentRec, q: QueueRec = this.queues.get(it.queueId)!): void {
    const until = this.now + (q.cfg.declineCooldownSeconds ?? DEFAULT_DECLINE_COOLDOWN_S) * 1000;
    it.excluded.set(a.id, until);
    this.schedule(until, 'exclusion', it.id, a.id, 0);
  }

  // ================================================================ agents

  private insertAgent(input: AgentInput, now: number): AgentRec {
    validateAgentConfig(input);
    const presence = input.presence ?? 'offline';
    if (!['available', 'busy', 'away', 'offline', 'not-ready', 'wrap-up'].includes(presence)) {
      throw new RoutingError(RoutingErrorCodes.INVALID_CONFIG, `Agent ${input.id}: unknown presence ${presence}`, { agentId: input.id });
    }
    const connections = input.connections ?? 1;
    if (!Number.isInteger(connections) || connections < 0) {
      throw new RoutingError(RoutingErrorCodes.INVALID_CONFIG, `Agent ${input.id}: connections must be a whole number >= 0`, { agentId: input.id });
    }
    const blocking = clone(input.blocking ?? DEFAULT_BLOCKING);
    const a: AgentRec = {
      id: input.id,
      tenantId: input.tenantId,
      skills: { ...input.skills },
      skillNames: Object.keys(input.skills),
      capacity: { ...input.capacity },
      blocking,
      blockedBy: invertBlocking(blocking),
      presence,
      notReadyReason: input.notReadyReason ?? null,
      wrapUpUntil: null,
      connections,
      connectionsByNode: new Map(connections > 0 ? [['', connections]] : []),
      graceUntil: null,
      lastIdleSince: now,
      load: emptyLoad(),
      offers: new Set(),
      items: new Set(),
      access: new Map(),
      ready: new Set(),
    };
    this.agents.set(a.id, a);
    for (const q of this.queues.values()) {
      const level = q.access.get(a.id);
      if (level !== undefined && q.cfg.tenantId === a.tenantId) this.grantAccess(a, q, level);
    }
    return a;
  }

  private grantAccess(a: AgentRec, q: QueueRec, level: number): void {
    a.access.set(q.cfg.id, level);
    for (const ch of a.ready) q.ready[ch].add(a);
    this.matchAgent(a);
  }

  private revokeAccess(a: AgentRec, q: QueueRec): void {
    a.access.delete(q.cfg.id);
    for (const ch of CHANNELS) q.ready[ch].delete(a);
  }

  /** `alsoRequeued`: items the caller just requeued, settled together with the revoked offers. */
  private setPresence(a: AgentRec, to: AgentPresence, reason: AgentStateReason, notReadyReason: string | null, alsoRequeued: ItemRec[] = []): void {
    const from = a.presence;
    a.presence = to;
    a.notReadyReason = to === 'not-ready' ? notReadyReason : null;
    if (to !== 'wrap-up') a.wrapUpUntil = null;
    this.emit({ type: 'agentStateChanged', at: this.now, agentId: a.id, from, to, reason });
    if (to === 'available') {
      if (from !== 'available') a.lastIdleSince = this.now;
      this.refreshReady(a);
      this.matchAgent(a);
      return;
    }
    if (to === 'wrap-up') {
      this.refreshReady(a);
      return;
    }
    // Not ready any more: pending offers go back to their queues.
    const revokeReason = to === 'offline' ? 'agent-offline' : 'agent-unavailable';
    const requeued: ItemRec[] = [...alsoRequeued];
    for (const offerId of [...a.offers].sort()) {
      const it = this.offers.get(offerId)!;
      this.revokeOffer(it, a, revokeReason);
      requeued.push(it);
    }
    this.refreshReady(a);
    this.settleRequeued(requeued);
  }

  /** Keeps the per-queue, per-channel sets of agents who can take one more item in sync. */
  private refreshReady(a: AgentRec): void {
    const routable = a.presence === 'available' && a.connections > 0 && this.agents.get(a.id) === a;
    for (const ch of CHANNELS) {
      const want = routable && hasSpareCapacity(a.capacity, a.blockedBy, a.load, ch);
      if (want === a.ready.has(ch)) continue;
      if (want) a.ready.add(ch);
      else a.ready.delete(ch);
      for (const qid of a.access.keys()) {
        const set = this.queues.get(qid)!.ready[ch];
        if (want) set.add(a);
        else set.delete(a);
      }
    }
  }

  // ================================================================ queues and classes

  private makeQueue(cfg: QueueConfig): QueueRec {
    const rings = cfg.bullseye ?? [];
    const lowerAt = [0];
    for (const r of rings) lowerAt.push(lowerAt[lowerAt.length - 1]! + (r.lowerRequiredLevelsBy ?? 0));
    const dropIdx = rings.findIndex((r) => r.dropPreferredSkills);
    const accessAt = [0];
    rings.forEach((r, i) => accessAt.push(r.addQueueMembers?.length ? i + 1 : accessAt[i]!));
    const access = new Map<string, number>();
    const memberIndex = new Map<string, number>();
    cfg.members.forEach((id, i) => {
      access.set(id, 0);
      memberIndex.set(id, i);
    });
    rings.forEach((r, i) => {
      for (const id of r.addQueueMembers ?? []) {
        if (!access.has(id)) {
          access.set(id, i + 1);
          memberIndex.set(id, memberIndex.size);
        }
      }
    });
    return {
      cfg,
      weight: cfg.priorityWeightSeconds ?? DEFAULT_PRIORITY_WEIGHT_S,
      ringAfterMs: rings.map((r) => r.afterSeconds * 1000),
      accessAt,
      lowerAt,
      // Preferred skills are required until the first ring that drops them; with no such ring
      // they only steer best-skill-match.
      dropRing: dropIdx < 0 ? -1 : dropIdx + 1,
      access,
      memberIndex,
      classes: new Map(),
      openByChannel: new Map(),
      reservedByAgent: new Map(),
      ready: { chat: new Set(), email: new Set(), sms: new Set(), social: new Set(), voice: new Set(), task: new Set() },
      waiting: 0,
      rrLastIndex: -1,
      openCache: null,
    };
  }

  private ringsReached(q: QueueRec, it: ItemRec): number {
    const waited = this.now - it.enqueuedAt;
    let r = 0;
    while (r < q.ringAfterMs.length && q.ringAfterMs[r]! <= waited) r++;
    return r;
  }

  private effectiveReqs(q: QueueRec, it: ItemRec, ring: number): SkillRequirement[] {
    let reqs = mergeReqs(q.cfg.requiredSkills ?? [], it.required);
    if (q.dropRing >= 0 && ring < q.dropRing) reqs = mergeReqs(reqs, it.preferred);
    const lower = q.lowerAt[Math.min(ring, q.lowerAt.length - 1)]!;
    return reqs.map((r) => ({ skill: r.skill, minLevel: Math.max(1, r.minLevel - lower) })).sort((a, b) => (a.skill < b.skill ? -1 : 1));
  }

  private priorityOf(it: ItemRec): number {
    return it.basePriority + it.ruleBoost + it.escalationBoost;
  }

  private placeWaiting(it: ItemRec): void {
    const q = this.queues.get(it.queueId)!;
    const reqs = this.effectiveReqs(q, it, it.ring);
    // Items whose rings differ only in ways already reflected in `reqs` share a class.
    const access = q.accessAt[Math.min(it.ring, q.accessAt.length - 1)]!;
    const id = `${it.channel}|${access}|${reqs.map((r) => `${r.skill}:${r.minLevel}`).join(',')}|${it.reservedFor ?? ''}`;
    let cls = q.classes.get(id);
    if (!cls) {
      cls = {
        id,
        queue: q,
        channel: it.channel,
        ring: access,
        reqs,
        reservedFor: it.reservedFor,
        heap: new IndexedHeap<ItemRec>(itemBefore),
        restricted: new Set(),
        feasibility: null,
      };
      q.classes.set(id, cls);
      if (cls.reservedFor === null) {
        let bySkill = q.openByChannel.get(cls.channel);
        if (!bySkill) q.openByChannel.set(cls.channel, (bySkill = new Map()));
        const skillKey = reqs[0]?.skill ?? '';
        let set = bySkill.get(skillKey);
        if (!set) bySkill.set(skillKey, (set = new Set()));
        set.add(cls);
      } else {
        let set = q.reservedByAgent.get(cls.reservedFor);
        if (!set) q.reservedByAgent.set(cls.reservedFor, (set = new Set()));
        set.add(cls);
      }
    }
    it.cls = cls;
    it.key = priorityKey(this.priorityOf(it), q.weight, it.waitingSince);
    if (it.excluded.size > 0) cls.restricted.add(it);
    else cls.heap.push(it);
    q.waiting++;
  }

  private unplaceWaiting(it: ItemRec): void {
    const cls = it.cls;
    if (!cls) return;
    if (cls.heap.has(it)) cls.heap.remove(it);
    else cls.restricted.delete(it);
    it.cls = null;
    const q = cls.queue;
    q.waiting--;
    if (cls.heap.size === 0 && cls.restricted.size === 0) {
      q.classes.delete(cls.id);
      if (cls.reservedFor === null) {
        const bySkill = q.openByChannel.get(cls.channel)!;
        const skillKey = cls.reqs[0]?.skill ?? '';
        const set = bySkill.get(skillKey)!;
        set.delete(cls);
        if (set.size === 0) bySkill.delete(skillKey);
        if (bySkill.size === 0) q.openByChannel.delete(cls.channel);
      } else {
        const set = q.reservedByAgent.get(cls.reservedFor)!;
        set.delete(cls);
        if (set.size === 0) q.reservedByAgent.delete(cls.reservedFor);
      }
    }
  }

  /** Re-files a waiting item after its ring, reservation, exclusions or priority changed. */
  private refile(it: ItemRec): void {
    this.unplaceWaiting(it);
    this.placeWaiting(it);
  }

  private isQueueOpen(q: QueueRec): boolean {
    const hours = q.cfg.businessHours;
    if (!hours) return true;
    const c = q.openCache;
    if (c && c.from <= this.now && (c.until === null || this.now < c.until)) return c.open;
    const s = openStateAt(hours, this.now);
    q.openCache = { open: s.open, from: this.now, until: s.until };
    return s.open;
  }

  /**
   * Whether any agent could ever take the item in its current ring (ignoring presence and
   * load). Emits `unroutable` once per reason per queue visit when not. Cached per class.
   */
  private checkFeasible(it: ItemRec): boolean {
    const cls = it.cls!;
    if (!cls.feasibility || cls.feasibility.version !== this.rosterVersion) {
      cls.feasibility = { version: this.rosterVersion, reason: this.structuralReason(cls) };
    }
    const reason = cls.feasibility.reason;
    if (reason === null) return true;
    this.reportUnroutable(it, cls.queue, reason, false);
    return false;
  }

  private structuralReason(cls: ItemClass): UnroutableReason | null {
    const q = cls.queue;
    let members = 0;
    let skilled = 0;
    for (const [agentId, level] of q.access) {
      if (level > cls.ring) continue;
      if (cls.reservedFor !== null && agentId !== cls.reservedFor) continue;
      const a = this.agents.get(agentId);
      if (!a || a.tenantId !== q.cfg.tenantId) continue;
      members++;
      if (!hasSkills(a, cls.reqs)) continue;
      skilled++;
      if ((a.capacity[cls.channel] ?? 0) > 0) return null;
    }
    if (members === 0) return 'no-queue-members';
    if (skilled === 0) return 'no-agent-with-required-skills';
    return 'no-agent-with-channel-capacity';
  }

  private reportUnroutable(it: ItemRec, q: QueueRec, reason: UnroutableReason, always: boolean): void {
    if (!always && it.reported.has(reason)) return;
    it.reported.add(reason);
    this.emit({ type: 'unroutable', at: this.now, itemId: it.id, queueId: q.cfg.id, reason });
  }

  // ================================================================ timers

  private schedule(at: number, kind: TimerKind, ref: string, sub: string, epoch: number): void {
    this.timers.push({ at, kind, ref, sub, epoch });
  }

  /** Timers that matter while an item waits in `q`. Duplicates are harmless: handlers are idempotent. */
  private scheduleWaitingTimers(it: ItemRec, q: QueueRec): void {
    for (let r = it.ring; r < q.ringAfterMs.length; r++) this.schedule(it.enqueuedAt + q.ringAfterMs[r]!, 'ring', it.id, '', it.epoch);
    if (it.reserveUntil !== null) this.schedule(it.reserveUntil, 'pref', it.id, '', it.epoch);
    if (q.cfg.maxWait && it.maxWaitHandledEpoch !== it.epoch) this.schedule(it.enqueuedAt + q.cfg.maxWait.seconds * 1000, 'maxwait', it.id, '', it.epoch);
    for (const rule of q.cfg.priorityRules ?? []) {
      const w = rule.when.waitedSeconds;
      if (w !== undefined && w > 0 && !it.appliedRules.has(rule.id)) this.schedule(it.enqueuedAt + w * 1000, 'rule', it.id, rule.id, it.epoch);
    }
  }

  private scheduleSlaTimers(it: ItemRec): void {
    for (const [clock, c] of Object.entries(it.sla) as [SlaClockKind, SlaClock][]) {
      if (!c.warned && c.warnAt < c.dueAt) this.schedule(c.warnAt, 'sla-warn', it.id, clock, 0);
      if (!c.breached) this.schedule(c.dueAt, 'sla-due', it.id, clock, 0);
    }
  }

  private startSlaClock(it: ItemRec, clock: SlaClockKind): void {
    const q = this.queues.get(it.slaQueueId ?? it.queueId);
    const policy = q?.cfg.sla;
    if (!q || !policy) return;
    const due = computeSlaDue(policy, clock, this.now, this.priorityOf(it), q.cfg.businessHours);
    if (!due) return;
    const c: SlaClock = { startedAt: due.startedAt, warnAt: due.warnAt, dueAt: due.dueAt, warned: false, breached: false };
    it.sla[clock] = c;
    this.scheduleSlaTimers(it);
  }

  private fire(t: Timer): void {
    switch (t.kind) {
      case 'offer': {
        const it = this.offers.get(t.ref);
        if (!it || it.offerExpiresAt !== t.at) return;
        const a = this.agents.get(it.agentId!)!;
        const q = this.queues.get(it.queueId)!;
        this.emit({ type: 'offerExpired', at: this.now, itemId: it.id, agentId: a.id, offerId: t.ref });
        this.closeOffer(it, a, 'expired');
        this.exclude(it, a);
        this.requeue(it, 'offer-timeout', a.id);
        if (q.cfg.setAwayOnOfferTimeout && a.presence === 'available') {
          this.setPresence(a, 'away', 'offer-timeout', null, [it]);
          return;
        }
        this.refreshReady(a);
        this.settleRequeued([it]);
        this.matchAgent(a);
        return;
      }
      case 'exclusion': {
        const it = this.items.get(t.ref);
        if (!it || it.excluded.get(t.sub) !== t.at) return;
        it.excluded.delete(t.sub);
        if (it.state === 'waiting' && it.excluded.size === 0) {
          this.refile(it);
          if (!this.matchItem(it)) this.checkFeasible(it);
        } else if (it.state === 'waiting') {
          // Still restricted for others, but this agent may take it now.
          const a = this.agents.get(t.sub);
          if (a) this.matchAgent(a);
        }
        return;
      }
      case 'grace': {
        const a = this.agents.get(t.ref);
        if (!a || a.graceUntil !== t.at || a.connections > 0) return;
        a.graceUntil = null;
        if (a.presence !== 'offline') this.setPresence(a, 'offline', 'disconnect-grace-expired', null);
        return;
      }
      case 'wrapup': {
        const a = this.agents.get(t.ref);
        if (!a || a.presence !== 'wrap-up' || a.wrapUpUntil !== t.at) return;
        this.setPresence(a, 'available', 'wrap-up-ended', null);
        return;
      }
      case 'ring': {
        const it = this.items.get(t.ref);
        if (!it || it.epoch !== t.epoch || it.state !== 'waiting') return;
        const q = this.queues.get(it.queueId)!;
        const ring = this.ringsReached(q, it);
        if (ring === it.ring) return;
        it.ring = ring;
        this.refile(it);
        if (!this.matchItem(it)) this.checkFeasible(it);
        return;
      }
      case 'pref': {
        const it = this.items.get(t.ref);
        if (!it || it.epoch !== t.epoch || it.reserveUntil !== t.at) return;
        it.reservedFor = null;
        it.reserveUntil = null;
        if (it.state !== 'waiting') return;
        this.refile(it);
        if (!this.matchItem(it)) this.checkFeasible(it);
        return;
      }
      case 'rule': {
        const it = this.items.get(t.ref);
        if (!it || it.epoch !== t.epoch || it.state !== 'waiting' || it.appliedRules.has(t.sub)) return;
        const q = this.queues.get(it.queueId)!;
        const rule = q.cfg.priorityRules?.find((r) => r.id === t.sub);
        if (!rule || !ruleConditionsHold(rule, it)) return;
        const from = this.priorityOf(it);
        it.appliedRules.add(rule.id);
        it.ruleBoost += rule.raiseBy;
        this.refile(it);
        this.emit({ type: 'priorityChanged', at: this.now, itemId: it.id, from, to: this.priorityOf(it), reason: `rule:${rule.id}` });
        return;
      }
      case 'maxwait': {
        const it = this.items.get(t.ref);
        if (!it || it.epoch !== t.epoch || it.state !== 'waiting' || it.maxWaitHandledEpoch === it.epoch) return;
        this.handleMaxWait(it, this.queues.get(it.queueId)!);
        return;
      }
      case 'sla-warn':
      case 'sla-due': {
        const it = this.items.get(t.ref);
        const clock = t.sub as SlaClockKind;
        const c = it?.sla[clock];
        if (!it || !c) return;
        const policy = this.queues.get(it.slaQueueId ?? it.queueId)?.cfg.sla;
        if (t.kind === 'sla-warn') {
          if (c.warned || c.warnAt !== t.at) return;
          c.warned = true;
          this.emit({ type: 'slaWarning', at: this.now, itemId: it.id, clock, dueAt: c.dueAt });
          this.escalate(it, clock, policy?.onWarning ?? []);
        } else {
          if (c.breached || c.dueAt !== t.at) return;
          c.breached = true;
          c.warned = true;
          this.emit({ type: 'slaBreached', at: this.now, itemId: it.id, clock, dueAt: c.dueAt });
          this.escalate(it, clock, policy?.onBreach ?? []);
        }
        return;
      }
    }
  }

  private handleMaxWait(it: ItemRec, q: QueueRec): void {
    const mw = q.cfg.maxWait!;
    it.maxWaitHandledEpoch = it.epoch;
    this.emit({ type: 'maxWaitExceeded', at: this.now, itemId: it.id, queueId: q.cfg.id, action: clone(mw.action) });
    this.exitVia(it, q, mw.action, 'max-wait', [], true);
  }

  private escalate(it: ItemRec, clock: SlaClockKind, actions: EscalationAction[]): void {
    for (const action of actions) {
      if (this.items.get(it.id) !== it) return;
      this.emit({ type: 'escalated', at: this.now, itemId: it.id, clock, action: clone(action) });
      if (action.kind === 'raise-priority') {
        const from = this.priorityOf(it);
        it.escalationBoost += action.by;
        if (it.state === 'waiting') this.refile(it);
        this.emit({ type: 'priorityChanged', at: this.now, itemId: it.id, from, to: this.priorityOf(it), reason: `sla:${clock}` });
      } else if (action.kind === 'move-queue' && it.state === 'waiting' && it.queueId !== action.queueId) {
        const q = this.queues.get(it.queueId)!;
        this.exitVia(it, q, { kind: 'overflow', queueId: action.queueId }, 'sla-escalation', [], true);
      }
    }
  }

  // ================================================================ lookups and views

  private emit(d: Decision): void {
    this.out.push(d);
  }

  private queueOrThrow(queueId: string): QueueRec {
    const q = this.queues.get(queueId);
    if (!q) throw new RoutingError(RoutingErrorCodes.UNKNOWN_QUEUE, `Unknown queue ${queueId}`, { queueId });
    return q;
  }

  private agentOrThrow(agentId: string): AgentRec {
    const a = this.agents.get(agentId);
    if (!a) throw new RoutingError(RoutingErrorCodes.UNKNOWN_AGENT, `Unknown agent ${agentId}`, { agentId });
    return a;
  }

  private itemOrThrow(itemId: string): ItemRec {
    const it = this.items.get(itemId);
    if (!it) throw new RoutingError(RoutingErrorCodes.UNKNOWN_ITEM, `Unknown item ${itemId}`, { itemId });
    return it;
  }

  private itemView(it: ItemRec): ItemView {
    return {
      id: it.id,
      tenantId: it.tenantId,
      queueId: it.queueId,
      channel: it.channel,
      state: it.state,
      basePriority: it.basePriority,
      priority: this.priorityOf(it),
      waitingSince: it.waitingSince,
      enqueuedAt: it.enqueuedAt,
      ring: it.ring,
      requiredSkills: clone(it.required),
      preferredSkills: clone(it.preferred),
      reservedFor: it.reservedFor,
      agentId: it.agentId,
      offerId: it.offerId,
      offerExpiresAt: it.offerExpiresAt,
      excludedAgents: Object.fromEntries(it.excluded),
    };
  }

  private agentView(a: AgentRec): AgentView {
    const load: Partial<Record<Channel, number>> = {};
    for (const ch of CHANNELS) if (a.load[ch] > 0) load[ch] = a.load[ch];
    return {
      id: a.id,
      tenantId: a.tenantId,
      presence: a.presence,
      notReadyReason: a.notReadyReason,
      wrapUpUntil: a.wrapUpUntil,
      connections: a.connections,
      graceUntil: a.graceUntil,
      lastIdleSince: a.lastIdleSince,
      skills: { ...a.skills },
      capacity: { ...a.capacity },
      blocking: clone(a.blocking),
      load,
      offerIds: [...a.offers].sort(),
      itemIds: [...a.items].sort(),
    };
  }
}
