import { describe, expect, it } from 'vitest';
import { RoutingErrorCodes, type RoutingErrorCode } from './errors.ts';
import { checkInvariants } from './invariants.ts';
import { RoutingEngine } from './routing-engine.ts';
import type { AgentInput, Decision, QueueConfig, RoutingEvent, WorkItemInput } from './types.ts';

const T = Date.UTC(2025, 5, 2, 15, 0); // Monday

function agent(id: string, over: Partial<AgentInput> = {}): AgentInput {
  return { id, tenantId: 't1', skills: { es: 3 }, capacity: { chat: 1, email: 1, voice: 1 }, presence: 'available', ...over };
}

function queue(id: string, over: Partial<QueueConfig> = {}): QueueConfig {
  return { id, tenantId: 't1', strategy: 'longest-idle', members: [], offerTimeoutSeconds: 30, ...over };
}

function item(id: string, over: Partial<WorkItemInput> = {}): WorkItemInput {
  return { id, tenantId: 't1', queueId: 'q1', channel: 'chat', ...over };
}

/** Engine wrapper that checks the invariants after every event. */
function setup(queues: QueueConfig[], agents: AgentInput[]) {
  const engine = new RoutingEngine({ queues, agents, disconnectGraceSeconds: 30 });
  const apply = (ev: RoutingEvent): Decision[] => {
    const out = engine.apply(ev);
    expect(checkInvariants(engine)).toEqual([]);
    return out;
  };
  const arrive = (it: WorkItemInput, now = T) => apply({ type: 'arrive', now, item: it });
  const tick = (now: number) => apply({ type: 'tick', now });
  const offerOf = (ds: Decision[], itemId: string) => ds.find((d): d is Extract<Decision, { type: 'offer' }> => d.type === 'offer' && d.itemId === itemId);
  return { engine, apply, arrive, tick, offerOf };
}

function expectCode(fn: () => unknown, code: RoutingErrorCode) {
  expect(fn).toThrowError(expect.objectContaining({ code }));
}

const types = (ds: Decision[]) => ds.map((d) => d.type);

describe('strategies inside the engine', () => {
  it('longest idle offers to the agent idle longest', () => {
    const { engine, arrive, offerOf } = setup([queue('q1', { members: ['a1', 'a2'] })], []);
    engine.apply({ type: 'addAgent', now: T - 5000, agent: agent('a1') });
    engine.apply({ type: 'addAgent', now: T - 1000, agent: agent('a2') });
    // a1 became available first → idle longest
    expect(offerOf(arrive(item('i1')), 'i1')?.agentId).toBe('a1');
  });

  it('a snapshot without the closed offers is the same state otherwise', () => {
    const { engine, arrive, apply, offerOf } = setup([queue('q1', { members: ['a1'] })], [agent('a1')]);
    const o = offerOf(arrive(item('i1')), 'i1')!;
    apply({ type: 'accept', now: T + 1, offerId: o.offerId, agentId: 'a1' });
    const { closedOffers, ...rest } = engine.snapshot();
    expect(closedOffers.map(([id]) => id)).toEqual([o.offerId]);
    expect(engine.snapshot({ closedOffers: false })).toEqual({ ...rest, closedOffers: [] });
  });

  it('round robin rotates through members in order', () => {
    const { arrive, apply, offerOf } = setup([queue('q1', { strategy: 'round-robin', members: ['a1', 'a2', 'a3'] })], [agent('a1'), agent('a2'), agent('a3')]);
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const o = offerOf(arrive(item(`i${i}`), T + i), `i${i}`)!;
      got.push(o.agentId);
      apply({ type: 'accept', now: T + i, offerId: o.offerId, agentId: o.agentId });
      apply({ type: 'complete', now: T + i, itemId: `i${i}` });
    }
    expect(got).toEqual(['a1', 'a2', 'a3', 'a1']);
  });

  it('least occupied prefers the agent with the lowest load ratio', () => {
    const { arrive, offerOf } = setup(
      [queue('q1', { strategy: 'least-occupied', members: ['a1', 'a2'], autoAccept: { chat: true } })],
      [agent('a1', { capacity: { chat: 4 } }), agent('a2', { capacity: { chat: 2 } })],
    );
    const first = arrive(item('i1'));
    expect(first.find((d) => d.type === 'assigned')).toMatchObject({ agentId: 'a1', via: 'auto-accept' });
    // a1 at 1/4, a2 at 0/2 → a2
    expect(arrive(item('i2'), T + 1).find((d) => d.type === 'assigned')).toMatchObject({ agentId: 'a2' });
    // a1 1/4 = 0.25 < a2 1/2
    expect(arrive(item('i3'), T + 2).find((d) => d.type === 'assigned')).toMatchObject({ agentId: 'a1' });
    expect(offerOf([], 'x')).toBeUndefined();
  });

  it('best skill match prefers the higher level in required and preferred skills', () => {
    const { arrive, offerOf } = setup(
      [queue('q1', { strategy: 'best-skill-match', members: ['a1', 'a2'] })],
      [agent('a1', { skills: { es: 2, billing: 1 } }), agent('a2', { skills: { es: 2, billing: 5 } })],
    );
    const ds = arrive(item('i1', { requiredSkills: [{ skill: 'es', minLevel: 2 }], preferredSkills: [{ skill: 'billing', minLevel: 1 }] }));
    expect(offerOf(ds, 'i1')?.agentId).toBe('a2');
  });
});

