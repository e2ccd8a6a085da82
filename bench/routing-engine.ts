/**
 * Routing engine benchmark: 5,000 agents, 200 queues, 50,000 waiting items, then a random
 * stream of arrivals, completions, accepts, presence changes and ticks. Reports decisions/s
 * and per-event latency, and compares with a naive router (scans every agent and waiting item
 * on each event) on a smaller sample.
 *
 *   node --import tsx bench/routing-engine.ts
 */
import { pathToFileURL } from 'node:url';
import { RoutingEngine, type AgentInput, type Channel, type QueueConfig, type RoutingEvent, type StrategyName } from '@parley/routing';

export interface RoutingBenchOptions {
  agents?: number;
  queues?: number;
  waiting?: number;
  events?: number;
  naiveAgents?: number;
  naiveQueues?: number;
  naiveWaiting?: number;
  naiveEvents?: number;
  seed?: number;
}

const SKILLS = Array.from({ length: 20 }, (_, i) => `s${i}`);
const STRATEGIES: StrategyName[] = ['longest-idle', 'least-occupied', 'round-robin', 'best-skill-match'];
const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);

/** Small deterministic PRNG (mulberry32) so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Workload {
  queues: QueueConfig[];
  agents: AgentInput[];
  item(i: number): { queueId: string; channel: Channel; priority: number; skill: string | null };
}

function buildWorkload(nAgents: number, nQueues: number, rand: () => number): Workload {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const members: string[][] = Array.from({ length: nQueues }, () => []);
  const agents: AgentInput[] = [];
  for (let i = 0; i < nAgents; i++) {
    const id = `a${i}`;
    const skills: Record<string, number> = {};
    for (let k = 0; k < 4; k++) skills[pick(SKILLS)] = 1 + Math.floor(rand() * 5);
    agents.push({ id, tenantId: 't1', skills, capacity: { chat: 2 + Math.floor(rand() * 2), email: 1 + Math.floor(rand() * 2), voice: 1 }, presence: 'available' });
    for (let k = 0; k < 5; k++) {
      const q = members[Math.floor(rand() * nQueues)]!;
      if (!q.includes(id)) q.push(id);
    }
  }
  const queues: QueueConfig[] = members.map((m, i) => ({
    id: `q${i}`,
    tenantId: 't1',
    strategy: STRATEGIES[i % STRATEGIES.length]!,
    members: m,
    offerTimeoutSeconds: 30,
    bullseye: i % 3 === 0 ? [{ afterSeconds: 30, lowerRequiredLevelsBy: 1 }, { afterSeconds: 90, lowerRequiredLevelsBy: 2 }] : undefined,
    priorityRules: [{ id: 'vip', when: { attribute: { key: 'tier', equals: 'vip' } }, raiseBy: 5 }],
  }));
  const channels: Channel[] = ['chat', 'chat', 'chat', 'email', 'email', 'voice'];
  return {
    queues,
    agents,
    item: () => ({
      queueId: `q${Math.floor(rand() * nQueues)}`,
      channel: pick(channels),
      priority: Math.floor(rand() * 4),
      skill: rand() < 0.5 ? pick(SKILLS) : null,
    }),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

// ---------------------------------------------------------------- the engine under load

function benchEngine(nAgents: number, nQueues: number, nWaiting: number, nEvents: number, seed: number) {
  const rand = rng(seed);
  const w = buildWorkload(nAgents, nQueues, rand);
  const engine = new RoutingEngine({ queues: w.queues, agents: w.agents });
  let now = T0;
  let nextId = 0;
  const offers: { offerId: string; agentId: string }[] = [];
  const assigned: string[] = [];
  const arrive = (): RoutingEvent => {
    const s = w.item(nextId);
    return {
      type: 'arrive',
      now,
      item: {
        id: `w${nextId++}`,
        tenantId: 't1',
        queueId: s.queueId,
        channel: s.channel,
        priority: s.priority,
        requiredSkills: s.skill ? [{ skill: s.skill, minLevel: 1 + Math.floor(rand() * 3) }] : [],
        attributes: rand() < 0.05 ? { tier: 'vip' } : {},
      },
    };
  };
  const collect = (decisions: ReturnType<RoutingEngine['apply']>) => {
    for (const d of decisions) {
      if (d.type === 'offer') offers.push({ offerId: d.offerId, agentId: d.agentId });
      else if (d.type === 'assigned') assigned.push(d.itemId);
    }
  };

  // Fill: agents take what fits (accepted at once), the rest waits.
  const fillStart = process.hrtime.bigint();
  while (engine.listQueues().length > 0) {
    let waiting = 0;
    for (const q of w.queues) waiting += engine.waitingCount(q.id);
    if (waiting >= nWaiting) break;
    for (let k = 0; k < 1000; k++) {
      now += 1;
      collect(engine.apply(arrive()));
      // A server ticks continuously; without this the first tick of the stream would carry
      // the whole fill's backlog of ring timers.
      if (k % 100 === 0) collect(engine.apply({ type: 'tick', now }));
    }
    for (const o of offers.splice(0)) collect(engine.apply({ type: 'accept', now, offerId: o.offerId, agentId: o.agentId }));
  }
  const fillMs = Number(process.hrtime.bigint() - fillStart) / 1e6;
  let waitingAtStart = 0;
  for (const q of w.queues) waitingAtStart += engine.waitingCount(q.id);

  // Stream.
  const lat = new Float64Array(nEvents);
  let decisions = 0;
  const awayAgents: string[] = [];
  const start = process.hrtime.bigint();
  for (let e = 0; e < nEvents; e++) {
    now += 2;
    const r = rand();
    let ev: RoutingEvent;
    if (r < 0.3) ev = arrive();
    else if (r < 0.55 && assigned.length > 0) {
      const idx = Math.floor(rand() * assigned.length);
      const itemId = assigned[idx]!;
      assigned[idx] = assigned[assigned.length - 1]!;
      assigned.pop();
      ev = { type: 'complete', now, itemId };
    } else if (r < 0.8 && offers.length > 0) {
      const o = offers.shift()!;
      ev = rand() < 0.9 ? { type: 'accept', now, offerId: o.offerId, agentId: o.agentId } : { type: 'decline', now, offerId: o.offerId, agentId: o.agentId };
    } else if (r < 0.95) {
      if (awayAgents.length > 20 || (awayAgents.length > 0 && rand() < 0.5)) {
        ev = { type: 'agentStateChange', now, agentId: awayAgents.shift()!, presence: 'available' };
      } else {
        const agentId = `a${Math.floor(rand() * nAgents)}`;
        awayAgents.push(agentId);
        ev = { type: 'agentStateChange', now, agentId, presence: 'away' };
      }
    } else ev = { type: 'tick', now };
    const t0 = process.hrtime.bigint();
    let out: ReturnType<RoutingEngine['apply']>;
    try {
      out = engine.apply(ev);
    } catch {
      out = []; // e.g. an offer revoked when its agent went away; the stream is random
    }
    lat[e] = Number(process.hrtime.bigint() - t0) / 1e3; // µs
    decisions += out.length;
    collect(out);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  lat.sort();
  return {
    fillMs,
    waitingAtStart,
    events: nEvents,
    decisions,
    seconds,
    eventsPerSec: nEvents / seconds,
    decisionsPerSec: decisions / seconds,
    p50us: percentile(lat, 0.5),
    p99us: percentile(lat, 0.99),
    maxUs: lat[lat.length - 1]!,
  };
}

// ---------------------------------------------------------------- naive baseline

/**
 * The obvious router: on every event, scan all agents for ones with room and, for each, scan
 * all waiting items for the best one it may take. Same matching rules, no indexes.
 */
