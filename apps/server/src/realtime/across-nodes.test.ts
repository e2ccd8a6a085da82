import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { openTestDatabase } from '../../test/test-database.ts';
import { TestSocket } from '../../test/sockets.ts';
import { offerFrame } from '../../test/routing-kit.ts';
import type { OpenedDatabase } from '../db/database.ts';

// Two server processes on one PostgreSQL: an agent connected to one sees, live and in seq order,
// what the other commits (docs/decisions/0006-events-across-nodes.md). The embedded engine is
// held by one process, so there is nothing to test there.
describe.skipIf(!process.env.TEST_DATABASE_URL)('events across nodes (PostgreSQL)', () => {
  let database: OpenedDatabase;
  let a: TestParley;
  let b: TestParley;
  let tenant: TestTenant;
  let publicId: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    a = await startTestParley({ database });
    b = await startTestParley({ database });
    tenant = await a.createTenant('Two nodes');
    const res = await fetch(`${b.baseUrl}/api/v1/inboxes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Site', channelType: 'webchat' }),
    });
    publicId = ((await res.json()) as { publicId: string }).publicId;
    await untilListening(2);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await database?.close();
  });

  const agentOn = async (node: TestParley) => {
    const socket = await TestSocket.open(`${node.baseUrl.replace(/^http/, 'ws')}/api/v1/realtime`, { authorization: `Bearer ${tenant.apiKey}` });
    return { socket, ready: await socket.hello(null) };
  };
  const chatOn = async (node: TestParley, message: string) => {
    const res = await fetch(`${node.baseUrl}/api/v1/widget/inboxes/${publicId}/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Visitor', email: 'v@example.com', message }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { token: string; conversation: { id: string } };
  };
  const admin = () => new pg.Client({ connectionString: database.url });
  /** Until `n` nodes hold their LISTEN connection to this test's database. */
  const untilListening = async (n: number) => {
    const c = admin();
    await c.connect();
    try {
      for (let i = 0; i < 100; i++) {
        const { rows } = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'parley-listen' AND query ILIKE 'LISTEN%'`);
        if (rows[0].n >= n) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${n} listening nodes not seen`);
    } finally {
      await c.end();
    }
  };

  it('an agent on one node gets live, in order and once, what the other node commits', async () => {
    const { socket, ready } = await agentOn(a);
    const chat = await chatOn(b, 'written to node B');
    const reply = await fetch(`${b.baseUrl}/api/v1/conversations/${chat.conversation.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'answered on node B' }),
    });
    expect(reply.status).toBe(201);
    await socket.next((f) => f.event?.type === 'message.created' && f.event.data.content === 'answered on node B');
    const seqs = socket.events().map((f) => f.seq!);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => ready.seq! + 1 + i));
    expect(socket.events('message.created').map((f) => f.event!.data.content)).toEqual(['written to node B', 'answered on node B']);
    // Node B's own agents get the same stream.
    const onB = await agentOn(b);
    expect(onB.ready.seq).toBe(seqs[seqs.length - 1]);
    socket.close();
    onB.socket.close();
  });

  it('a node whose listening connection was cut reads, once it listens again, what was committed meanwhile', async () => {
    const { socket } = await agentOn(a);
    const c = admin();
    await c.connect();
    // Cuts both nodes' LISTEN connections; they reconnect with backoff.
    await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'parley-listen'`);
    await c.end();
    await chatOn(b, 'while A was not listening');
    await socket.next((f) => f.event?.type === 'message.created' && f.event.data.content === 'while A was not listening');
    await untilListening(2);
    await chatOn(b, 'after A listens again');
    await socket.next((f) => f.event?.type === 'message.created' && f.event.data.content === 'after A listens again');
    const seqs = socket.events().map((f) => f.seq!);
    expect(new Set(seqs).size).toBe(seqs.length);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    socket.close();
  });

  it('offers, typing and presence reach the other node, and the widget on either node sees an agent connected to one', async () => {
    // The earlier tests' chats are closed: the only work routing will offer is this test's.
    const auth = { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' };
    const { items } = (await (await fetch(`${b.baseUrl}/api/v1/conversations?assignee=all&status=open`, { headers: auth })).json()) as { items: { id: string }[] };
    for (const c of items) await fetch(`${b.baseUrl}/api/v1/conversations/${c.id}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ status: 'resolved' }) });
    const widgetOnline = async (node: TestParley) => ((await (await fetch(`${node.baseUrl}/api/v1/widget/inboxes/${publicId}`)).json()) as { online: boolean }).online;
    expect(await widgetOnline(a)).toBe(false);
    const watcher = await agentOn(b);
    // The admin signs in and opens the agent app on node A only.
    const login = await fetch(`${a.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: tenant.adminEmail, password: tenant.adminPassword }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const app = await TestSocket.open(`${a.baseUrl.replace(/^http/, 'ws')}/api/v1/realtime`, { cookie, origin: a.baseUrl });
    await app.hello(null);
    const online = await watcher.socket.next((f) => f.type === 'ephemeral' && f.event?.type === 'presence');
    expect(online.event!.data).toEqual({ userId: tenant.adminUserId, online: true });
    expect(await widgetOnline(b)).toBe(true);
    expect(await widgetOnline(a)).toBe(true);
    // Node B loaded the routing state node A changed once, and keeps it for the next page view.
    const stored = await database.db.selectFrom('routing_state').select('token').where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
    expect(b.parley.deps.routing['tenants'].get(tenant.tenantId)?.token).toBe(stored.token);

    // A chat started on node B is routed there; its offer reaches the agent's app on node A.
    const chat = await chatOn(b, 'typing next');
    await app.next(offerFrame(chat.conversation.id, tenant.adminUserId));
    // A visitor typing on node B is seen by the agent on node A.
    const visitor = await TestSocket.open(`${b.baseUrl.replace(/^http/, 'ws')}/api/v1/widget/realtime?inbox=${publicId}`, {});
    await visitor.hello(null, chat.token);
    visitor.send({ type: 'typing', on: true });
    const typing = await app.next((f) => f.type === 'ephemeral' && f.event?.type === 'typing');
    expect(typing.event!.data).toMatchObject({ conversationId: chat.conversation.id, who: 'contact', on: true });

    app.close();
    const offline = await watcher.socket.next((f) => f.type === 'ephemeral' && f.event?.type === 'presence' && f.event.data.online === false);
    expect(offline.event!.data.userId).toBe(tenant.adminUserId);
    expect(await widgetOnline(b)).toBe(false);
    visitor.close();
    watcher.socket.close();
  });
});