describe('offers', () => {
  const base = () => setup([queue('q1', { members: ['a1', 'a2'], declineCooldownSeconds: 60 })], [agent('a1'), agent('a2')]);

  it('accept assigns; accepting again, after timeout, or by another agent fails with a clear code', () => {
    const { apply, arrive, offerOf } = base();
    const o = offerOf(arrive(item('i1')), 'i1')!;
    expect(o.expiresAt).toBe(T + 30_000);
    expectCode(() => apply({ type: 'accept', now: T + 1, offerId: o.offerId, agentId: 'a2' }), RoutingErrorCodes.NOT_OFFERED_TO_AGENT);
    expect(apply({ type: 'accept', now: T + 1, offerId: o.offerId, agentId: o.agentId })).toEqual([
      { type: 'assigned', at: T + 1, itemId: 'i1', queueId: 'q1', agentId: o.agentId, via: 'accept', offerId: o.offerId },
    ]);
    expectCode(() => apply({ type: 'accept', now: T + 2, offerId: o.offerId, agentId: o.agentId }), RoutingErrorCodes.ALREADY_ACCEPTED);
    expectCode(() => apply({ type: 'accept', now: T + 2, offerId: 'nope', agentId: 'a1' }), RoutingErrorCodes.OFFER_NOT_FOUND);

    const o2 = offerOf(arrive(item('i2'), T + 3), 'i2')!;
    // Late accept before the tick processed the timeout, and after it
    expectCode(() => apply({ type: 'accept', now: T + 3 + 30_000, offerId: o2.offerId, agentId: o2.agentId }), RoutingErrorCodes.OFFER_EXPIRED);
    apply({ type: 'tick', now: T + 3 + 30_000 });
    expectCode(() => apply({ type: 'accept', now: T + 3 + 30_001, offerId: o2.offerId, agentId: o2.agentId }), RoutingErrorCodes.OFFER_EXPIRED);
  });

  it('decline requeues the item and offers it to someone else, not back to the decliner', () => {
    const { apply, arrive, offerOf } = base();
    const o = offerOf(arrive(item('i1')), 'i1')!;
    const ds = apply({ type: 'decline', now: T + 1, offerId: o.offerId, agentId: o.agentId });
    expect(types(ds)).toEqual(['offerDeclined', 'requeued', 'offer']);
    const other = o.agentId === 'a1' ? 'a2' : 'a1';
    expect(offerOf(ds, 'i1')?.agentId).toBe(other);
  });

  it('a declined item waits out the cooldown when the decliner is the only agent', () => {
    const { apply, arrive, tick, offerOf, engine } = setup([queue('q1', { members: ['a1'], declineCooldownSeconds: 60 })], [agent('a1')]);
    const o = offerOf(arrive(item('i1')), 'i1')!;
    expect(types(apply({ type: 'decline', now: T + 1, offerId: o.offerId, agentId: 'a1' }))).toEqual(['offerDeclined', 'requeued']);
    expect(engine.getItem('i1')?.state).toBe('waiting');
    expect(offerOf(tick(T + 60_001), 'i1')?.agentId).toBe('a1');
  });

  it('offer timeout requeues and, when configured, sets the agent away', () => {
    const { arrive, tick, offerOf, engine } = setup([queue('q1', { members: ['a1', 'a2'], setAwayOnOfferTimeout: true })], [agent('a1'), agent('a2')]);
    const o = offerOf(arrive(item('i1')), 'i1')!;
    const ds = tick(T + 30_000);
    expect(ds.filter((d) => d.type !== 'offer')).toEqual([
      { type: 'offerExpired', at: T + 30_000, itemId: 'i1', agentId: o.agentId, offerId: o.offerId },
      { type: 'requeued', at: T + 30_000, itemId: 'i1', queueId: 'q1', reason: 'offer-timeout', agentId: o.agentId },
      { type: 'agentStateChanged', at: T + 30_000, agentId: o.agentId, from: 'available', to: 'away', reason: 'offer-timeout' },
    ]);
    expect(offerOf(ds, 'i1')?.agentId).not.toBe(o.agentId);
    expect(engine.getAgent(o.agentId)?.presence).toBe('away');
  });

  it('auto-accept channels are assigned without an offer', () => {
    const { arrive } = setup([queue('q1', { members: ['a1'], autoAccept: { voice: true } })], [agent('a1')]);
    expect(arrive(item('i1', { channel: 'voice' }))).toEqual([{ type: 'assigned', at: T, itemId: 'i1', queueId: 'q1', agentId: 'a1', via: 'auto-accept' }]);
  });
});

