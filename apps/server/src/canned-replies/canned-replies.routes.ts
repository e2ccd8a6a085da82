import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { ParleyError, notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { isUniqueViolation } from '../conversations/post-message.ts';
import { loadConversationDto } from '../conversations/conversations.repository.ts';
import { renderTemplate } from './render-template.ts';

const CannedReplyDto = Type.Object({ id: Type.String(), shortCode: Type.String(), content: Type.String() });
const Body = Type.Object(
  { shortCode: Type.String({ minLength: 1, maxLength: 50, pattern: '^[A-Za-z0-9_-]+$' }), content: Type.String({ minLength: 1, maxLength: 5000 }) },
  { additionalProperties: false },
);

export function cannedReplyRoutes(app: App, deps: Deps) {
  const db = deps.db;
  const toDto = (r: { id: string; short_code: string; content: string }) => ({ id: r.id, shortCode: r.short_code, content: r.content });
  const conflict = (err: unknown) => {
    if (isUniqueViolation(err)) throw new ParleyError('PARLEY_ERR_CONFLICT', 'a canned reply with this short code exists');
    throw err;
  };

  app.get('/canned-replies', { schema: { tags: ['canned-replies'], response: responses({ 200: Items(CannedReplyDto) }) } }, async (request) => {
    const rows = await db.selectFrom('canned_replies').selectAll().where('tenant_id', '=', principalOf(request).tenantId).orderBy('short_code').execute();
    return { items: rows.map(toDto) };
  });

  app.post('/canned-replies', { schema: { tags: ['canned-replies'], body: Body, response: responses({ 201: CannedReplyDto }) } }, async (request, reply) => {
    const { tenantId } = principalOf(request);
    const row = await db
      .insertInto('canned_replies')
      .values({ id: newId('cr'), tenant_id: tenantId, short_code: request.body.shortCode, content: request.body.content })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(conflict);
    return reply.status(201).send(toDto(row));
  });

  app.patch('/canned-replies/:id', { schema: { tags: ['canned-replies'], params: IdParams, body: Type.Partial(Body, { additionalProperties: false }), response: responses({ 200: CannedReplyDto }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    const { shortCode, content } = request.body;
    const row = await db
      .updateTable('canned_replies')
      .set({ ...(shortCode ? { short_code: shortCode } : {}), ...(content ? { content } : {}) })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', request.params.id)
      .returningAll()
      .executeTakeFirst()
      .catch(conflict);
    if (!row) throw notFound('canned reply');
    return toDto(row);
  });

  app.delete('/canned-replies/:id', { schema: { tags: ['canned-replies'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    const res = await db.deleteFrom('canned_replies').where('tenant_id', '=', principalOf(request).tenantId).where('id', '=', request.params.id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound('canned reply');
    return reply.status(204).send(null);
  });

  app.post(
    '/canned-replies/:id/render',
    {
      schema: {
        tags: ['canned-replies'],
        params: IdParams,
        body: Type.Object({ conversationId: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: responses({ 200: Type.Object({ content: Type.String() }) }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const canned = await db.selectFrom('canned_replies').selectAll().where('tenant_id', '=', principal.tenantId).where('id', '=', request.params.id).executeTakeFirst();
      if (!canned) throw notFound('canned reply');
      const conversation = await loadConversationDto(db, principal.tenantId, request.body.conversationId);
      return {
        content: renderTemplate(canned.content, {
          contact: { name: conversation.contact.name ?? '', email: conversation.contact.email ?? '', phone: conversation.contact.phone ?? '' },
          agent: { name: principal.name },
          conversation: { id: conversation.id },
        }),
      };
    },
  );
}
