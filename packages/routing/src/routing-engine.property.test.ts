import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRoutingError } from './errors.ts';
import { agentCouldTake, checkInvariants } from './invariants.ts';
import { priorityKey } from './priority.ts';
import { RoutingEngine } from './routing-engine.ts';
import type { AgentInput, Channel, Decision, ItemView, QueueConfig, RoutingEvent } from './types.ts';

const T0 = Date.UTC(2025, 2, 3, 15, 0, 0); // a Monday, 09:00 in Mexico City
const AGENTS = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
const CHANNELS_USED: Channel[] = ['chat', 'email', 'voice', 'sms'];
const QUEUE_IDS = ['q1', 'q2', 'q3', 'q4'];

const queues: QueueConfig[] = [
  {
    id: 'q1',
    tenantId: 't1',
    strategy: 'longest-idle',
    members: ['a1', 'a2', 'a3', 'a4'],
    offerTimeoutSeconds: 20,
    bullseye: [
      { afterSeconds: 30, dropPreferredSkills: true },
      { afterSeconds: 60, lowerRequiredLevelsBy: 1 },
      { afterSeconds: 120, addQueueMembers: ['a5'] },
    ],
    priorityRules: [{ id: 'waited', when: { waitedSeconds: 90 }, raiseBy: 2 }, { id: 'vip', when: { label: 'vip' }, raiseBy: 3 }],
  },
  {
    id: 'q2',
    tenantId: 't1',
    strategy: 'round-robin',
    members: ['a3', 'a4', 'a5', 'a6'],
    maxWait: { seconds: 200, action: { kind: 'overflow', queueId: 'q1' } },
    lastAgentPreferenceSeconds: 20,
    declineCooldownSeconds: 15,
    wrapUpSeconds: 10,
  },
  {
    id: 'q3',
    tenantId: 't1',
    strategy: 'best-skill-match',
    members: ['a1', 'a5', 'a6'],
    requiredSkills: [{ skill: 'es', minLevel: 2 }],
    autoAccept: { chat: true },
    setAwayOnOfferTimeout: true,
    maxQueueSize: { size: 3, action: { kind: 'overflow', queueId: 'q2' } },
    sla: { id: 's', targets: [{ firstResponseSeconds: 60, resolutionSeconds: 300 }], warnBeforeSeconds: 20, onBreach: [{ kind: 'raise-priority', by: 1 }] },
  },
  {
    id: 'q4',
    tenantId: 't1',
    strategy: 'least-occupied',
    members: ['a2', 'a6'],
    businessHours: {
      timeZone: 'America/Mexico_City',
      weekly: { mon: [{ start: '09:00', end: '09:05' }, { start: '09:10', end: '09:20' }], tue: [{ start: '00:00', end: '24:00' }] },
    },
    outOfHoursAction: { kind: 'overflow', queueId: 'q3' },
    maxWait: { seconds: 100, action: { kind: 'voicemail' } },
  },
];

const skillArb = fc.record({ es: fc.integer({ min: 0, max: 5 }).map((n) => (n === 0 ? 0 : Math.max(n, 2))), en: fc.integer({ min: 0, max: 5 }) });
const capArb = fc.record({ chat: fc.integer({ min: 0, max: 3 }).map((n) => Math.max(n, 1)), email: fc.integer({ min: 0, max: 2 }), voice: fc.integer({ min: 0, max: 1 }), sms: fc.integer({ min: 0, max: 1 }) });

function agentInput(id: string, skills: { es: number; en: number }, capacity: Record<string, number>, presence: AgentInput['presence']): AgentInput {
  const s: Record<string, number> = {};
  if (skills.es > 0) s.es = skills.es;
  if (skills.en > 0) s.en = skills.en;
  return { id, tenantId: 't1', skills: s, capacity, presence };
}

const reqArb = fc.option(fc.record({ skill: fc.constantFrom('es', 'en'), minLevel: fc.integer({ min: 1, max: 5 }) }), { nil: undefined });

type Op =
  | { k: 'arrive'; q: number; ch: number; prio: number; req?: { skill: string; minLevel: number }; pref?: { skill: string; minLevel: number }; last?: number; vip: boolean }
  | { k: 'tick'; dt: number }
  | { k: 'state'; a: number; p: number }
  | { k: 'conn'; a: number; up: boolean; node: number }
  | { k: 'nodeLost'; node: number }
  | { k: 'recount'; a: number; node: number; count: number }
  | { k: 'accept' | 'decline'; n: number; wrongAgent: boolean }
  | { k: 'complete'; n: number }
  | { k: 'transfer'; n: number; toQueue: boolean; target: number }
  | { k: 'force' | 'pick'; n: number; a: number }
  | { k: 'update'; a: number; skills: { es: number; en: number }; cap: Record<string, number> }
  | { k: 'remove'; a: number }
  | { k: 'reprioritize'; n: number; prio: number; vip: boolean }
  | { k: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('arrive' as const), q: fc.nat(3), ch: fc.nat(3), prio: fc.integer({ min: 0, max: 3 }), req: reqArb, pref: reqArb, last: fc.option(fc.nat(5), { nil: undefined }), vip: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 1, max: 45_000 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('state' as const), a: fc.nat(5), p: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('conn' as const), a: fc.nat(5), up: fc.boolean(), node: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('nodeLost' as const), node: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('recount' as const), a: fc.nat(5), node: fc.nat(2), count: fc.nat(3) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('accept' as const), n: fc.nat(20), wrongAgent: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('decline' as const), n: fc.nat(20), wrongAgent: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('complete' as const), n: fc.nat(30) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('transfer' as const), n: fc.nat(30), toQueue: fc.boolean(), target: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('force' as const), n: fc.nat(30), a: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('pick' as const), n: fc.nat(30), a: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('update' as const), a: fc.nat(5), skills: skillArb, cap: capArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), a: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reprioritize' as const), n: fc.nat(30), prio: fc.integer({ min: 0, max: 3 }), vip: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ k: 'restart' as const }) },
);