describe('capacity', () => {
  it('counts offered and assigned work per channel; capacity 0 never receives the channel', () => {
    const { arrive, engine } = setup([queue('q1', { members: ['a1'] })], [agent('a1', { capacity: { chat: 2, email: 0 } })]);
    arrive(item('c1'));
    arrive(item('c2'));
    expect(types(arrive(item('c3')))).toEqual(['queued']);
    expect(arrive(item('e1', { channel: 'email' }))).toEqual([{ type: 'unroutable', at: T, itemId: 'e1', queueId: 'q1', reason: 'no-agent-with-channel-capacity' }]);
    expect(engine.getAgent('a1')?.load).toEqual({ chat: 2 });
  });

  it('an active voice call blocks new chats, while chats do not block email', () => {
    const { apply, arrive, offerOf } = setup([queue('q1', { members: ['a1'], autoAccept: { voice: true } })], [agent('a1', { capacity: { chat: 2, email: 1, voice: 1 } })]);
    arrive(item('v1', { channel: 'voice' }));
    expect(types(arrive(item('c1'), T + 1))).toEqual(['queued']);
    const ds = apply({ type: 'complete', now: T + 2, itemId: 'v1' });
    expect(offerOf(ds, 'c1')?.agentId).toBe('a1');
    expect(offerOf(arrive(item('e1', { channel: 'email' }), T + 3), 'e1')?.agentId).toBe('a1');
  });

  it('rejects negative or fractional capacity, and capacity below assigned work', () => {
    expectCode(() => new RoutingEngine({ queues: [], agents: [agent('a1', { capacity: { chat: -1 } })] }), RoutingErrorCodes.INVALID_CAPACITY);
    expectCode(() => new RoutingEngine({ queues: [], agents: [agent('a1', { capacity: { chat: 1.5 } })] }), RoutingErrorCodes.INVALID_CAPACITY);
    const { apply, arrive } = setup([queue('q1', { members: ['a1'], autoAccept: { chat: true } })], [agent('a1', { capacity: { chat: 2 } })]);
    arrive(item('c1'));
    arrive(item('c2'));
    expectCode(() => apply({ type: 'updateAgent', now: T, agent: { id: 'a1', tenantId: 't1', skills: {}, capacity: { chat: 1 } } }), RoutingErrorCodes.CAPACITY_BELOW_LOAD);
  });

  it('lowering capacity revokes pending offers above it', () => {
    const { apply, arrive } = setup([queue('q1', { members: ['a1'] })], [agent('a1', { capacity: { chat: 2 } })]);
    arrive(item('c1'));
    arrive(item('c2'), T + 1);
    const ds = apply({ type: 'updateAgent', now: T + 2, agent: { id: 'a1', tenantId: 't1', skills: { es: 3 }, capacity: { chat: 1 } } });
    expect(ds).toEqual([
      { type: 'offerRevoked', at: T + 2, itemId: 'c1', agentId: 'a1', offerId: 'c1~1', reason: 'agent-capacity-changed' },
      { type: 'requeued', at: T + 2, itemId: 'c1', queueId: 'q1', reason: 'agent-capacity-changed', agentId: 'a1' },
    ]);
  });
});

