import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { openConversation } from './open-conversation.ts';
import { updateConversation } from './update-conversation.ts';
import { TestSocket } from '../../test/sockets.ts';

// The agent's work on conversations: lists and counts, assignment rules, status and snooze,
// reopening, read state, history, idempotent posting, message paging, private notes.

type Auth = { bearer: string } | { cookie: string; csrf: string } | null;
interface Person {
  id: string;
  name: string;
  auth: { cookie: string; csrf: string };
}

let t: TestParley;
let tenant: TestTenant;
let admin: Person;
let agentOne: Person;
let agentTwo: Person;
let chatInbox: { id: string; publicId: string };
let apiInbox: { id: string };
const sockets: TestSocket[] = [];

async function api(method: string, path: string, auth: Auth, body?: unknown) {
  const headers: Record<string, string> = {};
  if (auth && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
  if (auth && 'cookie' in auth) Object.assign(headers, { cookie: auth.cookie, 'x-csrf-token': auth.csrf });
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${t.baseUrl}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

function sessionOf(res: Response, body: { user: { id: string; name: string }; csrfToken: string }): Person {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('parley_session='))!.split(';')[0]!;
  return { id: body.user.id, name: body.user.name, auth: { cookie, csrf: body.csrfToken } };
}

async function invite(name: string, role: 'agent' | 'supervisor'): Promise<Person> {
  const email = `${name.replace(/\W/g, '').toLowerCase()}-${Date.now()}@example.com`;
  const inv = await api('POST', '/invitations', { bearer: tenant.apiKey }, { email, role });
  const token = String(inv.body.acceptUrl).split('/invite/')[1];
  const res = await fetch(`${t.baseUrl}/api/v1/invitations/${token}/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: 'a long enough password' }),
  });
  return sessionOf(res, await res.json());
}

/**
 * The agent app open, the agent away: routing offers them nothing, so these tests assign by hand;
 * taking queued work (a pick) needs the app open.
 */
async function openAppAway(person: Person) {
  const socket = await TestSocket.open(`${t.baseUrl.replace('http', 'ws')}/api/v1/realtime`, { cookie: person.auth.cookie, origin: t.baseUrl });
  sockets.push(socket);
  await socket.hello(null);
  expect((await api('PATCH', '/routing/me/state', person.auth, { state: 'away' })).body).toMatchObject({ state: 'away', connected: true });
}

async function visitorStarts(name: string, message: string) {
  const r = await api('POST', `/widget/inboxes/${chatInbox.publicId}/conversations`, null, { name, message, clientMessageId: `${name}-1` });
  expect(r.status).toBe(201);
  return { id: r.body.conversation.id as string, token: r.body.token as string };
}

const visitorAuth = (token: string): Auth => ({ bearer: token });
const ids = (items: { id: string }[]) => items.map((i) => i.id).sort();

beforeAll(async () => {
  t = await startTestParley({ config: { workers: false } });
  tenant = await t.createTenant('Workflow Co');
  const res = await fetch(`${t.baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: tenant.adminEmail, password: tenant.adminPassword }),
  });
  admin = sessionOf(res, await res.json());
  agentOne = await invite('Agent One', 'agent');
  agentTwo = await invite('Agent Two', 'agent');
  chatInbox = (await api('POST', '/inboxes', admin.auth, { name: 'Chat', channelType: 'webchat', settings: { prechat: { enabled: false, fields: [] } } })).body;
  apiInbox = (await api('POST', '/inboxes', admin.auth, { name: 'API', channelType: 'api' })).body;
  for (const agent of [agentOne, agentTwo]) await openAppAway(agent);
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.stop();
});

