import type { BusinessHours } from './business-hours.ts';
import type { SlaPolicy, SlaClockKind, EscalationAction } from './sla.ts';
import type { PriorityRule } from './priority.ts';

export const CHANNELS = ['chat', 'email', 'sms', 'social', 'voice', 'task'] as const;
export type Channel = (typeof CHANNELS)[number];

export type StrategyName = 'longest-idle' | 'least-occupied' | 'round-robin' | 'best-skill-match';

/** Manual presence of an agent. `wrap-up` is entered by the engine after `complete`. */
export type AgentPresence = 'available' | 'busy' | 'away' | 'offline' | 'not-ready' | 'wrap-up';

export interface SkillRequirement {
  skill: string;
  /** 1–5 */
  minLevel: number;
}

/** What happens to an item a queue cannot take (closed, full, waited too long). */
export type QueueExitAction =
  | { kind: 'offline-form' }
  | { kind: 'voicemail' }
  | { kind: 'overflow'; queueId: string }
  | { kind: 'close'; message: string };

/**
 * One ring of the bullseye: once an item has waited `afterSeconds` in the queue, its target
 * set widens. Rings are cumulative.
 */
export interface BullseyeRing {
  afterSeconds: number;
  /** Preferred skills stop being required (before the first such ring they are required). */
  dropPreferredSkills?: boolean;
  /** Every required level is lowered by this much (never below 1). */
  lowerRequiredLevelsBy?: number;
  /** Agents (of the same tenant) who become eligible in addition to the queue's members. */
  addQueueMembers?: string[];
}

export interface QueueConfig {
  id: string;
  tenantId: string;
  strategy: StrategyName;
  /** Agent ids, in round-robin order. */
  members: string[];
  /** Required of every item of the queue, merged with the item's own requirements. */
  requiredSkills?: SkillRequirement[];
  /** Absent: always open. */
  businessHours?: BusinessHours;
  /** Default `{ kind: 'offline-form' }`. */
  outOfHoursAction?: QueueExitAction;
  maxWait?: { seconds: number; action: QueueExitAction };
  /** Counts waiting items only (not offered or assigned ones). */
  maxQueueSize?: { size: number; action: QueueExitAction };
  /** Default 30. */
  offerTimeoutSeconds?: number;
  /** An agent who lets an offer time out is set `away`. Default false. */
  setAwayOnOfferTimeout?: boolean;
  /** Channels whose items are assigned without an offer. */
  autoAccept?: Partial<Record<Channel, boolean>>;
  /** An agent who declined (or let expire) an item is not offered it again for this long. Default 30. */
  declineCooldownSeconds?: number;
  bullseye?: BullseyeRing[];
  priorityRules?: PriorityRule[];
  /** One priority point is worth this many seconds of waiting. Default 60. */
  priorityWeightSeconds?: number;
  /** How long an item waits for its preferred or last agent before anyone may take it. Default 0. */
  lastAgentPreferenceSeconds?: number;
  /** Wrap-up after `complete`. Default 0 (none). */
  wrapUpSeconds?: number;
  sla?: SlaPolicy;
}

export interface AgentConfig {
  id: string;
  tenantId: string;
  /** skill → level 1–5 */
  skills: Record<string, number>;
  /** Concurrent items per channel; a missing channel or 0 means never offered that channel. */
  capacity: Partial<Record<Channel, number>>;
  /**
   * While the agent holds (offered or assigned) an item of the key channel, no new item of the
   * listed channels is offered. Default: {@link DEFAULT_BLOCKING} (a voice call blocks all else).
   */
  blocking?: Partial<Record<Channel, Channel[]>>;
}

export interface AgentInput extends AgentConfig {
  /** Default 'offline'. */
  presence?: AgentPresence;
  notReadyReason?: string;
  /** Open connections (devices). Default 1, so an agent added as available is routable. */
  connections?: number;
}

