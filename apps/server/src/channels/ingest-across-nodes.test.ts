import { afterAll, describe, expect, it } from 'vitest';
import { startTwoNodes } from '../../test/test-parley.ts';
import type { InboxRow } from '../db/schema.ts';
import type { InboundMessage } from './channel.ts';
import { ingestInbound } from './ingest.ts';

// Two servers on one PostgreSQL receive the same new messages at the same moment (a provider
// retrying on another node, SMTP on one and IMAP polling on the other): each message is stored
// once and opens one conversation — the node that loses the message's unique source id rolls its
// whole transaction back instead of leaving an empty twin conversation.

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

const email = (i: number, withFile: boolean): InboundMessage => ({
  sourceId: `<race-${withFile ? 'file' : 'text'}-${i}@customer.test>`,
  externalId: `<race-${withFile ? 'file' : 'text'}-${i}@customer.test>`,
  from: { handle: `sender-${withFile ? 'f' : 't'}${i}@customer.test`, name: `Sender ${i}` },
  to: 'support@help.example.test',
  threadKeys: [],
  subject: `Order ${i}`,
  text: `Where is order ${i}?`,
  html: null,
  // With a file the message takes the one-by-one path; without, the batched text path.
  attachments: withFile ? [{ filename: 'receipt.txt', contentType: 'text/plain', content: Buffer.from(`receipt ${i}`) }] : [],
  autoReply: false,
  bounce: false,
  details: {},
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('one message at two nodes at once', () => {
  it('is stored once in one conversation, on the batched text path and on the one-by-one path, and leaves no empty conversation', async () => {
    const { a, b, stop } = await startTwoNodes({ workers: false, imapPolling: false });
    cleanup.push(stop);
    const tenant = await a.createTenant('Race');
    const res = await fetch(`${a.baseUrl}/api/v1/inboxes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Support', channelType: 'email', settings: { email: { address: 'support@help.example.test', smtp: { host: '127.0.0.1', port: 2525, secure: false } } } }),
    });
    expect(res.status).toBe(201);
    const inbox: InboxRow = await a.db.selectFrom('inboxes').selectAll().where('id', '=', ((await res.json()) as { id: string }).id).executeTakeFirstOrThrow();

    const messages = Array.from({ length: 12 }, (_, i) => email(i, i % 2 === 1));
    const results = await Promise.all(messages.flatMap((m) => [ingestInbound(a.parley.deps, inbox, m), ingestInbound(b.parley.deps, inbox, m)]));
    // Both nodes answer with the one stored message, and exactly one of them stored it.
    for (let i = 0; i < messages.length; i++) {
      const [x, y] = [results[2 * i]!, results[2 * i + 1]!];
      expect(x.messageId).toBe(y.messageId);
      expect(x.conversationId).toBe(y.conversationId);
      expect([x.created, y.created].filter(Boolean)).toHaveLength(1);
    }
    const stored = await a.db.selectFrom('messages').select(['conversation_id', 'source_id']).where('tenant_id', '=', tenant.tenantId).execute();
    expect(stored).toHaveLength(messages.length);
    const conversations = await a.db.selectFrom('conversations').select('id').where('tenant_id', '=', tenant.tenantId).execute();
    expect(conversations.map((c) => c.id).sort()).toEqual([...new Set(stored.map((m) => m.conversation_id))].sort());
    expect(conversations).toHaveLength(messages.length);
  });
});
