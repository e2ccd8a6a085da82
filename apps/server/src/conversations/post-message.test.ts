import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { openConversation } from './open-conversation.ts';
import { postMessage } from './post-message.ts';
import { updateConversation } from './update-conversation.ts';
import { listMessages } from './conversations.repository.ts';

// Customers' messages that arrive together are stored by one set-based batch (group commit):
// these tests hold it to the same rules as the one-by-one path.

let t: TestParley;
let tenant: TestTenant;
let inboxId: string;

const open = () =>
  openConversation(t.parley.deps, { tenantId: tenant.tenantId, inboxId, channelType: 'webchat', contact: { name: 'Batch Visitor' }, actor: { type: 'contact', id: null } });
const inbound = (conversationId: string, content: string, clientMessageId?: string) =>
  postMessage(t.parley.deps, { tenantId: tenant.tenantId, conversationId, direction: 'in', senderType: 'contact', senderId: null, content, clientMessageId });

beforeAll(async () => {
  t = await startTestParley({ config: { workers: false } });
  tenant = await t.createTenant('Batch Co');
  inboxId = (await t.db.insertInto('inboxes').values({ id: 'inb_batch', tenant_id: tenant.tenantId, public_id: 'wc_batch', name: 'B', channel_type: 'webchat', settings: '{}', identity_secret: 's' }).returning('id').executeTakeFirstOrThrow()).id;
});
afterAll(async () => t?.stop());

describe('messages posted together', () => {
  it('are each stored once, in arrival order per conversation, with exact unread counts', async () => {
    const conversations = await Promise.all(Array.from({ length: 4 }, open));
    const calls = Array.from({ length: 40 }, (_, i) => ({ c: conversations[i % 4]!.id, content: `m${i}`, id: `cid-${i % 30}` }));
    // Ten retries (same clientMessageId and conversation) race with their originals.
    const results = await Promise.all(calls.map((x) => inbound(x.c, x.content, `${x.c}-${x.id}`)));

    const distinct = new Set(calls.map((x) => `${x.c}-${x.id}`));
    expect(results.filter((r) => r.created)).toHaveLength(distinct.size);
    for (const [i, x] of calls.entries()) {
      const first = calls.findIndex((y) => y.c === x.c && y.id === x.id);
      expect(results[i]!.message.id).toBe(results[first]!.message.id);
    }
    // Each answer is the row as stored (the batch builds it rather than reading it back).
    const rows = await t.db.selectFrom('messages').selectAll().where('id', 'in', results.map((r) => r.message.id)).execute();
    const storedById = new Map(rows.map((m) => [m.id, m]));
    for (const r of results) expect(r.message).toEqual(storedById.get(r.message.id));
    expect(results[0]!.message.sender_name).toBe('Batch Visitor');
    for (const c of conversations) {
      const stored = await listMessages(t.db, tenant.tenantId, c.id, { limit: 100, includePrivate: true });
      const expected = calls.filter((x, i) => x.c === c.id && calls.findIndex((y) => y.c === x.c && y.id === x.id) === i).map((x) => x.content);
      expect(stored.map((m) => m.content)).toEqual(expected);
      const row = await t.db.selectFrom('conversations').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
      expect(row.unread_count).toBe(expected.length);
      expect(row.last_message_id).toBe(stored[stored.length - 1]!.id);
    }
  });

  it('reopens a resolved conversation and records why, once', async () => {
    const c = await open();
    await updateConversation(t.parley.deps, { tenantId: tenant.tenantId, role: 'admin', userId: tenant.adminUserId, name: 'Admin', via: 'session' }, c.id, { status: 'resolved' });
    await Promise.all([inbound(c.id, 'back again', 'r1'), inbound(c.id, 'hello?', 'r2')]);
    const row = await t.db.selectFrom('conversations').select('status').where('id', '=', c.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('open');
    const events = await t.db.selectFrom('conversation_events').select(['type', 'data']).where('conversation_id', '=', c.id).where('type', '=', 'status_changed').execute();
    expect(events.map((e) => e.data)).toEqual([{ from: 'open', to: 'resolved' }, { from: 'resolved', to: 'open' }]);
  });

  it('is seen by the use cases queued after it in the same transaction (its deferred update lands first)', async () => {
    const c = await open();
    const admin = { tenantId: tenant.tenantId, role: 'admin' as const, userId: tenant.adminUserId, name: 'Admin', via: 'session' as const };
    // Queued in one tick: the messages' batch, then a change of the same conversation, in one transaction.
    const [, second, changed] = await Promise.all([inbound(c.id, 'first', 'd1'), inbound(c.id, 'second', 'd2'), updateConversation(t.parley.deps, admin, c.id, { priority: 3 })]);
    expect(changed).toMatchObject({ priority: 3, unreadCount: 2, lastMessage: { id: second.message.id, content: 'second' } });
    const row = await t.db.selectFrom('conversations').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ priority: 3, unread_count: 2, last_message_id: second.message.id });
    expect(row.last_activity_at.getTime()).toBe(second.message.created_at.getTime());
  });

  it('lets one bad message fail alone: the others of its batch are stored', async () => {
    const c = await open();
    const outcomes = await Promise.allSettled([inbound(c.id, 'fine 1', 'f1'), inbound('cnv_does_not_exist', 'lost?', 'x1'), inbound(c.id, 'fine 2', 'f2')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'PARLEY_ERR_NOT_FOUND' });
    const stored = await listMessages(t.db, tenant.tenantId, c.id, { limit: 10, includePrivate: true });
    expect(stored.map((m) => m.content)).toEqual(['fine 1', 'fine 2']);
  });
});