export interface WorkItemInput {
  id: string;
  tenantId: string;
  queueId: string;
  channel: Channel;
  /** Higher goes first. Default 0. */
  priority?: number;
  requiredSkills?: SkillRequirement[];
  preferredSkills?: SkillRequirement[];
  preferredAgentId?: string;
  lastAgentId?: string;
  labels?: string[];
  attributes?: Record<string, string | number | boolean>;
}

export interface EngineOptions {
  /** How long an agent with no connection keeps their state before going offline. Default 60. */
  disconnectGraceSeconds?: number;
}

export interface EngineConfig extends EngineOptions {
  queues: QueueConfig[];
  agents: AgentInput[];
}

// ---------------------------------------------------------------- events (data in)

export type TransferTarget = { agentId: string } | { queueId: string };

export type RoutingEvent =
  | { type: 'arrive'; now: number; item: WorkItemInput }
  | { type: 'tick'; now: number }
  | { type: 'agentStateChange'; now: number; agentId: string; presence: Exclude<AgentPresence, 'wrap-up'>; notReadyReason?: string }
  /** `nodeId`: the server node holding the connection (see nodeLost); '' when not given. */
  | { type: 'agentConnected'; now: number; agentId: string; nodeId?: string }
  | { type: 'agentDisconnected'; now: number; agentId: string; nodeId?: string }
  /** The node holds exactly `count` of the agent's connections (a node that counted them anew, e.g. after its lease lapsed). */
  | { type: 'agentConnections'; now: number; agentId: string; nodeId: string; count: number }
  /** A server node is gone: every connection it held is closed (agents left with none enter their grace period). */
  | { type: 'nodeLost'; now: number; nodeId: string }
  | { type: 'accept'; now: number; offerId: string; agentId: string }
  | { type: 'decline'; now: number; offerId: string; agentId: string }
  | { type: 'complete'; now: number; itemId: string; wrapUpSeconds?: number }
  | { type: 'transfer'; now: number; itemId: string; to: TransferTarget }
  | { type: 'forceAssign'; now: number; itemId: string; agentId: string }
  | { type: 'manualPick'; now: number; itemId: string; agentId: string }
  | { type: 'responded'; now: number; itemId: string }
  | { type: 'customerMessage'; now: number; itemId: string }
  /** A person changed the work's priority, labels or attributes: its place and its priority rules follow. */
  | { type: 'updateItem'; now: number; itemId: string; priority?: number; labels?: string[]; attributes?: Record<string, string | number | boolean> }
  | { type: 'addAgent'; now: number; agent: AgentInput }
  | { type: 'updateAgent'; now: number; agent: AgentConfig }
  | { type: 'removeAgent'; now: number; agentId: string }
  | { type: 'addQueue'; now: number; queue: QueueConfig }
  | { type: 'updateQueue'; now: number; queue: QueueConfig }
  | { type: 'rebalance'; now: number };

// ---------------------------------------------------------------- decisions (data out)

export type RequeueReason =
  | 'declined'
  | 'offer-timeout'
  | 'agent-unavailable'
  | 'agent-offline'
  | 'agent-removed'
  | 'agent-skills-changed'
  | 'agent-capacity-changed';

export type UnroutableReason =
  | 'no-queue-members'
  | 'no-agent-with-required-skills'
  | 'no-agent-with-channel-capacity'
  | 'overflow-loop';

export type OverflowReason = 'out-of-hours' | 'max-wait' | 'queue-full' | 'sla-escalation';

export type OfferRevokeReason =
  | 'agent-unavailable'
  | 'agent-offline'
  | 'agent-removed'
  | 'agent-skills-changed'
  | 'agent-capacity-changed'
  | 'item-removed'
  | 'force-assigned';

export type AssignVia = 'accept' | 'auto-accept' | 'force-assign' | 'manual-pick';

