import { expect } from 'vitest';
import type { TestParley, TestTenant } from './test-parley.ts';
import { TestSocket, type Frame } from './sockets.ts';

/** Test helpers for routing: people with sessions, their agent sockets, visitors starting chats. */

export type Auth = { bearer: string } | { cookie: string; csrf: string } | null;
export interface Person {
  id: string;
  name: string;
  auth: { cookie: string; csrf: string };
}
export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export class RoutingKit {
  admin!: Person;
  inbox!: { id: string; publicId: string };
  defaultQueue!: string;

  constructor(
    public t: TestParley,
    public tenant: TestTenant,
  ) {}

  static async create(t: TestParley, name = 'Routing Co'): Promise<RoutingKit> {
    const kit = new RoutingKit(t, await t.createTenant(name));
    kit.admin = await kit.login(kit.tenant.adminEmail, kit.tenant.adminPassword);
    kit.inbox = (await kit.api('POST', '/inboxes', { bearer: kit.tenant.apiKey }, { name: 'Chat', channelType: 'webchat', settings: { prechat: { enabled: false, fields: [] } } })).body;
    kit.defaultQueue = (await kit.api('GET', '/routing/queues', { bearer: kit.tenant.apiKey })).body.items.find((q: { isDefault: boolean }) => q.isDefault).id;
    return kit;
  }

  get key(): Auth {
    return { bearer: this.tenant.apiKey };
  }

  async api(method: string, path: string, auth: Auth, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (auth && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
    if (auth && 'cookie' in auth) Object.assign(headers, { cookie: auth.cookie, 'x-csrf-token': auth.csrf });
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.t.baseUrl}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  }

  async ok(method: string, path: string, auth: Auth, body?: unknown, status = 200) {
    const r = await this.api(method, path, auth, body);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.body;
  }

  async login(email: string, password: string): Promise<Person> {
    const res = await fetch(`${this.t.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    const body = (await res.json()) as { user: { id: string; name: string }; csrfToken: string };
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('parley_session='))!.split(';')[0]!;
    return { id: body.user.id, name: body.user.name, auth: { cookie, csrf: body.csrfToken } };
  }

  async invite(name: string, role: 'agent' | 'supervisor' = 'agent'): Promise<Person> {
    const email = `${name.replace(/\W/g, '').toLowerCase()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const inv = await this.ok('POST', '/invitations', this.key, { email, role }, 201);
    const token = String(inv.acceptUrl).split('/invite/')[1];
    const res = await fetch(`${this.t.baseUrl}/api/v1/invitations/${token}/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password: 'a long enough password' }),
    });
    expect(res.status, await res.text()).toBe(200);
    return this.login(email, 'a long enough password');
  }

  /** Opens the person's agent socket (which makes them connected, and available if offline). */
  async online(person: Person, baseUrl = this.t.baseUrl): Promise<TestSocket> {
    const socket = await TestSocket.open(`${baseUrl.replace('http', 'ws')}/api/v1/realtime`, { cookie: person.auth.cookie, origin: baseUrl });
    await socket.hello(null);
    await this.until(async () => (await this.api('GET', `/routing/agents/${person.id}`, this.key)).body.connected === true, 'agent connected');
    return socket;
  }

  async setProfile(person: Person, skills: Record<string, number>, capacity: Record<string, number>) {
    return this.ok('PUT', `/routing/agents/${person.id}/profile`, this.key, { skills, capacity });
  }

  async patchQueue(queueId: string, patch: Record<string, unknown>) {
    return this.ok('PATCH', `/routing/queues/${queueId}`, this.key, patch);
  }

  async visitor(name: string, message = 'hello', publicId = this.inbox.publicId): Promise<{ id: string; token: string }> {
    const r = await this.api('POST', `/widget/inboxes/${publicId}/conversations`, null, { name, message, clientMessageId: `${name.replace(/\W/g, '-')}-1` });
    expect(r.status, r.text).toBe(201);
    return { id: r.body.conversation.id, token: r.body.token };
  }

  async history(conversationId: string): Promise<{ type: string; actorId: string | null; data: Record<string, unknown> }[]> {
    return (await this.ok('GET', `/conversations/${conversationId}/events`, this.key)).items;
  }

  async until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
}

export function offerFrame(conversationId: string, agentId?: string) {
  return (f: Frame) =>
    f.type === 'event' &&
    f.event?.type === 'routing.offer' &&
    (f.event.data as { offer: { conversationId: string; agentId: string } }).offer.conversationId === conversationId &&
    (!agentId || (f.event.data as { offer: { agentId: string } }).offer.agentId === agentId);
}

export function offerOf(frame: Frame): { id: string; conversationId: string; agentId: string; expiresAt: string; status: string } {
  return (frame.event!.data as { offer: { id: string; conversationId: string; agentId: string; expiresAt: string; status: string } }).offer;
}
