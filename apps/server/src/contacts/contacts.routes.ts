import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { ContactDto, toContactDto } from './contact-dto.ts';
import { getContactOrThrow } from './contacts.repository.ts';
import { ConversationDto } from '../conversations/conversation-dto.ts';
import { listConversations } from '../conversations/conversations.repository.ts';

export function contactRoutes(app: App, deps: Deps) {
  const db = deps.db;

  app.get(
    '/contacts',
    { schema: { tags: ['contacts'], querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }), response: responses({ 200: Items(ContactDto) }) } },
    async (request) => {
      const { tenantId } = principalOf(request);
      let q = db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId);
      const term = request.query.q?.trim();
      if (term) {
        const like = `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        q = q.where((eb) => eb.or([eb('name', 'ilike', like), eb('email', 'ilike', like), eb('phone', 'ilike', like)]));
      }
      const rows = await q.orderBy('updated_at', 'desc').limit(50).execute();
      return { items: rows.map(toContactDto) };
    },
  );

  app.get('/contacts/:id', { schema: { tags: ['contacts'], params: IdParams, response: responses({ 200: ContactDto }) } }, async (request) => {
    return toContactDto(await getContactOrThrow(db, principalOf(request).tenantId, request.params.id));
  });

  app.patch(
    '/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
            email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
            phone: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
            customAttributes: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: ContactDto }),
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const current = await getContactOrThrow(db, tenantId, request.params.id);
      const { customAttributes, ...fields } = request.body;
      const row = await db
        .updateTable('contacts')
        .set({
          ...fields,
          ...(customAttributes ? { custom_attributes: JSON.stringify({ ...current.custom_attributes, ...customAttributes }) } : {}),
          updated_at: new Date(),
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toContactDto(row);
    },
  );

  app.get('/contacts/:id/conversations', { schema: { tags: ['contacts'], params: IdParams, response: responses({ 200: Items(ConversationDto) }) } }, async (request) => {
    const principal = principalOf(request);
    const contact = await getContactOrThrow(db, principal.tenantId, request.params.id);
    const page = await listConversations(db, principal.tenantId, principal.userId, { assignee: 'all', status: 'all', contactId: contact.id, limit: 100 });
    return { items: page.items };
  });
}