describe('lists, filters and counts', () => {
  it('filter by assignee (mine/unassigned/all), status, label and inbox, with counts per tab', async () => {
    const c1 = await visitorStarts('Lia', 'need help');
    const c2 = await visitorStarts('Max', 'billing question');
    const c3 = (await api('POST', '/conversations', { bearer: tenant.apiKey }, { inboxId: apiInbox.id, contact: { name: 'Noa' }, message: { content: 'from API' } })).body.id as string;
    const scope = (items: { id: string }[]) => ids(items.filter((i) => [c1.id, c2.id, c3].includes(i.id)));

    expect((await api('PATCH', `/conversations/${c1.id}`, agentOne.auth, { assigneeId: agentOne.id })).status).toBe(200);
    expect((await api('PATCH', `/conversations/${c2.id}`, admin.auth, { assigneeId: agentTwo.id, labels: ['VIP', ' Billing ', 'vip'] })).body.labels).toEqual(['billing', 'vip']);
    expect((await api('PATCH', `/conversations/${c3}`, admin.auth, { status: 'resolved' })).body.status).toBe('resolved');

    const list = async (query: string, who: Person = agentOne) => {
      const r = await api('GET', `/conversations?${query}`, who.auth);
      expect(r.status, r.text).toBe(200);
      return r.body as { items: { id: string }[]; counts: { mine: number; unassigned: number; all: number } };
    };
    const mine = await list('assignee=mine');
    expect(scope(mine.items)).toEqual([c1.id]);
    expect(mine.counts).toEqual({ mine: 1, unassigned: 0, all: 2 });
    expect(scope((await list('assignee=unassigned')).items)).toEqual([]);
    expect(scope((await list('assignee=unassigned&status=all')).items)).toEqual([c3]);
    expect(scope((await list('assignee=all')).items)).toEqual(ids([{ id: c1.id }, { id: c2.id }]));
    expect(scope((await list('')).items)).toEqual(ids([{ id: c1.id }, { id: c2.id }])); // default: all, open
    const everything = await list('status=all');
    expect(scope(everything.items)).toEqual(ids([{ id: c1.id }, { id: c2.id }, { id: c3 }]));
    expect(everything.counts).toEqual({ mine: 1, unassigned: 1, all: 3 });
    expect(scope((await list('status=resolved')).items)).toEqual([c3]);
    expect((await list('status=resolved')).counts).toEqual({ mine: 0, unassigned: 1, all: 1 });
    expect(scope((await list('label=vip')).items)).toEqual([c2.id]);
    expect(scope((await list('label=nope&status=all')).items)).toEqual([]);
    const byInbox = await list(`inboxId=${apiInbox.id}&status=all`);
    expect(scope(byInbox.items)).toEqual([c3]);
    expect(byInbox.counts).toEqual({ mine: 0, unassigned: 1, all: 1 });
    expect((await list('assignee=mine', agentTwo)).items.map((i) => i.id)).toEqual([c2.id]);
    expect((await api('GET', '/labels', agentOne.auth)).body.items).toEqual(['billing', 'vip']);

    // A conversation in a list carries its contact and last message.
    const item = (await list('assignee=mine')).items[0] as unknown as { contact: { name: string }; lastMessage: { content: string }; unreadCount: number };
    expect(item).toMatchObject({ contact: { name: 'Lia' }, lastMessage: { content: 'need help' }, unreadCount: 1 });
  });

  it('pages through conversations with nextCursor, most recent activity first', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await api('POST', '/conversations', { bearer: tenant.apiKey }, { inboxId: apiInbox.id, contact: { name: `Pager ${i}` }, message: { content: `m${i}` } })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const r: { body: { items: { id: string; lastActivityAt: string }[]; nextCursor: string | null } } = await api(
        'GET',
        `/conversations?inboxId=${apiInbox.id}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        admin.auth,
      );
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((i) => i.id));
      cursor = r.body.nextCursor;
      if (!cursor) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 5)).toEqual([...made].reverse());
  });
  it('paging skips no conversation whose activity differs below the millisecond', async () => {
    const inbox = (await api('POST', '/inboxes', admin.auth, { name: 'Paging', channelType: 'api' })).body;
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await api('POST', '/conversations', { bearer: tenant.apiKey }, { inboxId: inbox.id, contact: { name: `Tick ${i}` } })).body.id);
    // The database keeps microseconds (a conversation without messages has activity = now()); three in one millisecond:
    const at = ['2030-01-01T00:00:00.123456Z', '2030-01-01T00:00:00.123400Z', '2030-01-01T00:00:00.123000Z'];
    for (const [i, id] of made.entries()) await t.db.updateTable('conversations').set({ last_activity_at: at[i]! }).where('id', '=', id).execute();
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: { body: { items: { id: string }[]; nextCursor: string | null } } = await api(
        'GET',
        `/conversations?inboxId=${inbox.id}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        admin.auth,
      );
      seen.push(...r.body.items.map((i) => i.id));
      cursor = r.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(made);
  });
});

