import { DEFAULT_BLOCKING } from './capacity.ts';
import type { RoutingEngine } from './routing-engine.ts';
import { CHANNELS, type AgentView, type Channel, type ItemView, type QueueConfig, type SkillRequirement } from './types.ts';

export interface InvariantViolation {
  rule: 'one-offer-per-item' | 'capacity' | 'skills' | 'stability' | 'bookkeeping';
  message: string;
}

/**
 * Requirements of an item at its current ring, derived from the queue config alone (written
 * apart from the engine's own index so the two check each other).
 */
export function requirementsAt(queue: QueueConfig, item: Pick<ItemView, 'requiredSkills' | 'preferredSkills' | 'ring'>): SkillRequirement[] {
  const rings = queue.bullseye ?? [];
  const levels = new Map<string, number>();
  const add = (r: SkillRequirement) => levels.set(r.skill, Math.max(levels.get(r.skill) ?? 0, r.minLevel));
  (queue.requiredSkills ?? []).forEach(add);
  item.requiredSkills.forEach(add);
  const dropAt = rings.findIndex((r) => r.dropPreferredSkills);
  if (dropAt >= 0 && item.ring <= dropAt) item.preferredSkills.forEach(add);
  let lower = 0;
  for (let i = 0; i < item.ring && i < rings.length; i++) lower += rings[i]!.lowerRequiredLevelsBy ?? 0;
  return [...levels].map(([skill, level]) => ({ skill, minLevel: Math.max(1, level - lower) }));
}

export function hasRequiredSkills(agent: Pick<AgentView, 'skills'>, reqs: readonly SkillRequirement[]): boolean {
  return reqs.every((r) => (agent.skills[r.skill] ?? 0) >= r.minLevel);
}

/** Whether the queue admits the agent at the item's ring (member, or added by a reached ring). */
export function queueAdmits(queue: QueueConfig, agentId: string, ring: number): boolean {
  if (queue.members.includes(agentId)) return true;
  const rings = queue.bullseye ?? [];
  for (let i = 0; i < ring && i < rings.length; i++) if (rings[i]!.addQueueMembers?.includes(agentId)) return true;
  return false;
}

export function spareCapacity(agent: Pick<AgentView, 'capacity' | 'blocking' | 'load'>, channel: Channel, load = agent.load): boolean {
  if ((load[channel] ?? 0) >= (agent.capacity[channel] ?? 0)) return false;
  for (const [held, blocked] of Object.entries(agent.blocking ?? DEFAULT_BLOCKING)) {
    if ((load[held as Channel] ?? 0) > 0 && blocked?.includes(channel)) return false;
  }
  return true;
}

/** Could the routing engine give this waiting item to this agent right now (ignoring load when `load` given)? */
export function agentCouldTake(agent: AgentView, item: ItemView, queue: QueueConfig, load = agent.load): boolean {
  return (
    agent.presence === 'available' &&
    agent.connections > 0 &&
    agent.tenantId === item.tenantId &&
    queueAdmits(queue, agent.id, item.ring) &&
    (item.reservedFor === null || item.reservedFor === agent.id) &&
    !(agent.id in item.excludedAgents) &&
    hasRequiredSkills(agent, requirementsAt(queue, item)) &&
    spareCapacity(agent, item.channel, load)
  );
}

/**
 * Checks the engine's state-based invariants: at most one open offer per item, no agent over
 * capacity, offers only to agents with the currently required skills, and stability — no
 * waiting item that an available agent with room could take. Returns [] when all hold.
 */
export function checkInvariants(engine: RoutingEngine): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  const items = engine.listItems();
  const agents = new Map(engine.listAgents().map((a) => [a.id, a]));
  const queues = new Map(engine.listQueues().map((q) => [q.id, q]));
  const offerOwners = new Map<string, string>();
  const held = new Map<string, Record<Channel, number>>();

  for (const it of items) {
    const q = queues.get(it.queueId);
    if (!q) {
      out.push({ rule: 'bookkeeping', message: `item ${it.id} in unknown queue ${it.queueId}` });
      continue;
    }
    if ((it.state === 'offered') !== (it.offerId !== null)) {
      out.push({ rule: 'one-offer-per-item', message: `item ${it.id} is ${it.state} with offerId ${String(it.offerId)}` });
    }
    if (it.offerId !== null) {
      if (offerOwners.has(it.offerId)) out.push({ rule: 'one-offer-per-item', message: `offer ${it.offerId} used twice` });
      offerOwners.set(it.offerId, it.id);
    }
    if (it.state === 'waiting') {
      if (it.agentId !== null) out.push({ rule: 'bookkeeping', message: `waiting item ${it.id} has agent ${it.agentId}` });
      continue;
    }
    const agent = it.agentId === null ? undefined : agents.get(it.agentId);
    if (!agent) {
      out.push({ rule: 'bookkeeping', message: `item ${it.id} is ${it.state} to missing agent ${String(it.agentId)}` });
      continue;
    }
    const h = held.get(agent.id) ?? Object.fromEntries(CHANNELS.map((c) => [c, 0])) as Record<Channel, number>;
    h[it.channel]++;
    held.set(agent.id, h);
    if (it.state === 'offered') {
      if (!agent.offerIds.includes(it.offerId!)) out.push({ rule: 'one-offer-per-item', message: `agent ${agent.id} does not know offer ${it.offerId}` });
      if (!hasRequiredSkills(agent, requirementsAt(q, it))) {
        out.push({ rule: 'skills', message: `item ${it.id} offered to ${agent.id} who lacks ${JSON.stringify(requirementsAt(q, it))}` });
      }
    } else if (!agent.itemIds.includes(it.id)) {
      out.push({ rule: 'bookkeeping', message: `agent ${agent.id} does not list assigned item ${it.id}` });
    }
  }

  for (const a of agents.values()) {
    for (const offerId of a.offerIds) {
      if (!offerOwners.has(offerId)) out.push({ rule: 'one-offer-per-item', message: `agent ${a.id} holds dangling offer ${offerId}` });
    }
    const h = held.get(a.id);
    for (const ch of CHANNELS) {
      const load = a.load[ch] ?? 0;
      if (load !== (h?.[ch] ?? 0)) out.push({ rule: 'bookkeeping', message: `agent ${a.id} ${ch} load ${load} but holds ${h?.[ch] ?? 0}` });
      if (load > (a.capacity[ch] ?? 0)) out.push({ rule: 'capacity', message: `agent ${a.id} over ${ch} capacity: ${load} > ${a.capacity[ch] ?? 0}` });
    }
  }

  for (const it of items) {
    if (it.state !== 'waiting') continue;
    const q = queues.get(it.queueId);
    if (!q) continue;
    for (const a of agents.values()) {
      if (agentCouldTake(a, it, q)) {
        out.push({ rule: 'stability', message: `waiting item ${it.id} (${q.id}) could go to ready agent ${a.id}` });
        break;
      }
    }
  }
  return out;
}