describe('priority and aging', () => {
  it('a VIP goes first, but an old enough item beats a newer VIP', () => {
    const q = queue('q1', { members: ['a1'], priorityWeightSeconds: 60, priorityRules: [{ id: 'vip', when: { attribute: { key: 'tier', equals: 'vip' } }, raiseBy: 5 }] });
    const { apply, arrive, offerOf } = setup([q], [agent('a1', { presence: 'away' })]);
    arrive(item('old'), T);
    arrive(item('vip', { attributes: { tier: 'vip' } }), T + 60_000); // 5 points = 300 s of waiting
    arrive(item('normal'), T + 61_000);
    const ds = apply({ type: 'agentStateChange', now: T + 120_000, agentId: 'a1', presence: 'available' });
    expect(offerOf(ds, 'vip')).toBeDefined();
    const q2 = queue('q1', { members: ['a1'], priorityWeightSeconds: 60, priorityRules: [{ id: 'vip', when: { attribute: { key: 'tier', equals: 'vip' } }, raiseBy: 5 }] });
    const s2 = setup([q2], [agent('a1', { presence: 'away' })]);
    s2.arrive(item('ancient'), T);
    s2.arrive(item('vip', { attributes: { tier: 'vip' } }), T + 400_000); // 400 s later > 300 s head start
    expect(s2.offerOf(s2.apply({ type: 'agentStateChange', now: T + 500_000, agentId: 'a1', presence: 'available' }), 'ancient')).toBeDefined();
  });

  it('a waited-longer-than rule raises priority on tick and says so', () => {
    const q = queue('q1', { members: [], priorityRules: [{ id: 'slow', when: { waitedSeconds: 120, channel: 'email' }, raiseBy: 2 }] });
    const { arrive, tick, engine } = setup([q], []);
    arrive(item('e1', { channel: 'email', priority: 1 }));
    expect(tick(T + 120_000)).toEqual([{ type: 'priorityChanged', at: T + 120_000, itemId: 'e1', from: 1, to: 3, reason: 'rule:slow' }]);
    expect(engine.getItem('e1')?.priority).toBe(3);
  });

  it('a person raising the priority or adding a label a rule looks for moves waiting work ahead; removing the label drops the boost', () => {
    const q = queue('q1', { members: ['a1'], priorityWeightSeconds: 60, priorityRules: [{ id: 'urgent', when: { label: 'urgent' }, raiseBy: 5 }] });
    const s = setup([q], [agent('a1', { presence: 'away' })]);
    s.arrive(item('first'), T);
    s.arrive(item('second'), T + 1000);
    s.arrive(item('third'), T + 2000);
    expect(s.apply({ type: 'updateItem', now: T + 3000, itemId: 'third', labels: ['urgent'] })).toEqual([]);
    expect(s.engine.getItem('third')?.priority).toBe(5);
    s.apply({ type: 'updateItem', now: T + 3000, itemId: 'second', priority: 2 });
    expect(s.engine.getItem('second')?.priority).toBe(2);
    s.apply({ type: 'updateItem', now: T + 4000, itemId: 'third', labels: [] });
    expect(s.engine.getItem('third')?.priority).toBe(0);
    // 'second' (priority 2 = 120 s of waiting) now goes before 'first', which waited 1 s longer.
    expect(s.offerOf(s.apply({ type: 'agentStateChange', now: T + 5000, agentId: 'a1', presence: 'available' }), 'second')).toBeDefined();
    expectCode(() => s.apply({ type: 'updateItem', now: T + 5000, itemId: 'nobody', priority: 1 }), RoutingErrorCodes.UNKNOWN_ITEM);
    expectCode(() => s.apply({ type: 'updateItem', now: T + 5000, itemId: 'first', priority: Number.NaN }), RoutingErrorCodes.INVALID_EVENT);
  });
});

describe('bullseye', () => {
  it('drops preferred skills, then lowers levels, then adds members as the wait grows', () => {
    const q = queue('q1', {
      members: ['a1', 'a2'],
      offerTimeoutSeconds: 600,
      bullseye: [{ afterSeconds: 30, dropPreferredSkills: true }, { afterSeconds: 60, lowerRequiredLevelsBy: 1 }, { afterSeconds: 120, addQueueMembers: ['a3'] }],
    });
    const { arrive, tick, offerOf, engine } = setup(
      [q],
      [agent('a1', { skills: { es: 3 } }), agent('a2', { skills: { es: 2 } }), agent('a3', { skills: { fr: 5 } })],
    );
    // Needs es:3 (a1 busy) and prefers billing:2 (nobody) — ring 0 requires both.
    arrive(item('busy', { requiredSkills: [{ skill: 'es', minLevel: 3 }] }));
    expect(engine.getItem('busy')?.agentId).toBe('a1');
    const ds = arrive(item('i1', { requiredSkills: [{ skill: 'es', minLevel: 3 }], preferredSkills: [{ skill: 'billing', minLevel: 2 }] }));
    expect(ds).toEqual([{ type: 'unroutable', at: T, itemId: 'i1', queueId: 'q1', reason: 'no-agent-with-required-skills' }]);
    expect(tick(T + 30_000)).toEqual([]); // preferred dropped, a1 still busy
    expect(offerOf(tick(T + 60_000), 'i1')?.agentId).toBe('a2'); // es:2 now enough
    // ring 3: an item only a3 can take (fr) waits until a3 is added
    arrive(item('i2', { requiredSkills: [{ skill: 'fr', minLevel: 1 }] }), T + 60_000);
    expect(offerOf(tick(T + 179_999), 'i2')).toBeUndefined();
    expect(offerOf(tick(T + 180_000), 'i2')?.agentId).toBe('a3');
  });
});