const PRESENCES = ['available', 'available', 'away', 'offline', 'busy'] as const;

interface World {
  now: number;
  nextItem: number;
}

/** Turns an abstract op into a concrete event against the engine's current state (or null: skip). */
function toEvents(op: Op, engine: RoutingEngine, w: World): RoutingEvent[] {
  const items = engine.listItems().sort((a, b) => (a.id < b.id ? -1 : 1));
  const offered = items.filter((i) => i.state === 'offered');
  const agentIds = engine.listAgents().map((a) => a.id).sort();
  const pickAgent = (n: number) => agentIds[n % Math.max(1, agentIds.length)] ?? 'a1';
  const now = w.now;
  switch (op.k) {
    case 'arrive': {
      const id = `i${++w.nextItem}`;
      return [
        {
          type: 'arrive',
          now,
          item: {
            id,
            tenantId: 't1',
            queueId: QUEUE_IDS[op.q]!,
            channel: CHANNELS_USED[op.ch]!,
            priority: op.prio,
            requiredSkills: op.req ? [op.req] : [],
            preferredSkills: op.pref ? [op.pref] : [],
            lastAgentId: op.last === undefined ? undefined : AGENTS[op.last],
            labels: op.vip ? ['vip'] : [],
          },
        },
      ];
    }
    case 'tick': {
      // Tick one instant at a time, as a server waking at nextWakeAt would.
      const target = now + op.dt;
      const evs: RoutingEvent[] = [];
      w.now = target;
      evs.push({ type: 'tick', now: target });
      return evs;
    }
    case 'state':
      return [{ type: 'agentStateChange', now, agentId: pickAgent(op.a), presence: PRESENCES[op.p]! }];
    case 'conn':
      return [{ type: op.up ? 'agentConnected' : 'agentDisconnected', now, agentId: pickAgent(op.a), nodeId: `n${op.node}` }];
    case 'nodeLost':
      return [{ type: 'nodeLost', now, nodeId: `n${op.node}` }];
    case 'recount':
      return [{ type: 'agentConnections', now, agentId: pickAgent(op.a), nodeId: `n${op.node}`, count: op.count }];
    case 'accept':
    case 'decline': {
      const o = offered[op.n % Math.max(1, offered.length)];
      if (!o) return [{ type: op.k, now, offerId: `nope~${op.n}`, agentId: 'a1' }];
      const agentId = op.wrongAgent ? (o.agentId === 'a1' ? 'a2' : 'a1') : o.agentId!;
      return [{ type: op.k, now, offerId: o.offerId!, agentId }];
    }
    case 'complete': {
      const it = items[op.n % Math.max(1, items.length)];
      return it ? [{ type: 'complete', now, itemId: it.id }] : [];
    }
    case 'transfer': {
      const it = items[op.n % Math.max(1, items.length)];
      if (!it) return [];
      return [{ type: 'transfer', now, itemId: it.id, to: op.toQueue ? { queueId: QUEUE_IDS[op.target % 4]! } : { agentId: pickAgent(op.target) } }];
    }
    case 'force':
    case 'pick': {
      const it = items[op.n % Math.max(1, items.length)];
      if (!it) return [];
      return [{ type: op.k === 'force' ? 'forceAssign' : 'manualPick', now, itemId: it.id, agentId: pickAgent(op.a) }];
    }
    case 'update': {
      const id = pickAgent(op.a);
      const base = agentInput(id, op.skills, op.cap, undefined);
      return [{ type: 'updateAgent', now, agent: { id, tenantId: 't1', skills: base.skills, capacity: base.capacity } }];
    }
    case 'remove':
      return agentIds.length > 2 ? [{ type: 'removeAgent', now, agentId: pickAgent(op.a) }] : [];
    case 'reprioritize': {
      const it = items[op.n % Math.max(1, items.length)];
      return it ? [{ type: 'updateItem', now, itemId: it.id, priority: op.prio, labels: op.vip ? ['vip'] : [] }] : [];
    }
    case 'restart':
      return [];
  }
}

const DIRECTED = new Set(['transfer', 'forceAssign', 'manualPick']);