export type Decision =
  | { type: 'queued'; at: number; itemId: string; queueId: string; reason: 'no-available-agent' }
  | { type: 'offer'; at: number; itemId: string; queueId: string; agentId: string; offerId: string; expiresAt: number }
  | { type: 'assigned'; at: number; itemId: string; queueId: string; agentId: string; via: AssignVia; offerId?: string }
  | { type: 'offerExpired'; at: number; itemId: string; agentId: string; offerId: string }
  | { type: 'offerDeclined'; at: number; itemId: string; agentId: string; offerId: string }
  | { type: 'offerRevoked'; at: number; itemId: string; agentId: string; offerId: string; reason: OfferRevokeReason }
  | { type: 'requeued'; at: number; itemId: string; queueId: string; reason: RequeueReason; agentId: string }
  | { type: 'overflowed'; at: number; itemId: string; fromQueueId: string; toQueueId: string; reason: OverflowReason }
  | { type: 'outOfHours'; at: number; itemId: string; queueId: string; action: QueueExitAction; nextOpenAt: number | null }
  | { type: 'maxWaitExceeded'; at: number; itemId: string; queueId: string; action: QueueExitAction }
  | { type: 'queueFull'; at: number; itemId: string; queueId: string; action: QueueExitAction }
  | { type: 'unroutable'; at: number; itemId: string; queueId: string; reason: UnroutableReason }
  | { type: 'itemRemoved'; at: number; itemId: string; queueId: string; reason: 'completed' | 'exited' }
  | { type: 'released'; at: number; itemId: string; agentId: string; reason: 'completed' | 'transferred' | 'reassigned' }
  | { type: 'transferred'; at: number; itemId: string; fromAgentId: string | null; to: TransferTarget }
  | { type: 'priorityChanged'; at: number; itemId: string; from: number; to: number; reason: string }
  | { type: 'agentStateChanged'; at: number; agentId: string; from: AgentPresence; to: AgentPresence; reason: AgentStateReason }
  | { type: 'slaWarning'; at: number; itemId: string; clock: SlaClockKind; dueAt: number }
  | { type: 'slaBreached'; at: number; itemId: string; clock: SlaClockKind; dueAt: number }
  | { type: 'escalated'; at: number; itemId: string; clock: SlaClockKind; action: EscalationAction };

export type AgentStateReason = 'requested' | 'offer-timeout' | 'wrap-up-started' | 'wrap-up-ended' | 'disconnect-grace-expired';

export type DecisionType = Decision['type'];

// ---------------------------------------------------------------- read-only views

export type ItemState = 'waiting' | 'offered' | 'assigned';

export interface ItemView {
  id: string;
  tenantId: string;
  queueId: string;
  channel: Channel;
  state: ItemState;
  basePriority: number;
  priority: number;
  /** Time the item started waiting for this routing attempt (kept across requeue and overflow). */
  waitingSince: number;
  /** Time the item entered its current queue. */
  enqueuedAt: number;
  /** How many bullseye rings the item has reached in its current queue. */
  ring: number;
  requiredSkills: SkillRequirement[];
  preferredSkills: SkillRequirement[];
  /** Agent the item is reserved for during the preference window, if any. */
  reservedFor: string | null;
  agentId: string | null;
  offerId: string | null;
  offerExpiresAt: number | null;
  /** agentId → time until which that agent is not offered this item again. */
  excludedAgents: Record<string, number>;
}

export interface AgentView {
  id: string;
  tenantId: string;
  presence: AgentPresence;
  notReadyReason: string | null;
  wrapUpUntil: number | null;
  connections: number;
  graceUntil: number | null;
  lastIdleSince: number;
  skills: Record<string, number>;
  capacity: Partial<Record<Channel, number>>;
  blocking: Partial<Record<Channel, Channel[]>>;
  /** offered + assigned, per channel */
  load: Partial<Record<Channel, number>>;
  offerIds: string[];
  itemIds: string[];
}