describe('agent presence and connections', () => {
  it('going away revokes pending offers and requeues them', () => {
    const { apply, arrive } = setup([queue('q1', { members: ['a1'] })], [agent('a1')]);
    arrive(item('i1'));
    expect(apply({ type: 'agentStateChange', now: T + 1, agentId: 'a1', presence: 'not-ready', notReadyReason: 'lunch' })).toEqual([
      { type: 'agentStateChanged', at: T + 1, agentId: 'a1', from: 'available', to: 'not-ready', reason: 'requested' },
      { type: 'offerRevoked', at: T + 1, itemId: 'i1', agentId: 'a1', offerId: 'i1~1', reason: 'agent-unavailable' },
      { type: 'requeued', at: T + 1, itemId: 'i1', queueId: 'q1', reason: 'agent-unavailable', agentId: 'a1' },
    ]);
  });

  it('losing every connection starts a grace period; after it the agent is offline and offers return', () => {
    const { apply, arrive, tick, engine } = setup(
      [queue('q1', { members: ['a1', 'a2'], offerTimeoutSeconds: 600 })],
      [agent('a1', { connections: 2 }), agent('a2', { presence: 'away' })],
    );
    arrive(item('i1'));
    apply({ type: 'agentDisconnected', now: T + 1, agentId: 'a1' });
    expect(engine.getAgent('a1')?.graceUntil).toBeNull();
    apply({ type: 'agentDisconnected', now: T + 2, agentId: 'a1' });
    expect(engine.getAgent('a1')?.graceUntil).toBe(T + 30_002);
    // No new offers during grace
    expect(types(arrive(item('i2'), T + 3))).toEqual(['queued']);
    apply({ type: 'agentStateChange', now: T + 4, agentId: 'a2', presence: 'available' });
    const ds = tick(T + 30_002);
    expect(ds.slice(0, 3)).toEqual([
      { type: 'agentStateChanged', at: T + 30_002, agentId: 'a1', from: 'available', to: 'offline', reason: 'disconnect-grace-expired' },
      { type: 'offerRevoked', at: T + 30_002, itemId: 'i1', agentId: 'a1', offerId: 'i1~1', reason: 'agent-offline' },
      { type: 'requeued', at: T + 30_002, itemId: 'i1', queueId: 'q1', reason: 'agent-offline', agentId: 'a1' },
    ]);
  });

  it('a server node that dies takes only its own connections: the agent stays while another node holds one, then gets the grace period', () => {
    const { apply, tick, engine } = setup([queue('q1', { members: ['a1'] })], [agent('a1', { connections: 0 })]);
    apply({ type: 'agentConnected', now: T, agentId: 'a1', nodeId: 'n1' });
    apply({ type: 'agentConnected', now: T, agentId: 'a1', nodeId: 'n1' });
    apply({ type: 'agentConnected', now: T, agentId: 'a1', nodeId: 'n2' });
    // A disconnect reported by a node that holds none of the agent's connections changes nothing.
    apply({ type: 'agentDisconnected', now: T + 1, agentId: 'a1', nodeId: 'n3' });
    expect(engine.getAgent('a1')?.connections).toBe(3);
    apply({ type: 'nodeLost', now: T + 2, nodeId: 'n1' });
    expect(engine.getAgent('a1')).toMatchObject({ connections: 1, graceUntil: null, presence: 'available' });
    // The snapshot keeps who holds what.
    const restored = RoutingEngine.restore(engine.snapshot());
    restored.apply({ type: 'nodeLost', now: T + 3, nodeId: 'n2' });
    expect(restored.getAgent('a1')).toMatchObject({ connections: 0, graceUntil: T + 30_003 });
    apply({ type: 'nodeLost', now: T + 3, nodeId: 'n2' });
    expect(tick(T + 30_003)[0]).toMatchObject({ type: 'agentStateChanged', agentId: 'a1', to: 'offline', reason: 'disconnect-grace-expired' });
  });

  it('a node that counts an agent\'s connections anew sets its own share: up brings work, down to none starts the grace period', () => {
    const { apply, arrive, tick, engine } = setup([queue('q1', { members: ['a1'] })], [agent('a1', { connections: 0 })]);
    arrive(item('i1'));
    // Counted up from none, the agent is offered the waiting work.
    expect(types(apply({ type: 'agentConnections', now: T + 1, agentId: 'a1', nodeId: 'n1', count: 2 }))).toContain('offer');
    apply({ type: 'agentConnected', now: T + 1, agentId: 'a1', nodeId: 'n2' });
    expect(engine.getAgent('a1')?.connections).toBe(3);
    // Said again, the same count changes nothing.
    expect(apply({ type: 'agentConnections', now: T + 2, agentId: 'a1', nodeId: 'n1', count: 2 })).toEqual([]);
    expect(engine.getAgent('a1')?.connections).toBe(3);
    apply({ type: 'agentConnections', now: T + 3, agentId: 'a1', nodeId: 'n1', count: 0 });
    apply({ type: 'agentDisconnected', now: T + 3, agentId: 'a1', nodeId: 'n2' });
    expect(engine.getAgent('a1')).toMatchObject({ connections: 0, graceUntil: T + 30_003 });
    expect(tick(T + 30_003)).toContainEqual(expect.objectContaining({ type: 'agentStateChanged', agentId: 'a1', to: 'offline' }));
    expect(() => apply({ type: 'agentConnections', now: T + 4, agentId: 'a1', nodeId: 'n1', count: -1 })).toThrow(/whole count/);
  });

  it('reconnecting within the grace period keeps the agent', () => {
    const { apply, tick, engine } = setup([queue('q1', { members: ['a1'] })], [agent('a1')]);
    apply({ type: 'agentDisconnected', now: T, agentId: 'a1' });
    apply({ type: 'agentConnected', now: T + 10_000, agentId: 'a1' });
    expect(tick(T + 60_000)).toEqual([]);
    expect(engine.getAgent('a1')?.presence).toBe('available');
  });

  it('wrap-up after completion holds new work until the timer ends', () => {
    const { apply, arrive, tick, offerOf } = setup([queue('q1', { members: ['a1'], wrapUpSeconds: 20, autoAccept: { chat: true } })], [agent('a1')]);
    arrive(item('i1'));
    arrive(item('i2'), T + 1);
    const ds = apply({ type: 'complete', now: T + 2, itemId: 'i1' });
    expect(types(ds)).toEqual(['released', 'agentStateChanged', 'itemRemoved']);
    const end = tick(T + 20_002);
    expect(end[0]).toMatchObject({ type: 'agentStateChanged', to: 'available', reason: 'wrap-up-ended' });
    expect(end.find((d) => d.type === 'assigned')).toMatchObject({ itemId: 'i2', agentId: 'a1' });
    expect(offerOf(end, 'i2')).toBeUndefined();
  });

  it('removing an agent who holds work requeues it with a reason', () => {
    const { apply, arrive } = setup([queue('q1', { members: ['a1', 'a2'], autoAccept: { chat: true } })], [agent('a1'), agent('a2', { presence: 'away' })]);
    arrive(item('i1'));
    const ds = apply({ type: 'removeAgent', now: T + 1, agentId: 'a1' });
    expect(ds).toEqual([{ type: 'requeued', at: T + 1, itemId: 'i1', queueId: 'q1', reason: 'agent-removed', agentId: 'a1' }]);
  });
});

