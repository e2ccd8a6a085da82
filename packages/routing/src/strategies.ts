import type { SkillRequirement, StrategyName, Channel } from './types.ts';

/** What a strategy knows about one eligible agent with spare capacity. */
export interface StrategyCandidate {
  id: string;
  lastIdleSince: number;
  /** offered+assigned over total capacity, 0..1 */
  occupancy: number;
  /** Sum of the agent's levels in the item's required and preferred skills. */
  skillScore: number;
  /** Position in the queue's member list (ring-added agents come after members). */
  memberIndex: number;
}

export interface StrategyContext {
  queueId: string;
  item: { id: string; channel: Channel; requiredSkills: readonly SkillRequirement[]; preferredSkills: readonly SkillRequirement[] };
  /** Never empty. */
  candidates: readonly StrategyCandidate[];
  /** Member index of the queue's last assigned agent, -1 if none (round robin). */
  lastAssignedIndex: number;
  now: number;
}

/** A routing strategy picks one candidate; it is pure and deterministic. */
export interface RoutingStrategy {
  readonly name: StrategyName;
  select(ctx: StrategyContext): string | undefined;
}

function pick(candidates: readonly StrategyCandidate[], better: (a: StrategyCandidate, b: StrategyCandidate) => number): string | undefined {
  let best: StrategyCandidate | undefined;
  for (const c of candidates) {
    if (best === undefined || better(c, best) < 0) best = c;
  }
  return best?.id;
}

const byIdle = (a: StrategyCandidate, b: StrategyCandidate) =>
  a.lastIdleSince - b.lastIdleSince || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const longestIdle: RoutingStrategy = {
  name: 'longest-idle',
  select: (ctx) => pick(ctx.candidates, byIdle),
};

export const leastOccupied: RoutingStrategy = {
  name: 'least-occupied',
  select: (ctx) => pick(ctx.candidates, (a, b) => a.occupancy - b.occupancy || byIdle(a, b)),
};

export const roundRobin: RoutingStrategy = {
  name: 'round-robin',
  select(ctx) {
    // The next member after the last assigned one, wrapping around.
    const after = (c: StrategyCandidate) => (c.memberIndex > ctx.lastAssignedIndex ? 0 : 1);
    return pick(ctx.candidates, (a, b) => after(a) - after(b) || a.memberIndex - b.memberIndex);
  },
};

export const bestSkillMatch: RoutingStrategy = {
  name: 'best-skill-match',
  select: (ctx) => pick(ctx.candidates, (a, b) => b.skillScore - a.skillScore || byIdle(a, b)),
};

export const STRATEGIES: Readonly<Record<StrategyName, RoutingStrategy>> = {
  'longest-idle': longestIdle,
  'least-occupied': leastOccupied,
  'round-robin': roundRobin,
  'best-skill-match': bestSkillMatch,
};