/** History events written by routing (docs/routing-api.md), apart from what people did. */
const ROUTING_EVENTS = new Set(['queued', 'abandoned', 'offered', 'requeued', 'offer_expired', 'offer_declined', 'offer_revoked']);

describe('assignment', () => {
  it('an agent may take an unassigned conversation or drop their own; taking over a colleague needs a supervisor', async () => {
    const c = await visitorStarts('Ola', 'hello');
    const forbidden = async (who: Person, assigneeId: string | null) => {
      const r = await api('PATCH', `/conversations/${c.id}`, who.auth, { assigneeId });
      expect(r.status, `${who.name} -> ${assigneeId}`).toBe(403);
      expect(r.body.error.code).toBe('PARLEY_ERR_FORBIDDEN');
    };
    await forbidden(agentOne, agentTwo.id);
    await forbidden(agentOne, admin.id);
    expect((await api('PATCH', `/conversations/${c.id}`, agentOne.auth, { assigneeId: agentOne.id })).body.assigneeId).toBe(agentOne.id);
    await forbidden(agentTwo, null); // dropping someone else's
    await forbidden(agentTwo, agentTwo.id); // taking over someone else's
    expect((await api('GET', `/conversations/${c.id}`, agentTwo.auth)).body.assigneeId).toBe(agentOne.id);
    expect((await api('PATCH', `/conversations/${c.id}`, agentOne.auth, { assigneeId: null })).body.assigneeId).toBeNull();
    expect((await api('PATCH', `/conversations/${c.id}`, agentTwo.auth, { assigneeId: agentTwo.id })).body.assigneeId).toBe(agentTwo.id);
    expect((await api('PATCH', `/conversations/${c.id}`, admin.auth, { assigneeId: agentOne.id })).body.assigneeId).toBe(agentOne.id);
    const unknown = await api('PATCH', `/conversations/${c.id}`, admin.auth, { assigneeId: 'usr_nobody' });
    expect(unknown.status).toBe(400);
    expect((await api('GET', `/conversations/${c.id}`, admin.auth)).body.assigneeId).toBe(agentOne.id);
    const supervisor = await invite('Sam Supervisor', 'supervisor');
    expect((await api('PATCH', `/conversations/${c.id}`, supervisor.auth, { assigneeId: agentTwo.id })).body.assigneeId).toBe(agentTwo.id);

    const all = (await api('GET', `/conversations/${c.id}/events`, admin.auth)).body.items as { type: string; actorId: string; data: Record<string, unknown> }[];
    // With no agent online, routing queued it on arrival and again when it was un-assigned.
    expect(all.filter((e) => e.type === 'queued')).toHaveLength(2);
    const history = all.filter((e) => !ROUTING_EVENTS.has(e.type));
    expect(history.map((e) => e.type)).toEqual(['created', 'assigned', 'unassigned', 'assigned', 'assigned', 'assigned']);
    expect(history[1]).toMatchObject({ actorId: agentOne.id, data: { from: null, to: agentOne.id } });
    expect(history[2]).toMatchObject({ actorId: agentOne.id, data: { from: agentOne.id, to: null } });
    expect(history[3]).toMatchObject({ actorId: agentTwo.id, data: { from: null, to: agentTwo.id } });
    expect(history[5]).toMatchObject({ actorId: supervisor.id, data: { from: agentOne.id, to: agentTwo.id } });
  });
});