describe('directed work', () => {
  const s = () =>
    setup(
      [queue('q1', { members: ['a1', 'a2'], autoAccept: { chat: true } }), queue('q2', { members: ['a3'] })],
      [agent('a1'), agent('a2', { presence: 'away' }), agent('a3', { skills: {} })],
    );

  it('transfer to an agent offers it to them and keeps the last agent as context', () => {
    const { apply, arrive, engine } = s();
    arrive(item('i1'));
    apply({ type: 'agentStateChange', now: T, agentId: 'a2', presence: 'available' });
    const ds = apply({ type: 'transfer', now: T + 1, itemId: 'i1', to: { agentId: 'a2' } });
    expect(types(ds)).toEqual(['released', 'transferred', 'assigned']);
    expect(engine.getItem('i1')).toMatchObject({ agentId: 'a2', state: 'assigned' });
  });

  it('transfer to a queue routes it there and not back to the sender', () => {
    const { apply, arrive, offerOf } = s();
    arrive(item('i1'));
    const ds = apply({ type: 'transfer', now: T + 1, itemId: 'i1', to: { queueId: 'q2' } });
    expect(offerOf(ds, 'i1')?.agentId).toBe('a3');
  });

  it('transfer to an agent without the skill or capacity is refused and changes nothing', () => {
    const { apply, arrive, engine } = s();
    arrive(item('i1', { requiredSkills: [{ skill: 'es', minLevel: 2 }] }));
    const before = engine.snapshot();
    expectCode(() => apply({ type: 'transfer', now: T + 1, itemId: 'i1', to: { agentId: 'a3' } }), RoutingErrorCodes.AGENT_LACKS_SKILL);
    expect(engine.snapshot()).toEqual(before);
  });

  it('supervisor force-assign takes an item from the queue or from another agent’s offer', () => {
    const { apply, arrive, engine } = setup([queue('q1', { members: ['a1', 'a2'] })], [agent('a1'), agent('a2', { presence: 'busy' })]);
    arrive(item('i1'));
    const ds = apply({ type: 'forceAssign', now: T + 1, itemId: 'i1', agentId: 'a2' });
    expect(ds).toEqual([
      { type: 'offerRevoked', at: T + 1, itemId: 'i1', agentId: 'a1', offerId: 'i1~1', reason: 'force-assigned' },
      { type: 'assigned', at: T + 1, itemId: 'i1', queueId: 'q1', agentId: 'a2', via: 'force-assign' },
    ]);
    expect(engine.getAgent('a1')?.load).toEqual({});
    expectCode(() => apply({ type: 'forceAssign', now: T + 2, itemId: 'i1', agentId: 'a2' }), RoutingErrorCodes.ITEM_NOT_WAITING);
  });

  it('supervisor force-assign takes an item from the agent who holds it, who gets the room back; the target needs room', () => {
    const { apply, arrive, engine } = setup([queue('q1', { members: ['a1', 'a2'] })], [agent('a1', { capacity: { chat: 1 } }), agent('a2', { presence: 'busy', capacity: { chat: 1 } })]);
    arrive(item('i1'));
    apply({ type: 'accept', now: T + 1, offerId: 'i1~1', agentId: 'a1' });
    arrive(item('i2'));
    // a1 is full: i2 waits. Reassigning i1 to a2 frees a1, who is offered i2 at once.
    const ds = apply({ type: 'forceAssign', now: T + 2, itemId: 'i1', agentId: 'a2' });
    expect(ds).toEqual([
      { type: 'released', at: T + 2, itemId: 'i1', agentId: 'a1', reason: 'reassigned' },
      { type: 'assigned', at: T + 2, itemId: 'i1', queueId: 'q1', agentId: 'a2', via: 'force-assign' },
      expect.objectContaining({ type: 'offer', itemId: 'i2', agentId: 'a1' }),
    ]);
    expect(engine.getAgent('a2')?.load).toEqual({ chat: 1 });
    expect(engine.getItem('i1')).toMatchObject({ state: 'assigned', agentId: 'a2' });
    // a2 is full now: i1 cannot be given back to them twice, and i2 cannot be forced on them.
    expectCode(() => apply({ type: 'forceAssign', now: T + 3, itemId: 'i2', agentId: 'a2' }), RoutingErrorCodes.NO_CAPACITY);
  });

  it('manual pick lets a member take a waiting item; non-members are refused', () => {
    const { apply, arrive } = setup([queue('q1', { members: ['a1'] })], [agent('a1', { presence: 'away' }), agent('x')]);
    arrive(item('i1'));
    expectCode(() => apply({ type: 'manualPick', now: T, itemId: 'i1', agentId: 'x' }), RoutingErrorCodes.AGENT_NOT_ELIGIBLE);
    expect(apply({ type: 'manualPick', now: T, itemId: 'i1', agentId: 'a1' })).toEqual([
      { type: 'assigned', at: T, itemId: 'i1', queueId: 'q1', agentId: 'a1', via: 'manual-pick' },
    ]);
  });
});

