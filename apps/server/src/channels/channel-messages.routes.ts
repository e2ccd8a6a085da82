import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { IdParams, principalOf, responses, type App } from '../http.ts';
import { notFound } from '../errors.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ChannelMessageDto = Type.Object({
  messageId: Type.String(),
  conversationId: Type.String(),
  channelType: Type.String(),
  direction: Type.String(),
  status: Type.String(),
  /** Why sending failed (status 'failed'), or the last temporary error while retrying. */
  error: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
  threadKeys: Type.Array(Type.String()),
  from: Nullable(Type.String()),
  to: Nullable(Type.String()),
  subject: Nullable(Type.String()),
  /** Sanitized HTML; remote images carry `data-remote-src` instead of `src` until the agent loads them. */
  html: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
});

/** The channel side of a message (an email's headers, HTML, authentication results, send error). */
export function channelMessageRoutes(app: App, deps: Deps) {
  app.get('/messages/:id/channel', { schema: { tags: ['channels'], params: IdParams, response: responses({ 200: ChannelMessageDto }) } }, async (request) => {
    const principal = principalOf(request);
    const m = await deps.db.selectFrom('messages').selectAll().where('tenant_id', '=', principal.tenantId).where('id', '=', request.params.id).executeTakeFirst();
    if (!m) throw notFound('message');
    const c = await deps.db.selectFrom('channel_messages').selectAll().where('tenant_id', '=', principal.tenantId).where('message_id', '=', m.id).executeTakeFirst();
    const conversation = await deps.db.selectFrom('conversations').select('channel_type').where('tenant_id', '=', principal.tenantId).where('id', '=', m.conversation_id).executeTakeFirstOrThrow();
    return {
      messageId: m.id,
      conversationId: m.conversation_id,
      channelType: conversation.channel_type,
      direction: m.direction,
      status: m.status,
      error: m.error,
      externalId: c?.external_id ?? null,
      threadKeys: c?.thread_keys ?? [],
      from: c?.from_handle ?? null,
      to: c?.to_address ?? null,
      subject: c?.subject ?? null,
      html: c?.html ?? null,
      details: c?.details ?? {},
    };
  });
}