describe('use cases queued together (done in one transaction)', () => {
  it('opens each conversation once; one verified identifier is one contact; changes apply in order, refused ones write nothing', async () => {
    const deps = t.parley.deps;
    const system = { type: 'system' as const, id: null };
    // Called in one tick: the committer runs them as one batch of each kind.
    const opened = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        openConversation(deps, { tenantId: tenant.tenantId, inboxId: apiInbox.id, channelType: 'api', contact: i < 2 ? { verifiedIdentifier: 'crm-77', name: `Twin ${i}` } : { name: `Burst ${i}` }, actor: system }),
      ),
    );
    const c = opened;
    expect(new Set(c.map((x) => x.id)).size).toBe(12);
    expect(c[0]!.contact.id).toBe(c[1]!.contact.id);
    expect(c[1]!.contact.name).toBe('Twin 1');
    expect(new Set(c.slice(2).map((x) => x.contact.id)).size).toBe(10);

    const as = (p: Person, role: 'agent' | 'admin') => ({ tenantId: tenant.tenantId, role, userId: p.id, name: p.name, via: 'session' as const });
    const one = as(agentOne, 'agent');
    const settle = (p: Promise<unknown>) => p.then((dto) => ({ dto: dto as Record<string, unknown>, code: null }), (err: { code?: string }) => ({ dto: null, code: err.code ?? String(err) }));
    const [takeOne, takeTwo, ...rest] = await Promise.all([
      settle(updateConversation(deps, one, c[0]!.id, { assigneeId: agentOne.id })),
      settle(updateConversation(deps, as(agentTwo, 'agent'), c[0]!.id, { assigneeId: agentTwo.id })),
      ...[1, 2, 3].map((i) => settle(updateConversation(deps, one, c[i]!.id, { labels: ['Burst', `n${i}`] }))),
      ...[4, 5, 6].map((i) => settle(updateConversation(deps, as(admin, 'admin'), c[i]!.id, { status: 'resolved' }))),
      settle(updateConversation(deps, as(admin, 'admin'), 'cnv_nope', { status: 'resolved' })),
      settle(updateConversation(deps, one, c[7]!.id, { assigneeId: agentTwo.id })),
      settle(updateConversation(deps, one, c[8]!.id, { status: 'snoozed' })),
      settle(updateConversation(deps, as(admin, 'admin'), c[9]!.id, { priority: 5 })),
      settle(updateConversation(deps, as(admin, 'admin'), c[9]!.id, { priority: 7, labels: ['vip'] })),
    ]);
    // The first queued takes it; the second finds it taken.
    expect(takeOne.dto?.assigneeId).toBe(agentOne.id);
    expect(takeTwo.code).toBe('PARLEY_ERR_FORBIDDEN');
    expect(rest.map((r) => r.code)).toEqual([null, null, null, null, null, null, 'PARLEY_ERR_NOT_FOUND', 'PARLEY_ERR_FORBIDDEN', 'PARLEY_ERR_VALIDATION', null, null]);
    expect(rest[0]!.dto?.labels).toEqual(['burst', 'n1']);
    expect(rest[3]!.dto?.status).toBe('resolved');
    // Both answered with the conversation as the batch left it (the second change started from the first's result, see its history below).
    expect(rest[9]!.dto).toMatchObject({ priority: 7, labels: ['vip'] });
    expect(rest[10]!.dto).toMatchObject({ priority: 7, labels: ['vip'] });

    const get = async (i: number) => (await api('GET', `/conversations/${c[i]!.id}`, admin.auth)).body;
    const events = async (i: number) => ((await api('GET', `/conversations/${c[i]!.id}/events`, admin.auth)).body.items as { type: string; data: Record<string, unknown> }[]).filter((e) => !ROUTING_EVENTS.has(e.type));
    expect((await get(0)).assigneeId).toBe(agentOne.id);
    expect((await events(0)).map((e) => e.type)).toEqual(['created', 'assigned']);
    for (const i of [4, 5, 6]) expect((await events(i)).map((e) => e.type)).toEqual(['created', 'status_changed']);
    // Refused: nothing written.
    expect(await get(7)).toMatchObject({ assigneeId: null, status: 'open' });
    expect((await events(7)).map((e) => e.type)).toEqual(['created']);
    expect((await get(8)).status).toBe('open');
    expect((await events(8)).map((e) => e.type)).toEqual(['created']);
    expect(await get(9)).toMatchObject({ priority: 7, labels: ['vip'] });
    expect((await events(9)).map((e) => [e.type, e.data])).toEqual([
      ['created', expect.anything()],
      ['priority_changed', { from: 0, to: 5 }],
      ['priority_changed', { from: 5, to: 7 }],
      ['labels_changed', { from: [], to: ['vip'] }],
    ]);
  });
});