describe('queues: hours, size, wait limits, reasons', () => {
  const hours = { timeZone: 'America/Mexico_City', weekly: { mon: [{ start: '09:00', end: '18:00' }] } };

  it('out of hours applies the action and says when the queue opens', () => {
    const { arrive, engine } = setup([queue('q1', { members: ['a1'], businessHours: hours, outOfHoursAction: { kind: 'close', message: 'We are closed' } })], [agent('a1')]);
    const sunday = Date.UTC(2025, 5, 1, 15, 0);
    expect(arrive(item('i1'), sunday)).toEqual([
      { type: 'outOfHours', at: sunday, itemId: 'i1', queueId: 'q1', action: { kind: 'close', message: 'We are closed' }, nextOpenAt: Date.UTC(2025, 5, 2, 15, 0) },
      { type: 'itemRemoved', at: sunday, itemId: 'i1', queueId: 'q1', reason: 'exited' },
    ]);
    expect(engine.getItem('i1')).toBeUndefined();
  });

  it('overflow loops are reported and the item is kept', () => {
    const closed = { timeZone: 'UTC', weekly: {} };
    const { arrive, engine } = setup(
      [
        queue('q1', { businessHours: closed, outOfHoursAction: { kind: 'overflow', queueId: 'q2' } }),
        queue('q2', { businessHours: closed, outOfHoursAction: { kind: 'overflow', queueId: 'q1' } }),
      ],
      [],
    );
    expect(types(arrive(item('i1')))).toEqual(['outOfHours', 'overflowed', 'outOfHours', 'unroutable']);
    expect(engine.getItem('i1')?.state).toBe('waiting');
  });

  it('a full queue overflows; max wait overflows on tick', () => {
    const { arrive, tick, engine } = setup(
      [queue('q1', { maxQueueSize: { size: 1, action: { kind: 'overflow', queueId: 'q2' } }, maxWait: { seconds: 60, action: { kind: 'voicemail' } } }), queue('q2')],
      [],
    );
    arrive(item('i1'));
    expect(types(arrive(item('i2'), T + 1))).toEqual(['queueFull', 'overflowed', 'unroutable']);
    expect(engine.getItem('i2')?.queueId).toBe('q2');
    expect(tick(T + 60_000)).toEqual([
      { type: 'maxWaitExceeded', at: T + 60_000, itemId: 'i1', queueId: 'q1', action: { kind: 'voicemail' } },
      { type: 'itemRemoved', at: T + 60_000, itemId: 'i1', queueId: 'q1', reason: 'exited' },
    ]);
  });

  it('explains why an item cannot be routed', () => {
    const { arrive } = setup([queue('q1'), queue('q2', { members: ['a1'] })], [agent('a1', { skills: { es: 1 } })]);
    expect(arrive(item('i1'))).toMatchObject([{ type: 'unroutable', reason: 'no-queue-members' }]);
    expect(arrive(item('i2', { queueId: 'q2', requiredSkills: [{ skill: 'es', minLevel: 4 }] }))).toMatchObject([{ type: 'unroutable', reason: 'no-agent-with-required-skills' }]);
  });

  it('keeps tenants apart and rejects unknown queues', () => {
    const { apply } = setup([queue('q1', { members: ['other'] })], [agent('other', { tenantId: 't2' })]);
    expectCode(() => apply({ type: 'arrive', now: T, item: item('i1', { tenantId: 't2' }) }), RoutingErrorCodes.TENANT_MISMATCH);
    expectCode(() => apply({ type: 'arrive', now: T, item: item('i1', { queueId: 'nope' }) }), RoutingErrorCodes.UNKNOWN_QUEUE);
    // The t2 agent listed as member never receives t1 work
    expect(apply({ type: 'arrive', now: T, item: item('i1') })).toMatchObject([{ type: 'unroutable', reason: 'no-queue-members' }]);
  });

  it('a last-agent preference waits for that agent, then anyone may take it', () => {
    const { apply, arrive, tick } = setup([queue('q1', { members: ['a1', 'a2'], lastAgentPreferenceSeconds: 20, autoAccept: { chat: true } })], [agent('a1'), agent('a2')]);
    arrive(item('busy1'));
    arrive(item('busy2'));
    expect(types(arrive(item('i1', { lastAgentId: 'a1' }), T + 1))).toEqual(['queued']);
    // a2 frees up, but i1 is reserved for a1 during the window
    expect(types(apply({ type: 'complete', now: T + 2, itemId: 'busy2' }))).toEqual(['released', 'itemRemoved']);
    expect(tick(T + 20_001)).toEqual([{ type: 'assigned', at: T + 20_001, itemId: 'i1', queueId: 'q1', agentId: 'a2', via: 'auto-accept' }]);
  });
});

