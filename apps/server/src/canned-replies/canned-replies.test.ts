import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';
import { call, login, type Auth } from '../../test/http.ts';

// Canned replies: per-tenant short codes, and rendering their {{tags}} for one conversation.

let t: TestParley;
let tenant: TestTenant;
let other: TestTenant;
let session: { cookie: string; csrf: string };
let conversationId: string;
let namelessConversationId: string;

const api = (method: string, path: string, body?: unknown, auth: Auth = session) => call(t.baseUrl, method, path, { auth, body });

beforeAll(async () => {
  t = await startTestParley({ config: { workers: false } });
  tenant = await t.createTenant('Canned Co');
  other = await t.createTenant('Other Co');
  session = await login(t.baseUrl, tenant.adminEmail, tenant.adminPassword);
  const inbox = await api('POST', '/inboxes', { name: 'API', channelType: 'api' });
  conversationId = (await api('POST', '/conversations', { inboxId: inbox.body.id, contact: { name: 'Ana Lima', email: 'Ana@Example.com' } })).body.id;
  namelessConversationId = (await api('POST', '/conversations', { inboxId: inbox.body.id, contact: {} })).body.id;
});
afterAll(async () => {
  await t?.stop();
});

describe('canned replies', () => {
  it('render fills {{contact.name}}, {{contact.email}} and {{agent.name}}', async () => {
    const created = await api('POST', '/canned-replies', { shortCode: 'greet', content: 'Hi {{contact.name}}, I am {{ agent.name }}. We write to {{contact.email}}.' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ shortCode: 'greet' });
    const rendered = await api('POST', `/canned-replies/${created.body.id}/render`, { conversationId });
    expect(rendered.status).toBe(200);
    expect(rendered.body).toEqual({ content: 'Hi Ana Lima, I am Canned Co Admin. We write to ana@example.com.' });
    // With an API key, the "agent" is the key.
    const byKey = await api('POST', `/canned-replies/${created.body.id}/render`, { conversationId }, { bearer: tenant.apiKey });
    expect(byKey.body.content).toMatch(/^Hi Ana Lima, I am API key /);
  });

  it('unknown tags and missing values render empty, and values are not expanded again', async () => {
    const created = await api('POST', '/canned-replies', {
      shortCode: 'odd',
      content: '[{{contact.name}}][{{contact.unknown}}][{{nothing.here}}][{{contact.constructor}}][{{agent.toString}}][{{contact.name}]',
    });
    const rendered = await api('POST', `/canned-replies/${created.body.id}/render`, { conversationId: namelessConversationId });
    expect(rendered.body.content).toBe('[][][][][][{{contact.name}]');

    const inbox = (await api('GET', '/inboxes')).body.items[0];
    const tricky = await api('POST', '/conversations', { inboxId: inbox.id, contact: { name: '{{agent.name}}' } });
    const again = await api('POST', `/canned-replies/${created.body.id}/render`, { conversationId: tricky.body.id });
    expect(again.body.content.startsWith('[{{agent.name}}]')).toBe(true);
  });

  it('a duplicate short code is 409 in one tenant and fine in another', async () => {
    const first = await api('POST', '/canned-replies', { shortCode: 'thanks', content: 'Thank you!' });
    expect(first.status).toBe(201);
    const dup = await api('POST', '/canned-replies', { shortCode: 'thanks', content: 'Thanks again' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('PARLEY_ERR_CONFLICT');
    const elsewhere = await api('POST', '/canned-replies', { shortCode: 'thanks', content: 'Other tenant' }, { bearer: other.apiKey });
    expect(elsewhere.status).toBe(201);
    const mine = (await api('GET', '/canned-replies')).body.items.filter((c: { shortCode: string }) => c.shortCode === 'thanks');
    expect(mine).toEqual([{ id: first.body.id, shortCode: 'thanks', content: 'Thank you!' }]);

    // Renaming onto a taken short code is a conflict too, and changes nothing.
    const bye = await api('POST', '/canned-replies', { shortCode: 'bye', content: 'Bye' });
    const clash = await api('PATCH', `/canned-replies/${bye.body.id}`, { shortCode: 'thanks' });
    expect(clash.status).toBe(409);
    expect((await api('GET', '/canned-replies')).body.items.find((c: { id: string }) => c.id === bye.body.id).shortCode).toBe('bye');
  });

  it('edit, list in short-code order, delete; a deleted reply no longer renders', async () => {
    const created = await api('POST', '/canned-replies', { shortCode: 'aaa-first', content: 'Old' });
    const edited = await api('PATCH', `/canned-replies/${created.body.id}`, { content: 'New {{contact.name}}' });
    expect(edited.status).toBe(200);
    expect(edited.body).toEqual({ id: created.body.id, shortCode: 'aaa-first', content: 'New {{contact.name}}' });
    const list = (await api('GET', '/canned-replies')).body.items.map((c: { shortCode: string }) => c.shortCode);
    expect(list).toEqual([...list].sort());
    expect(list[0]).toBe('aaa-first');
    expect((await api('DELETE', `/canned-replies/${created.body.id}`)).status).toBe(204);
    expect((await api('DELETE', `/canned-replies/${created.body.id}`)).status).toBe(404);
    expect((await api('POST', `/canned-replies/${created.body.id}/render`, { conversationId })).status).toBe(404);
    expect((await api('PATCH', `/canned-replies/${created.body.id}`, { content: 'x' })).status).toBe(404);
  });

  it('short codes and contents are validated', async () => {
    for (const body of [{ shortCode: 'has space', content: 'x' }, { shortCode: '', content: 'x' }, { shortCode: 'ok', content: '' }, { shortCode: 'x'.repeat(51), content: 'x' }]) {
      expect((await api('POST', '/canned-replies', body)).status).toBe(400);
    }
    expect((await api('POST', '/canned-replies/cr_nope/render', { conversationId })).status).toBe(404);
    const any = (await api('GET', '/canned-replies')).body.items[0];
    expect((await api('POST', `/canned-replies/${any.id}/render`, { conversationId: 'cnv_nope' })).status).toBe(404);
  });
});