describe('status', () => {
  it('snoozing needs snoozedUntil; a visitor message reopens a resolved or snoozed conversation', async () => {
    const c = await visitorStarts('Pia', 'first');
    const noDate = await api('PATCH', `/conversations/${c.id}`, agentOne.auth, { status: 'snoozed' });
    expect(noDate.status).toBe(400);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const snoozed = await api('PATCH', `/conversations/${c.id}`, agentOne.auth, { status: 'snoozed', snoozedUntil: until });
    expect(snoozed.status).toBe(200);
    expect(snoozed.body).toMatchObject({ status: 'snoozed', snoozedUntil: until });

    const reply = await api('POST', '/widget/conversation/messages', visitorAuth(c.token), { content: 'still there?', clientMessageId: 'p-2' });
    expect(reply.status).toBe(201);
    expect((await api('GET', `/conversations/${c.id}`, agentOne.auth)).body).toMatchObject({ status: 'open', snoozedUntil: null });

    expect((await api('PATCH', `/conversations/${c.id}`, agentOne.auth, { status: 'resolved' })).body.status).toBe('resolved');
    const widgetView = await api('GET', '/widget/conversation', visitorAuth(c.token));
    expect(widgetView.body.conversation.status).toBe('resolved');
    // An agent's own message does not reopen it.
    await api('POST', `/conversations/${c.id}/messages`, agentOne.auth, { content: 'bye!' });
    expect((await api('GET', `/conversations/${c.id}`, agentOne.auth)).body.status).toBe('resolved');
    await api('POST', '/widget/conversation/messages', visitorAuth(c.token), { content: 'one more thing', clientMessageId: 'p-3' });
    expect((await api('GET', `/conversations/${c.id}`, agentOne.auth)).body.status).toBe('open');

    const all = (await api('GET', `/conversations/${c.id}/events`, admin.auth)).body.items as { type: string; actorType: string; data: { from?: string; to?: string } }[];
    // Routing: queued on arrival and on each re-open; snoozing took it out of the queue, resolving it unanswered is an abandon.
    expect(all.filter((e) => ROUTING_EVENTS.has(e.type)).map((e) => e.type)).toEqual(['queued', 'queued', 'abandoned', 'queued']);
    const history = all.filter((e) => !ROUTING_EVENTS.has(e.type));
    expect(history.map((e) => [e.type, e.actorType, e.data.from, e.data.to])).toEqual([
      ['created', 'contact', undefined, undefined],
      ['status_changed', 'user', 'open', 'snoozed'],
      ['status_changed', 'contact', 'snoozed', 'open'],
      ['status_changed', 'user', 'open', 'resolved'],
      ['status_changed', 'contact', 'resolved', 'open'],
    ]);
    const times = history.map((e) => (e as unknown as { createdAt: string }).createdAt);
    expect(times).toEqual([...times].sort());
  });

  it('priority, labels and attributes changes are recorded, a no-op patch records nothing', async () => {
    const c = await visitorStarts('Quin', 'hi');
    await api('PATCH', `/conversations/${c.id}`, agentOne.auth, { priority: 3, customAttributes: { plan: 'pro' } });
    await api('PATCH', `/conversations/${c.id}`, agentOne.auth, { priority: 3, labels: [] });
    const patched = await api('PATCH', `/conversations/${c.id}`, agentOne.auth, { customAttributes: { seats: 4 } });
    expect(patched.body).toMatchObject({ priority: 3, customAttributes: { plan: 'pro', seats: 4 } });
    const history = (await api('GET', `/conversations/${c.id}/events`, admin.auth)).body.items as { type: string }[];
    expect(history.map((e) => e.type)).toEqual(['created', 'queued', 'priority_changed', 'attributes_changed', 'attributes_changed']);
  });
});