class NaiveRouter {
  private readonly agents: { id: string; skills: Record<string, number>; cap: Record<string, number>; load: Record<string, number>; available: boolean; idle: number; queues: Set<string> }[];
  private readonly waiting: { id: string; queueId: string; channel: Channel; score: number; skill: string | null; level: number }[] = [];
  private readonly held = new Map<string, { agent: number; channel: Channel }>();

  constructor(w: Workload) {
    const byAgent = new Map<string, Set<string>>();
    for (const q of w.queues) for (const m of q.members) (byAgent.get(m) ?? byAgent.set(m, new Set()).get(m)!).add(q.id);
    this.agents = w.agents.map((a) => ({
      id: a.id,
      skills: a.skills,
      cap: a.capacity as Record<string, number>,
      load: { chat: 0, email: 0, voice: 0 },
      available: true,
      idle: 0,
      queues: byAgent.get(a.id) ?? new Set(),
    }));
  }

  private fits(a: NaiveRouter['agents'][number], it: NaiveRouter['waiting'][number]): boolean {
    if (!a.available || !a.queues.has(it.queueId)) return false;
    if ((a.load[it.channel] ?? 0) >= (a.cap[it.channel] ?? 0) || (it.channel !== 'voice' && a.load.voice! > 0)) return false;
    return it.skill === null || (a.skills[it.skill] ?? 0) >= it.level;
  }

  /** Full rematch: every agent with room takes the best waiting item it fits. */
  private rematch(now: number): number {
    let decisions = 0;
    for (let ai = 0; ai < this.agents.length; ai++) {
      const a = this.agents[ai]!;
      for (;;) {
        let best = -1;
        for (let i = 0; i < this.waiting.length; i++) {
          const it = this.waiting[i]!;
          if (this.fits(a, it) && (best < 0 || it.score > this.waiting[best]!.score)) best = i;
        }
        if (best < 0) break;
        const it = this.waiting[best]!;
        this.waiting[best] = this.waiting[this.waiting.length - 1]!;
        this.waiting.pop();
        a.load[it.channel] = (a.load[it.channel] ?? 0) + 1;
        a.idle = now;
        this.held.set(it.id, { agent: ai, channel: it.channel });
        decisions++;
      }
    }
    return decisions;
  }

  enqueue(ev: { id: string; queueId: string; channel: Channel; priority: number; skill: string | null; level: number; now: number }): void {
    this.waiting.push({ id: ev.id, queueId: ev.queueId, channel: ev.channel, score: ev.priority * 60_000 - ev.now, skill: ev.skill, level: ev.level });
  }

