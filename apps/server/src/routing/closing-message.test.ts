import { afterAll, expect, it } from 'vitest';
import { startTestParley, type TestParley } from '../../test/test-parley.ts';
import { RoutingKit } from '../../test/routing-kit.ts';

let t: TestParley | undefined;
afterAll(async () => {
  await t?.stop();
});

it('a queue that closes conversations it cannot take (full) sends its message to the customer, once', async () => {
  t = await startTestParley({ jobs: { pollMs: 30, backoffBaseMs: 50, maxAttempts: 3 } });
  const kit = await RoutingKit.create(t);
  // Nobody takes chats: the first visitor waits, the second finds the queue full.
  await kit.ok('PATCH', '/routing/me/state', kit.admin.auth, { state: 'offline' });
  const closing = 'Estamos llenos: escríbenos en unos minutos.';
  await kit.patchQueue(kit.defaultQueue, { maxQueueSize: { size: 1, action: { kind: 'close', message: closing } } });
  const waiting = await kit.visitor('Uma');
  const turnedAway = await kit.visitor('Ivo');

  const messagesOf = async (id: string) => (await kit.ok('GET', `/conversations/${id}/messages`, kit.key)).items as { content: string; senderType: string; direction: string; private: boolean }[];
  await kit.until(async () => (await messagesOf(turnedAway.id)).some((m) => m.content === closing), 'the closing message');
  const sent = (await messagesOf(turnedAway.id)).filter((m) => m.content === closing);
  expect(sent).toEqual([expect.objectContaining({ senderType: 'system', direction: 'out', private: false })]);
  expect((await kit.ok('GET', `/conversations/${turnedAway.id}`, kit.key)).status).toBe('resolved');
  expect((await kit.history(turnedAway.id)).map((e) => e.type)).toContain('queue_full');
  // The visitor sees it in the widget.
  const visitorView = await kit.api('GET', '/widget/conversation', { bearer: turnedAway.token });
  expect(JSON.stringify(visitorView.body)).toContain(closing);
  // The one who fit keeps waiting, without any closing message.
  expect((await messagesOf(waiting.id)).some((m) => m.content === closing)).toBe(false);
});