describe('answers built from the rows a change holds', () => {
  it('a PATCH answers and announces the conversation exactly as a fresh read shows it, with routing following or not', async () => {
    const c = await visitorStarts('Ulla', 'first words');
    await api('POST', `/conversations/${c.id}/messages`, admin.auth, { content: 'an agent reply' });
    const patches = [
      { labels: ['Billing'] }, // routing weighs it again
      { assigneeId: agentTwo.id }, // routing assigns it (a supervisor's force-assign)
      { priority: 2 },
      { assigneeId: null }, // waits in its queue again
      { status: 'resolved' }, // routing lets go
      { labels: ['billing', 'done'] }, // routing does not care (resolved)
      { customAttributes: { tier: 'gold' } },
    ];
    for (const patch of patches) {
      const answered = await api('PATCH', `/conversations/${c.id}`, admin.auth, patch);
      expect(answered.status).toBe(200);
      const read = await api('GET', `/conversations/${c.id}`, admin.auth);
      expect(answered.body).toEqual(read.body);
      expect(answered.body.lastMessage).toMatchObject({ content: 'an agent reply' });
      expect(answered.body.contact).toMatchObject({ name: 'Ulla' });
    }
    // An opening is answered as routing left it (queued), from the rows its insert returned.
    const opened = await api('POST', '/conversations', { bearer: tenant.apiKey }, { inboxId: apiInbox.id, contact: { name: 'Vera', email: 'vera@example.com' } });
    expect(opened.status).toBe(201);
    expect(opened.body).toEqual((await api('GET', `/conversations/${opened.body.id}`, admin.auth)).body);
  });
});

describe('read state', () => {
  it('visitor messages raise unread; marking read drops it to 0 and the visitor sees agentLastReadAt', async () => {
    const c = await visitorStarts('Rita', 'one');
    await api('POST', '/widget/conversation/messages', visitorAuth(c.token), { content: 'two', clientMessageId: 'r-2' });
    await api('POST', '/widget/conversation/messages', visitorAuth(c.token), { content: 'three', clientMessageId: 'r-3' });
    expect((await api('GET', `/conversations/${c.id}`, agentOne.auth)).body.unreadCount).toBe(3);
    expect((await api('GET', '/widget/conversation', visitorAuth(c.token))).body.conversation.agentLastReadAt).toBeNull();

    const read = await api('POST', `/conversations/${c.id}/read`, agentOne.auth);
    expect(read.status).toBe(204);
    const after = (await api('GET', `/conversations/${c.id}`, agentOne.auth)).body;
    expect(after.unreadCount).toBe(0);
    expect(after.agentLastReadAt).toEqual(expect.any(String));
    expect((await api('GET', '/widget/conversation', visitorAuth(c.token))).body.conversation.agentLastReadAt).toBe(after.agentLastReadAt);
    // Agents' own replies do not count as unread.
    await api('POST', `/conversations/${c.id}/messages`, agentOne.auth, { content: 'hello Rita' });
    expect((await api('GET', `/conversations/${c.id}`, agentOne.auth)).body.unreadCount).toBe(0);

    expect((await api('POST', '/widget/conversation/read', visitorAuth(c.token))).status).toBe(204);
    expect((await api('GET', `/conversations/${c.id}`, agentOne.auth)).body.contactLastReadAt).toEqual(expect.any(String));
    expect((await api('POST', '/conversations/cnv_nope/read', agentOne.auth)).status).toBe(404);
  });
});

