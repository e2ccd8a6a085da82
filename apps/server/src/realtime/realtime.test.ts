import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { TestSocket } from '../../test/sockets.ts';
import { pruneEvents } from './event-log.ts';

let t: TestParley;
let tenant: TestTenant;
let inbox: { id: string; publicId: string };
let wsBase: string;

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, key = tenant.apiKey): Promise<T> {
  const res = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

async function startChat(message = 'hello', publicId = inbox.publicId) {
  const res = await fetch(`${t.baseUrl}/api/v1/widget/inboxes/${publicId}/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Visitor', email: 'v@example.com', message }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; conversation: { id: string } };
}

const agentSocket = () => TestSocket.open(`${wsBase}/api/v1/realtime`, { authorization: `Bearer ${tenant.apiKey}` });
const visitorSocket = (publicId = inbox.publicId, origin?: string) =>
  TestSocket.open(`${wsBase}/api/v1/widget/realtime?inbox=${publicId}`, origin ? { origin } : {});

beforeAll(async () => {
  t = await startTestParley();
  wsBase = t.baseUrl.replace(/^http/, 'ws');
  tenant = await t.createTenant('Acme');
  inbox = await api('POST', '/api/v1/inboxes', { name: 'Site', channelType: 'webchat' });
});
afterAll(async () => t?.stop());

describe('agent realtime stream', () => {
  it('delivers every committed event live, in seq order, each seq once', async () => {
    const agent = await agentSocket();
    const ready = await agent.hello(null);
    const chats = await Promise.all(Array.from({ length: 5 }, (_, i) => startChat(`parallel ${i}`)));
    await Promise.all(chats.map((c) => api('POST', `/api/v1/conversations/${c.conversation.id}/messages`, { content: 'reply' })));
    await agent.next(() => agent.events('message.created').length >= 10);
    const seqs = agent.events().map((f) => f.seq!);
    expect(seqs[0]).toBe(ready.seq! + 1);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    agent.close();
  });

  it('replays exactly the events missed while disconnected, then continues live', async () => {
    const first = await agentSocket();
    await first.hello(null);
    const chat = await startChat('before the cut');
    const seen = await first.next((f) => f.event?.type === 'message.created' && (f.event.data.content as string) === 'before the cut');
    first.ws.terminate(); // network loss: no close handshake

    await fetch(`${t.baseUrl}/api/v1/widget/conversation/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${chat.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'while away 1', clientMessageId: 'away-1' }),
    });
    await api('POST', `/api/v1/conversations/${chat.conversation.id}/messages`, { content: 'while away 2' });

    const lastSeen = Math.max(...first.frames.filter((f) => f.seq !== undefined).map((f) => f.seq!));
    expect(lastSeen).toBeGreaterThanOrEqual(seen.seq!);
    const second = await agentSocket();
    const ready = await second.hello(lastSeen);
    expect(ready.type).toBe('ready');
    const replayed = second.events();
    expect(replayed.map((f) => f.seq)).toEqual(Array.from({ length: replayed.length }, (_, i) => lastSeen + 1 + i));
    expect(replayed.filter((f) => f.event?.type === 'message.created').map((f) => f.event!.data.content)).toEqual(['while away 1', 'while away 2']);

    await api('POST', `/api/v1/conversations/${chat.conversation.id}/messages`, { content: 'after reconnect' });
    const live = await second.next((f) => f.event?.data.content === 'after reconnect');
    expect(live.seq).toBeGreaterThan(ready.seq!);
    second.close();
  });

  it('tells a client whose missed events were pruned to refetch', async () => {
    const agent = await agentSocket();
    const { seq } = await agent.hello(null);
    agent.close();
    await startChat('soon pruned');
    await pruneEvents(t.db, new Date(Date.now() + 60_000));
    const again = await agentSocket();
    const answer = await again.hello(seq!);
    expect(answer.type).toBe('resync');
    expect(answer.seq).toBeGreaterThan(seq!);
    again.close();
  });

  it('refuses a cookie-authenticated socket from a foreign origin and an anonymous one', async () => {
    await expect(TestSocket.open(`${wsBase}/api/v1/realtime`)).rejects.toThrow('HTTP 401');
    const login = await fetch(`${t.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: tenant.adminEmail, password: tenant.adminPassword }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    await expect(TestSocket.open(`${wsBase}/api/v1/realtime`, { cookie, origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    const ok = await TestSocket.open(`${wsBase}/api/v1/realtime`, { cookie, origin: t.baseUrl });
    expect((await ok.hello(null)).type).toBe('ready');
    ok.close();
  });
});

describe('visitor realtime stream', () => {
  it("gets only its own conversation's public events: no private notes, no other chats", async () => {
    const mine = await startChat('mine');
    const other = await startChat('other');
    const visitor = await visitorSocket();
    await visitor.hello(null, mine.token);
    await api('POST', `/api/v1/conversations/${mine.conversation.id}/messages`, { content: 'secret note', private: true });
    await api('POST', `/api/v1/conversations/${other.conversation.id}/messages`, { content: 'to the other visitor' });
    await api('POST', `/api/v1/conversations/${mine.conversation.id}/messages`, { content: 'public reply' });
    await visitor.next((f) => f.event?.data.content === 'public reply');
    const contents = visitor.events('message.created').map((f) => f.event!.data.content);
    expect(contents).toEqual(['public reply']);
    const all = JSON.stringify(visitor.frames);
    expect(all).not.toContain('secret note');
    expect(all).not.toContain('to the other visitor');
    expect(all).not.toContain(other.conversation.id);
    visitor.close();
  });

  it('replays what a visitor missed during a network cut, without duplicates', async () => {
    const chat = await startChat('start');
    const v1 = await visitorSocket();
    const ready = await v1.hello(null, chat.token);
    await api('POST', `/api/v1/conversations/${chat.conversation.id}/messages`, { content: 'one' });
    const one = await v1.next((f) => f.event?.data.content === 'one');
    v1.ws.terminate();
    await api('POST', `/api/v1/conversations/${chat.conversation.id}/messages`, { content: 'two' });
    await startChat('unrelated traffic');
    await api('POST', `/api/v1/conversations/${chat.conversation.id}/messages`, { content: 'three' });

    const v2 = await visitorSocket();
    await v2.hello(one.seq!, chat.token);
    await v2.next((f) => f.event?.data.content === 'three');
    expect(v2.events('message.created').map((f) => f.event!.data.content)).toEqual(['two', 'three']);
    expect(ready.seq).toBeLessThan(one.seq!);
    v2.close();
  });

  it('sends messages over the socket idempotently by clientMessageId', async () => {
    const chat = await startChat('start');
    const v = await visitorSocket();
    await v.hello(null, chat.token);
    v.send({ type: 'message', clientMessageId: 'c-1', content: 'over ws' });
    v.send({ type: 'message', clientMessageId: 'c-1', content: 'over ws' });
    const acks = await v.next(() => v.frames.filter((f) => f.type === 'ack').length === 2);
    const ids = v.frames.filter((f) => f.type === 'ack').map((f) => (f.message as { id: string }).id);
    expect(ids[0]).toBe(ids[1]);
    expect(acks).toBeTruthy();
    const rows = await t.db.selectFrom('messages').select('id').where('conversation_id', '=', chat.conversation.id).where('client_message_id', '=', 'c-1').execute();
    expect(rows).toHaveLength(1);
    v.close();
  });

  it('refuses a handshake from an origin outside the allowed domains', async () => {
    const locked = await api<{ publicId: string }>('POST', '/api/v1/inboxes', { name: 'Locked', channelType: 'webchat', settings: { allowedDomains: ['shop.example.com'] } });
    await expect(visitorSocket(locked.publicId, 'https://evil.example')).rejects.toThrow('HTTP 403');
    const ok = await visitorSocket(locked.publicId, 'https://shop.example.com');
    ok.close();
    await expect(visitorSocket('wc_unknown_inbox')).rejects.toThrow('HTTP 404');
  });

  it('closes a socket with a reason for a forged token, garbage, a binary frame or a flood — and keeps serving', async () => {
    const forged = await visitorSocket();
    forged.send({ type: 'hello', lastSeq: null, token: 'vt1.eyJ4IjoxfQ.forged' });
    expect(await forged.whenClosed()).toEqual({ code: 4401, reason: 'invalid visitor token' });

    const garbage = await visitorSocket();
    garbage.send('{not json');
    expect(await garbage.whenClosed()).toEqual({ code: 1007, reason: 'frame is not JSON' });

    const wrongShape = await agentSocket();
    wrongShape.send({ type: 'hello', lastSeq: { $gt: 0 } });
    expect((await wrongShape.whenClosed()).code).toBe(1008);

    const binary = await agentSocket();
    binary.ws.send(Buffer.from([1, 2, 3]));
    expect((await binary.whenClosed()).code).toBe(1003);

    const flood = await agentSocket();
    await flood.hello(null);
    for (let i = 0; i < 200; i++) flood.send({ type: 'ping' });
    expect(await flood.whenClosed()).toEqual({ code: 1008, reason: 'rate limit exceeded' });

    const healthy = await agentSocket();
    expect((await healthy.hello(null)).type).toBe('ready');
    healthy.close();
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
  });

  it('lets a visitor token of one conversation see nothing of another', async () => {
    const a = await startChat('a');
    const b = await startChat('b');
    const res = await fetch(`${t.baseUrl}/api/v1/widget/conversation`, { headers: { authorization: `Bearer ${a.token}` } });
    const body = (await res.json()) as { conversation: { id: string } };
    expect(body.conversation.id).toBe(a.conversation.id);
    expect(JSON.stringify(body)).not.toContain(b.conversation.id);
  });
});

describe('typing and read indicators', () => {
  it('relays visitor typing to agents and agent typing to the visitor, and read receipts both ways', async () => {
    const chat = await startChat('hi');
    const agent = await agentSocket();
    await agent.hello(null);
    const visitor = await visitorSocket();
    await visitor.hello(null, chat.token);

    visitor.send({ type: 'typing', on: true });
    const typing = await agent.next((f) => f.type === 'ephemeral' && (f.event?.data.who as string) === 'contact');
    expect(typing.event!.data).toMatchObject({ conversationId: chat.conversation.id, on: true });

    agent.send({ type: 'typing', conversationId: chat.conversation.id, on: true });
    const agentTyping = await visitor.next((f) => f.type === 'ephemeral');
    expect(agentTyping.event).toEqual({ type: 'typing', data: { who: 'agent', on: true } });

    await api('POST', `/api/v1/conversations/${chat.conversation.id}/read`);
    const read = await visitor.next((f) => f.event?.type === 'conversation.read');
    expect(read.event!.data).toMatchObject({ by: 'agent' });

    visitor.send({ type: 'read' });
    const visitorRead = await agent.next((f) => f.event?.type === 'conversation.read' && f.event.data.by === 'contact');
    expect(visitorRead.event!.data.conversationId).toBe(chat.conversation.id);
    agent.close();
    visitor.close();
  });
});