  settle(now: number): number {
    return this.rematch(now);
  }

  apply(ev: { type: 'arrive'; id: string; queueId: string; channel: Channel; priority: number; skill: string | null; level: number; now: number } | { type: 'complete'; id: string; now: number } | { type: 'state'; agent: number; available: boolean; now: number }): number {
    if (ev.type === 'arrive') this.enqueue(ev);
    else if (ev.type === 'complete') {
      const h = this.held.get(ev.id);
      if (h) {
        this.held.delete(ev.id);
        this.agents[h.agent]!.load[h.channel]!--;
      }
    } else this.agents[ev.agent]!.available = ev.available;
    return 1 + this.rematch(ev.now);
  }

  heldIds(): string[] {
    return [...this.held.keys()];
  }

  waitingCount(): number {
    return this.waiting.length;
  }
}

function benchNaive(nAgents: number, nQueues: number, nWaiting: number, nEvents: number, seed: number) {
  const rand = rng(seed);
  const w = buildWorkload(nAgents, nQueues, rand);
  const naive = new NaiveRouter(w);
  let now = T0;
  let nextId = 0;
  const arrive = () => {
    const s = w.item(nextId);
    return { type: 'arrive' as const, id: `w${nextId++}`, ...s, level: 1 + Math.floor(rand() * 3), now };
  };
  // Fill without per-arrival rematch (that alone would take minutes), then settle once.
  while (naive.waitingCount() < nWaiting) {
    for (let k = 0; k < 1000; k++) naive.enqueue(arrive());
    naive.settle(now);
  }
  const lat = new Float64Array(nEvents);
  let decisions = 0;
  const start = process.hrtime.bigint();
  for (let e = 0; e < nEvents; e++) {
    now += 2;
    const r = rand();
    const held = r >= 0.3 && r < 0.7 ? naive.heldIds() : [];
    const ev =
      r < 0.3
        ? arrive()
        : held.length > 0
          ? { type: 'complete' as const, id: held[Math.floor(rand() * held.length)]!, now }
          : { type: 'state' as const, agent: Math.floor(rand() * nAgents), available: rand() < 0.5, now };
    const t0 = process.hrtime.bigint();
    decisions += naive.apply(ev);
    lat[e] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  lat.sort();
  return { events: nEvents, decisions, seconds, eventsPerSec: nEvents / seconds, decisionsPerSec: decisions / seconds, p50us: percentile(lat, 0.5), p99us: percentile(lat, 0.99) };
}

// ---------------------------------------------------------------- entry points

export async function runRoutingEngineBench(opts: RoutingBenchOptions = {}): Promise<Record<string, number>> {
  const o = {
    agents: 5_000,
    queues: 200,
    waiting: 50_000,
    events: 100_000,
    naiveAgents: 500,
    naiveQueues: 20,
    naiveWaiting: 5_000,
    naiveEvents: 60,
    seed: 42,
    ...opts,
  };
  const full = benchEngine(o.agents, o.queues, o.waiting, o.events, o.seed);
  const small = benchEngine(o.naiveAgents, o.naiveQueues, o.naiveWaiting, Math.max(o.naiveEvents, 20_000), o.seed);
  const naive = benchNaive(o.naiveAgents, o.naiveQueues, o.naiveWaiting, o.naiveEvents, o.seed);
  return {
    agents: o.agents,
    queues: o.queues,
    waitingAtStart: full.waitingAtStart,
    fillMs: Math.round(full.fillMs),
    events: full.events,
    decisions: full.decisions,
    eventsPerSec: Math.round(full.eventsPerSec),
    decisionsPerSec: Math.round(full.decisionsPerSec),
    p50us: round(full.p50us),
    p99us: round(full.p99us),
    maxUs: round(full.maxUs),
    smallAgents: o.naiveAgents,
    smallQueues: o.naiveQueues,
    smallWaiting: small.waitingAtStart,
    smallEngineEventsPerSec: Math.round(small.eventsPerSec),
    smallEngineP99us: round(small.p99us),
    naiveEventsPerSec: Math.round(naive.eventsPerSec),
    naiveP50us: round(naive.p50us),
    naiveP99us: round(naive.p99us),
    speedupVsNaive: round(small.eventsPerSec / naive.eventsPerSec),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Runs the benchmark and prints its figures, ending with one JSON line. */
export async function main() {
  const result = await runRoutingEngineBench();
  console.log(`routing engine: ${result.agents} agents, ${result.queues} queues, ${result.waitingAtStart} waiting`);
  console.log(`  ${result.decisionsPerSec} decisions/s, ${result.eventsPerSec} events/s, p50 ${result.p50us} µs, p99 ${result.p99us} µs per event`);
  console.log(`  naive baseline (${result.smallAgents} agents, ${result.smallWaiting} waiting): ${result.naiveEventsPerSec} events/s vs engine ${result.smallEngineEventsPerSec} events/s → ×${result.speedupVsNaive}`);
  console.log(JSON.stringify(result));
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