/**
 * Score order: a routing choice (offer or auto-accept) of item i to agent A in queue Q is wrong
 * when an item j of Q that waited before the event and still waits scores higher and A could
 * have taken it instead. Eligibility of j is judged on its state before the event (so widening
 * that happened later in the same event does not count).
 */
function orderViolations(before: Map<string, ItemView>, engine: RoutingEngine, event: RoutingEvent, decisions: Decision[]): string[] {
  const out: string[] = [];
  const queues = new Map(engine.listQueues().map((q) => [q.id, q]));
  const after = new Map(engine.listItems().map((i) => [i.id, i]));
  const keyOf = (v: ItemView) => priorityKey(v.priority, queues.get(v.queueId)?.priorityWeightSeconds ?? 60, v.waitingSince);
  const routed = decisions.filter(
    (d): d is Extract<Decision, { type: 'offer' | 'assigned' }> =>
      (d.type === 'offer' || (d.type === 'assigned' && d.via === 'auto-accept')) &&
      !(DIRECTED.has(event.type) && 'itemId' in event && event.itemId === d.itemId),
  );
  for (const d of routed) {
    const agent = engine.getAgent(d.agentId);
    const iNow = after.get(d.itemId);
    if (!agent || !iNow || iNow.agentId !== d.agentId || iNow.queueId !== d.queueId) continue;
    const iKey = keyOf(before.get(d.itemId) ?? iNow);
    const q = queues.get(d.queueId)!;
    for (const jPre of before.values()) {
      const jPost = after.get(jPre.id);
      if (jPre.state !== 'waiting' || jPost?.state !== 'waiting' || jPre.queueId !== d.queueId || jPost.queueId !== d.queueId) continue;
      const jKey = keyOf(jPre);
      if (jKey <= iKey) continue;
      // A's load at the moment: everything routed to A in this event after j's turn is not counted.
      const load = { ...agent.load };
      for (const other of routed) {
        if (other.agentId !== agent.id) continue;
        const o = after.get(other.itemId);
        if (o && o.agentId === agent.id && keyOf(before.get(o.id) ?? o) < jKey) load[o.channel] = (load[o.channel] ?? 1) - 1;
      }
      if (agentCouldTake({ ...agent, presence: 'available', connections: 1 }, { ...jPre, excludedAgents: { ...jPre.excludedAgents, ...jPost.excludedAgents } }, q, load)) {
        out.push(`${d.itemId} (key ${iKey}) routed to ${agent.id} while ${jPre.id} (key ${jKey}) waited in ${q.id}`);
      }
    }
  }
  return out;
}

describe('routing engine properties', () => {
  it('keeps every invariant after every event, and a restored engine behaves like the original', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(skillArb, capArb, fc.constantFrom<AgentInput['presence']>('available', 'available', 'away', 'offline')), { minLength: 6, maxLength: 6 }),
        fc.array(opArb, { minLength: 1, maxLength: 70 }),
        fc.integer({ min: 0, max: 86_400_000 }),
        (agentSpecs, ops, startOffset) => {
          const agents = agentSpecs.map(([s, c, p], i) => agentInput(AGENTS[i]!, s, c, p));
          const config = { queues, agents, disconnectGraceSeconds: 25 };
          const steady = new RoutingEngine(config);
          let restarted = new RoutingEngine(config);
          const w: World = { now: T0 + startOffset, nextItem: 0 };
          for (const op of ops) {
            if (op.k === 'restart') {
              const snap = JSON.parse(JSON.stringify(restarted.snapshot()));
              restarted = RoutingEngine.restore(snap);
              expect(restarted.snapshot()).toEqual(snap);
              continue;
            }
            for (const ev of toEvents(op, restarted, w)) {
              const before = new Map(restarted.listItems().map((i) => [i.id, i]));
              const r1 = run(steady, ev);
              const r2 = run(restarted, ev);
              expect(r2, `event ${JSON.stringify(ev)}`).toEqual(r1);
              expect(checkInvariants(restarted), `after ${JSON.stringify(ev)}`).toEqual([]);
              expect(checkInvariants(steady)).toEqual([]);
              if (Array.isArray(r2)) expect(orderViolations(before, restarted, ev, r2), `after ${JSON.stringify(ev)}`).toEqual([]);
              assertEveryOfferEnds(restarted);
            }
          }
        },
      ),
      { numRuns: Number(process.env.ROUTING_PROPERTY_RUNS ?? 1000) },
    );
  }, 120_000);
});

function run(engine: RoutingEngine, ev: RoutingEvent): Decision[] | { error: string } {
  try {
    return engine.apply(ev);
  } catch (err) {
    if (!isRoutingError(err)) throw err;
    return { error: err.code };
  }
}

/** No item is lost from view: every item is waiting in a known queue, offered, or assigned. */
function assertEveryOfferEnds(engine: RoutingEngine): void {
  for (const it of engine.listItems()) {
    expect(['waiting', 'offered', 'assigned']).toContain(it.state);
    if (it.state === 'offered') expect(it.offerExpiresAt).toBeGreaterThan(0);
  }
}
