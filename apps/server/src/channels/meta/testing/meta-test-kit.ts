import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { call, type Answer } from '../../../../test/http.ts';
import { startTestParley, type TestParley, type TestTenant } from '../../../../test/test-parley.ts';
import type { MetaChannel } from '../meta-webhook.ts';
import { startFakeGraph, type FakeGraph, type FakeGraphAccount } from './fake-graph.ts';

export interface TestInbox {
  id: string;
  publicId: string;
  channel: MetaChannel;
  accountId: string;
  appSecret: string;
  verifyToken: string;
  accessToken: string;
  tenant: TestTenant;
}

export const TEMPLATES = [
  { name: 'order_update', language: 'es_MX', body: 'Hola {{1}}, tu pedido {{2}} está en camino.' },
  { name: 'we_are_back', language: 'en_US', body: 'We are back online. Reply to continue.' },
];

/**
 * A Parley with a fake Graph API and Meta inboxes of two tenants: A has a WhatsApp number, a
 * Messenger page and an Instagram account; B has a WhatsApp number with its own app secret.
 */
export async function startMetaWorld() {
  const specs: { key: string; tenant: 'a' | 'b'; channel: MetaChannel; accountId: string; secret: string }[] = [
    { key: 'wa', tenant: 'a', channel: 'whatsapp', accountId: '555000111', secret: 'app-secret-a' },
    { key: 'fb', tenant: 'a', channel: 'messenger', accountId: '900800700', secret: 'app-secret-a' },
    { key: 'ig', tenant: 'a', channel: 'instagram', accountId: '17841400000001', secret: 'app-secret-a' },
    { key: 'waB', tenant: 'b', channel: 'whatsapp', accountId: '555000222', secret: 'app-secret-b' },
  ];
  const accounts: FakeGraphAccount[] = specs.map((s) => ({ id: s.accountId, kind: s.channel === 'whatsapp' ? 'whatsapp' : 'page', accessToken: `token-${s.key}` }));
  const graph = await startFakeGraph(accounts);
  const t = await startTestParley({ jobs: { pollMs: 30, backoffBaseMs: 50, maxAttempts: 3 } });
  const tenants = { a: await t.createTenant('Meta A'), b: await t.createTenant('Meta B') };
  const inboxes: Record<string, TestInbox> = {};
  for (const s of specs) {
    const tenant = tenants[s.tenant];
    const created = await call(t.baseUrl, 'POST', '/inboxes', {
      auth: { apiKey: tenant.apiKey },
      body: {
        name: `${s.channel} ${s.key}`,
        channelType: s.channel,
        settings: {
          meta: {
            accountId: s.accountId,
            appSecret: s.secret,
            accessToken: `token-${s.key}`,
            verifyToken: `verify-${s.key}`,
            graphBaseUrl: graph.baseUrl,
            apiVersion: 'v21.0',
            ...(s.channel === 'whatsapp' ? { displayNumber: '+15550001111', templates: TEMPLATES } : {}),
          },
        },
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.settings.meta).toMatchObject({ appSecretSet: true, accessTokenSet: true });
    expect(created.body.settings.meta.appSecret).toBeUndefined();
    inboxes[s.key] = { id: created.body.id, publicId: created.body.publicId, channel: s.channel, accountId: s.accountId, appSecret: s.secret, verifyToken: `verify-${s.key}`, accessToken: `token-${s.key}`, tenant };
  }
  return { t, graph, tenants, inboxes: inboxes as Record<'wa' | 'fb' | 'ig' | 'waB', TestInbox>, ...helpers(t, graph) };
}

export const sign = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function helpers(t: TestParley, graph: FakeGraph) {
  return {
    /** POSTs a webhook body as Meta does: raw JSON, signed with the given secret (or a given header, or none). */
    deliver(path: string, body: string, signature: string | null): Promise<Answer> {
      return call(t.baseUrl, 'POST', path, { raw: body, headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) } });
    },
    /** The inbox's messages, oldest first, with their channel side. */
    async messagesOf(inbox: TestInbox) {
      return t.db
        .selectFrom('messages as m')
        .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
        .leftJoin('channel_messages as cm', 'cm.message_id', 'm.id')
        .select(['m.id', 'm.conversation_id', 'm.content', 'm.status', 'm.error', 'm.attachments', 'm.direction', 'm.source_id', 'm.sender_name', 'cm.external_id', 'cm.thread_keys', 'cm.details', 'cm.from_handle'])
        .where('c.inbox_id', '=', inbox.id)
        .where('m.tenant_id', '=', inbox.tenant.tenantId)
        .orderBy('m.created_at')
        .execute();
    },
    async waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
      const until = Date.now() + ms;
      for (;;) {
        const got = await probe();
        if (got) return got;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    },
  };
}

export type MetaWorld = Awaited<ReturnType<typeof startMetaWorld>>;