describe('SLA in the engine', () => {
  it('warns, breaches and escalates by raising priority', () => {
    const q = queue('q1', { sla: { id: 's', targets: [{ firstResponseSeconds: 60 }], warnBeforeSeconds: 10, onBreach: [{ kind: 'raise-priority', by: 3 }, { kind: 'notify-supervisor' }] } });
    const { arrive, tick, engine } = setup([q], []);
    arrive(item('i1'));
    expect(tick(T + 50_000)).toEqual([{ type: 'slaWarning', at: T + 50_000, itemId: 'i1', clock: 'first-response', dueAt: T + 60_000 }]);
    expect(types(tick(T + 60_000))).toEqual(['slaBreached', 'escalated', 'priorityChanged', 'escalated']);
    expect(engine.getItem('i1')?.priority).toBe(3);
  });

  it('a response stops the first-response clock; a customer message starts next-response', () => {
    const q = queue('q1', { sla: { id: 's', targets: [{ firstResponseSeconds: 60, nextResponseSeconds: 30 }] } });
    const { apply, arrive, tick } = setup([q], []);
    arrive(item('i1'));
    apply({ type: 'responded', now: T + 1000, itemId: 'i1' });
    expect(tick(T + 60_000)).toEqual([]);
    apply({ type: 'customerMessage', now: T + 70_000, itemId: 'i1' });
    expect(tick(T + 100_000)).toEqual([{ type: 'slaBreached', at: T + 100_000, itemId: 'i1', clock: 'next-response', dueAt: T + 100_000 }]);
  });
});

describe('snapshot and restore', () => {
  it('restores to an engine that makes the same decisions', () => {
    const q = queue('q1', { members: ['a1', 'a2'], bullseye: [{ afterSeconds: 30, lowerRequiredLevelsBy: 1 }] });
    const a = setup([q], [agent('a1', { skills: { es: 2 } }), agent('a2', { skills: { es: 1 }, presence: 'away' })]);
    a.arrive(item('i1', { requiredSkills: [{ skill: 'es', minLevel: 2 }] }));
    a.arrive(item('i2', { requiredSkills: [{ skill: 'es', minLevel: 2 }] }), T + 1);
    const snap = JSON.parse(JSON.stringify(a.engine.snapshot()));
    const b = RoutingEngine.restore(snap);
    expect(checkInvariants(b)).toEqual([]);
    expect(b.snapshot()).toEqual(snap);
    const evs: RoutingEvent[] = [
      { type: 'agentStateChange', now: T + 2, agentId: 'a2', presence: 'available' },
      { type: 'tick', now: T + 31_000 },
      { type: 'tick', now: T + 40_000 },
    ];
    for (const ev of evs) expect(b.apply(ev)).toEqual(a.engine.apply(ev));
  });

  it('rejects an unknown snapshot version', () => {
    expectCode(() => RoutingEngine.restore({ version: 2 } as never), RoutingErrorCodes.INVALID_SNAPSHOT);
  });
});
