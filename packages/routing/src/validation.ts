import { validateBusinessHours } from './business-hours.ts';
import { isChannel, validateBlocking, validateCapacity } from './capacity.ts';
import { RoutingError, RoutingErrorCodes, type RoutingErrorCode } from './errors.ts';
import { validateSlaPolicy } from './sla.ts';
import type { AgentConfig, QueueConfig, QueueExitAction, SkillRequirement, StrategyName, WorkItemInput } from './types.ts';

const STRATEGY_NAMES: readonly StrategyName[] = ['longest-idle', 'least-occupied', 'round-robin', 'best-skill-match'];

function fail(message: string, context: Record<string, unknown>): never {
  throw new RoutingError(RoutingErrorCodes.INVALID_CONFIG, message, context);
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function nonNegative(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

export function validateSkillRequirements(reqs: unknown, where: string, code: RoutingErrorCode = RoutingErrorCodes.INVALID_CONFIG): SkillRequirement[] {
  if (reqs === undefined) return [];
  if (!Array.isArray(reqs)) throw new RoutingError(code, `${where}: skills must be an array`, { where });
  for (const r of reqs as Partial<SkillRequirement>[]) {
    if (!isId(r?.skill) || !Number.isInteger(r.minLevel) || r.minLevel! < 1 || r.minLevel! > 5) {
      throw new RoutingError(code, `${where}: each skill needs a name and a minLevel 1–5`, { where, requirement: r });
    }
  }
  return reqs as SkillRequirement[];
}

function validateExitAction(a: unknown, where: string): QueueExitAction {
  const act = a as Partial<QueueExitAction> | null;
  switch (act?.kind) {
    case 'offline-form':
    case 'voicemail':
      return act as QueueExitAction;
    case 'overflow':
      if (!isId((act as { queueId?: unknown }).queueId)) fail(`${where}: overflow needs a queueId`, { where });
      return act as QueueExitAction;
    case 'close':
      if (typeof (act as { message?: unknown }).message !== 'string') fail(`${where}: close needs a message`, { where });
      return act as QueueExitAction;
    default:
      return fail(`${where}: action kind must be offline-form, voicemail, overflow or close`, { where });
  }
}

/** Checks one queue on its own; cross-queue references are checked by {@link validateQueueReferences}. */
export function validateQueueConfig(q: QueueConfig): QueueConfig {
  const where = `queue ${String(q?.id)}`;
  if (!isId(q?.id) || !isId(q.tenantId)) fail(`${where}: id and tenantId are required`, { queueId: q?.id });
  if (!STRATEGY_NAMES.includes(q.strategy)) fail(`${where}: unknown strategy ${String(q.strategy)}`, { queueId: q.id });
  if (!Array.isArray(q.members) || !q.members.every(isId)) fail(`${where}: members must be agent ids`, { queueId: q.id });
  if (new Set(q.members).size !== q.members.length) fail(`${where}: duplicate member`, { queueId: q.id });
  validateSkillRequirements(q.requiredSkills, where);
  if (q.businessHours !== undefined) validateBusinessHours(q.businessHours);
  if (q.outOfHoursAction !== undefined) validateExitAction(q.outOfHoursAction, `${where}.outOfHoursAction`);
  if (q.maxWait !== undefined) {
    if (!(nonNegative(q.maxWait.seconds) && q.maxWait.seconds > 0)) fail(`${where}: maxWait.seconds must be > 0`, { queueId: q.id });
    validateExitAction(q.maxWait.action, `${where}.maxWait.action`);
  }
  if (q.maxQueueSize !== undefined) {
    if (!Number.isInteger(q.maxQueueSize.size) || q.maxQueueSize.size < 0) fail(`${where}: maxQueueSize.size must be a whole number >= 0`, { queueId: q.id });
    validateExitAction(q.maxQueueSize.action, `${where}.maxQueueSize.action`);
  }
  if (q.offerTimeoutSeconds !== undefined && !(nonNegative(q.offerTimeoutSeconds) && q.offerTimeoutSeconds > 0)) {
    fail(`${where}: offerTimeoutSeconds must be > 0`, { queueId: q.id });
  }
  for (const f of ['declineCooldownSeconds', 'priorityWeightSeconds', 'lastAgentPreferenceSeconds', 'wrapUpSeconds'] as const) {
    if (q[f] !== undefined && !nonNegative(q[f])) fail(`${where}: ${f} must be >= 0`, { queueId: q.id });
  }
  if (q.autoAccept !== undefined) {
    for (const ch of Object.keys(q.autoAccept)) if (!isChannel(ch)) fail(`${where}: autoAccept has unknown channel ${ch}`, { queueId: q.id });
  }
  let prev = -1;
  for (const [i, ring] of (q.bullseye ?? []).entries()) {
    if (!nonNegative(ring.afterSeconds) || ring.afterSeconds < prev) {
      fail(`${where}: bullseye[${i}].afterSeconds must be >= 0 and rings in ascending order`, { queueId: q.id });
    }
    prev = ring.afterSeconds;
    if (ring.lowerRequiredLevelsBy !== undefined && !(Number.isInteger(ring.lowerRequiredLevelsBy) && ring.lowerRequiredLevelsBy >= 0)) {
      fail(`${where}: bullseye[${i}].lowerRequiredLevelsBy must be a whole number >= 0`, { queueId: q.id });
    }
    if (ring.addQueueMembers !== undefined && !(Array.isArray(ring.addQueueMembers) && ring.addQueueMembers.every(isId))) {
      fail(`${where}: bullseye[${i}].addQueueMembers must be agent ids`, { queueId: q.id });
    }
  }
  const ruleIds = new Set<string>();
  for (const r of q.priorityRules ?? []) {
    if (!isId(r.id) || ruleIds.has(r.id)) fail(`${where}: priority rules need unique ids`, { queueId: q.id, ruleId: r.id });
    ruleIds.add(r.id);
    if (typeof r.raiseBy !== 'number' || !Number.isFinite(r.raiseBy)) fail(`${where}: rule ${r.id} raiseBy must be a number`, { queueId: q.id });
    if (r.when?.channel !== undefined && !isChannel(r.when.channel)) fail(`${where}: rule ${r.id} has unknown channel`, { queueId: q.id });
    if (r.when?.waitedSeconds !== undefined && !nonNegative(r.when.waitedSeconds)) fail(`${where}: rule ${r.id} waitedSeconds must be >= 0`, { queueId: q.id });
  }
  if (q.sla !== undefined) validateSlaPolicy(q.sla);
  return q;
}

/** Overflow and SLA move-queue targets must exist and belong to the same tenant. */
export function validateQueueReferences(q: QueueConfig, lookup: (id: string) => QueueConfig | undefined): void {
  const targets: string[] = [];
  for (const a of [q.outOfHoursAction, q.maxWait?.action, q.maxQueueSize?.action]) if (a?.kind === 'overflow') targets.push(a.queueId);
  for (const a of [...(q.sla?.onWarning ?? []), ...(q.sla?.onBreach ?? [])]) if (a.kind === 'move-queue') targets.push(a.queueId);
  for (const t of targets) {
    const target = lookup(t);
    if (!target) throw new RoutingError(RoutingErrorCodes.UNKNOWN_QUEUE, `Queue ${q.id} overflows to unknown queue ${t}`, { queueId: q.id, targetQueueId: t });
    if (target.tenantId !== q.tenantId) {
      throw new RoutingError(RoutingErrorCodes.TENANT_MISMATCH, `Queue ${q.id} overflows to queue ${t} of another tenant`, { queueId: q.id, targetQueueId: t });
    }
  }
}

export function validateAgentConfig(a: AgentConfig): AgentConfig {
  if (!isId(a?.id) || !isId(a.tenantId)) fail('agent: id and tenantId are required', { agentId: a?.id });
  if (typeof a.skills !== 'object' || a.skills === null) fail(`agent ${a.id}: skills must be an object`, { agentId: a.id });
  for (const [skill, level] of Object.entries(a.skills)) {
    if (!Number.isInteger(level) || level < 1 || level > 5) fail(`agent ${a.id}: skill ${skill} level must be 1–5`, { agentId: a.id, skill });
  }
  validateCapacity(a.capacity, a.id);
  if (a.blocking !== undefined) validateBlocking(a.blocking, a.id);
  return a;
}

export function validateWorkItem(item: WorkItemInput): WorkItemInput {
  const bad = (message: string): never => {
    throw new RoutingError(RoutingErrorCodes.INVALID_EVENT, message, { itemId: item?.id });
  };
  if (!isId(item?.id) || !isId(item.tenantId) || !isId(item.queueId)) bad('item: id, tenantId and queueId are required');
  if (!isChannel(item.channel)) bad(`item ${item.id}: unknown channel ${String(item.channel)}`);
  if (item.priority !== undefined && !(typeof item.priority === 'number' && Number.isFinite(item.priority))) bad(`item ${item.id}: priority must be a finite number`);
  validateSkillRequirements(item.requiredSkills, `item ${item.id}`, RoutingErrorCodes.INVALID_EVENT);
  validateSkillRequirements(item.preferredSkills, `item ${item.id}`, RoutingErrorCodes.INVALID_EVENT);
  if (item.labels !== undefined && !(Array.isArray(item.labels) && item.labels.every((l) => typeof l === 'string'))) bad(`item ${item.id}: labels must be strings`);
  return item;
}