describe('messages', () => {
  it('the same clientMessageId twice stores one message; the retry answers 200 with the same id', async () => {
    const c = await visitorStarts('Sven', 'hi');
    const first = await api('POST', `/conversations/${c.id}/messages`, agentOne.auth, { content: 'Once only', clientMessageId: 'agent-abc' });
    expect(first.status).toBe(201);
    const retry = await api('POST', `/conversations/${c.id}/messages`, agentOne.auth, { content: 'Once only', clientMessageId: 'agent-abc' });
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(first.body.id);

    const v1 = await api('POST', '/widget/conversation/messages', visitorAuth(c.token), { content: 'visitor once', clientMessageId: 'v-xyz' });
    const v2 = await api('POST', '/widget/conversation/messages', visitorAuth(c.token), { content: 'visitor once', clientMessageId: 'v-xyz' });
    expect([v1.status, v2.status]).toEqual([201, 200]);
    expect(v2.body.id).toBe(v1.body.id);

    // Racing retries still give one row.
    const racing = await Promise.all(Array.from({ length: 5 }, () => api('POST', '/widget/conversation/messages', visitorAuth(c.token), { content: 'race', clientMessageId: 'v-race' })));
    expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    const rows = await t.db.selectFrom('messages').select('client_message_id').where('conversation_id', '=', c.id).execute();
    expect(rows.filter((r) => r.client_message_id === 'agent-abc')).toHaveLength(1);
    expect(rows.filter((r) => r.client_message_id === 'v-xyz')).toHaveLength(1);
    expect(rows.filter((r) => r.client_message_id === 'v-race')).toHaveLength(1);
    // Retries do not count twice as unread: hi, visitor once, race.
    expect((await api('GET', `/conversations/${c.id}`, admin.auth)).body.unreadCount).toBe(3);
  });

  it('pages messages backwards with `before`, oldest first within a page', async () => {
    const c = await visitorStarts('Tara', 'm0');
    for (let i = 1; i < 7; i++) await api('POST', `/conversations/${c.id}/messages`, agentOne.auth, { content: `m${i}` });
    const all = (await api('GET', `/conversations/${c.id}/messages`, agentOne.auth)).body.items as { id: string; content: string }[];
    expect(all.map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);

    const pages: string[][] = [];
    let before: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await api('GET', `/conversations/${c.id}/messages?limit=3${before ? `&before=${before}` : ''}`, agentOne.auth);
      const items = r.body.items as { id: string; content: string }[];
      if (items.length === 0) break;
      pages.push(items.map((m) => m.content));
      before = items[0]!.id;
    }
    expect(pages).toEqual([['m4', 'm5', 'm6'], ['m1', 'm2', 'm3'], ['m0']]);
  });
});

describe('private notes and mentions', () => {
  it('a private note mentioning @Name stores that user id and never reaches the visitor', async () => {
    const c = await visitorStarts('Uma', 'is anyone there?');
    const note = await api('POST', `/conversations/${c.id}/messages`, admin.auth, { content: '@agent one can you take this? cc @Agent Two', private: true });
    expect(note.status).toBe(201);
    expect(note.body.private).toBe(true);
    expect([...note.body.mentions].sort()).toEqual([agentOne.id, agentTwo.id].sort());
    const stored = await t.db.selectFrom('messages').select(['mentions', 'private']).where('id', '=', note.body.id).executeTakeFirstOrThrow();
    expect(stored.private).toBe(true);
    expect([...stored.mentions].sort()).toEqual([agentOne.id, agentTwo.id].sort());

    // A public reply with an @ mentions nobody.
    const publicReply = await api('POST', `/conversations/${c.id}/messages`, admin.auth, { content: 'Hi! @Agent One will help you' });
    expect(publicReply.body.mentions).toEqual([]);
    const noOne = await api('POST', `/conversations/${c.id}/messages`, admin.auth, { content: 'email me at x@example.com', private: true });
    expect(noOne.body.mentions).toEqual([]);

    const widget = await api('GET', '/widget/conversation', visitorAuth(c.token));
    expect(widget.status).toBe(200);
    expect(widget.body.messages.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining([publicReply.body.id]));
    expect(widget.text).not.toContain(note.body.id);
    expect(widget.text).not.toContain('can you take this');
    expect(widget.text).not.toContain('x@example.com');
    expect(widget.body.messages.every((m: { private: boolean; mentions: string[] }) => m.private === false && m.mentions.length === 0)).toBe(true);

    // The agents see everything; the note is not the conversation's last message nor unread.
    const agentView = (await api('GET', `/conversations/${c.id}/messages`, agentOne.auth)).body.items as { id: string }[];
    expect(agentView.map((m) => m.id)).toEqual(expect.arrayContaining([note.body.id, noOne.body.id]));
    const conversation = (await api('GET', `/conversations/${c.id}`, agentOne.auth)).body;
    expect(conversation.lastMessage.id).toBe(publicReply.body.id);
    expect(conversation.unreadCount).toBe(1);
  });
});
