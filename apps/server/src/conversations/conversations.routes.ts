import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { getCachedInboxOrThrow } from '../inboxes/inboxes.repository.ts';
import { ConversationDto, MessageDto, StatusSchema, toMessageDto } from './conversation-dto.ts';
import { countConversations, getConversationRowOrThrow, listConversations, listMessages, loadConversationDto } from './conversations.repository.ts';
import { MAX_MESSAGE_LENGTH, postMessage } from './post-message.ts';
import { openConversation } from './open-conversation.ts';
import { markConversationRead, updateConversation } from './update-conversation.ts';

const ShortString = (max = 200) => Type.String({ minLength: 1, maxLength: max });
const ClientMessageId = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' });
const AttachmentIds = Type.Array(ShortString(100), { maxItems: 10 });

const ListQuery = Type.Object({
  assignee: Type.Optional(Type.Union([Type.Literal('mine'), Type.Literal('unassigned'), Type.Literal('all')])),
  status: Type.Optional(Type.Union([StatusSchema, Type.Literal('all')])),
  inboxId: Type.Optional(ShortString(100)),
  label: Type.Optional(ShortString(100)),
  contactId: Type.Optional(ShortString(100)),
  cursor: Type.Optional(ShortString(200)),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
});

const EventDto = Type.Object({
  id: Type.String(),
  type: Type.String(),
  actorType: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
});

export function conversationRoutes(app: App, deps: Deps) {
  const db = deps.db;

  app.get(
    '/conversations',
    {
      schema: {
        tags: ['conversations'],
        querystring: ListQuery,
        response: responses({
          200: Type.Object({
            items: Type.Array(ConversationDto),
            counts: Type.Object({ mine: Type.Integer(), unassigned: Type.Integer(), all: Type.Integer() }),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const q = request.query;
      const filter = {
        assignee: q.assignee ?? 'all',
        status: q.status ?? 'open',
        inboxId: q.inboxId,
        label: q.label,
        contactId: q.contactId,
        cursor: q.cursor,
        limit: Math.min(Math.max(Number(q.limit ?? 50), 1), 100),
      } as const;
      const [page, counts] = await Promise.all([
        listConversations(db, principal.tenantId, principal.userId, filter),
        countConversations(db, principal.tenantId, principal.userId, filter),
      ]);
      return { ...page, counts };
    },
  );

  app.post(
    '/conversations',
    {
      schema: {
        tags: ['conversations'],
        description: 'Creates a conversation (API channel or task) with an optional first inbound message.',
        body: Type.Object(
          {
            inboxId: ShortString(100),
            contact: Type.Object(
              { name: Type.Optional(ShortString()), email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })), phone: Type.Optional(ShortString(40)), identifier: Type.Optional(ShortString()) },
              { additionalProperties: false },
            ),
            message: Type.Optional(Type.Object({ content: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH }), sourceId: Type.Optional(ShortString()) })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: ConversationDto }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const inbox = await getCachedInboxOrThrow(db, principal.tenantId, request.body.inboxId);
      const { identifier, ...contact } = request.body.contact;
      const conversation = await openConversation(deps, {
        tenantId: principal.tenantId,
        inboxId: inbox.id,
        channelType: inbox.channel_type,
        contact: { ...contact, verifiedIdentifier: identifier },
        actor: { type: principal.userId ? 'user' : 'system', id: principal.userId },
      });
      if (!request.body.message) return reply.status(201).send(conversation);
      await postMessage(deps, {
        tenantId: principal.tenantId,
        conversationId: conversation.id,
        direction: 'in',
        senderType: 'contact',
        senderId: conversation.contact.id,
        senderName: conversation.contact.name,
        content: request.body.message.content,
        sourceId: request.body.message.sourceId,
      });
      return reply.status(201).send(await loadConversationDto(db, principal.tenantId, conversation.id));
    },
  );

  app.get('/conversations/:id', { schema: { tags: ['conversations'], params: IdParams, response: responses({ 200: ConversationDto }) } }, async (request) => {
    return loadConversationDto(db, principalOf(request).tenantId, request.params.id);
  });

  app.patch(
    '/conversations/:id',
    {
      schema: {
        tags: ['conversations'],
        description:
          'Changes status, assignee, priority, labels or custom attributes. Assigning a conversation routing holds (waiting, offered or assigned in a queue) is routed: an agent taking it is a pick, anyone else\'s assignment a force-assign, with their checks (queue membership, connection, capacity, skills); a refusal (409 PARLEY_ERR_ROUTING_…) changes nothing.',
        params: IdParams,
        body: Type.Object(
          {
            status: Type.Optional(StatusSchema),
            snoozedUntil: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
            assigneeId: Type.Optional(Type.Union([ShortString(100), Type.Null()])),
            priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
            labels: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 50, pattern: '^[^<>]+$' }), { maxItems: 30 })),
            customAttributes: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: ConversationDto }),
      },
    },
    async (request) => updateConversation(deps, principalOf(request), request.params.id, request.body),
  );

  app.get(
    '/conversations/:id/messages',
    {
      schema: {
        tags: ['conversations'],
        params: IdParams,
        querystring: Type.Object({ before: Type.Optional(ShortString(100)), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })) }),
        response: responses({ 200: Items(MessageDto) }),
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      await getConversationRowOrThrow(db, tenantId, request.params.id);
      const rows = await listMessages(db, tenantId, request.params.id, {
        before: request.query.before,
        limit: Math.min(Math.max(Number(request.query.limit ?? 100), 1), 500),
        includePrivate: true,
      });
      return { items: rows.map((m) => toMessageDto(m)) };
    },
  );

  app.post(
    '/conversations/:id/messages',
    {
      schema: {
        tags: ['conversations'],
        params: IdParams,
        body: Type.Object(
          { content: Type.String({ maxLength: MAX_MESSAGE_LENGTH }), private: Type.Optional(Type.Boolean()), attachmentIds: Type.Optional(AttachmentIds), clientMessageId: Type.Optional(ClientMessageId) },
          { additionalProperties: false },
        ),
        response: responses({ 200: MessageDto, 201: MessageDto }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { message, created } = await postMessage(deps, {
        tenantId: principal.tenantId,
        conversationId: request.params.id,
        direction: 'out',
        private: request.body.private,
        senderType: 'user',
        senderId: principal.userId,
        senderName: principal.name,
        content: request.body.content,
        attachmentIds: request.body.attachmentIds,
        clientMessageId: request.body.clientMessageId,
      });
      return reply.status(created ? 201 : 200).send(toMessageDto(message));
    },
  );

  app.post('/conversations/:id/read', { schema: { tags: ['conversations'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    await markConversationRead(deps, principalOf(request).tenantId, request.params.id, 'agent');
    return reply.status(204).send(null);
  });

  app.get('/conversations/:id/events', { schema: { tags: ['conversations'], params: IdParams, response: responses({ 200: Items(EventDto) }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    await getConversationRowOrThrow(db, tenantId, request.params.id);
    const rows = await db.selectFrom('conversation_events').selectAll().where('tenant_id', '=', tenantId).where('conversation_id', '=', request.params.id).orderBy('id').execute();
    return { items: rows.map((e) => ({ id: String(e.id), type: e.type, actorType: e.actor_type, actorId: e.actor_id, data: e.data, createdAt: e.created_at.toISOString() })) };
  });

  app.get('/labels', { schema: { tags: ['conversations'], response: responses({ 200: Items(Type.String()) }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    const rows = await db
      .selectFrom('conversations')
      .select((eb) => eb.fn<string>('jsonb_array_elements_text', ['labels']).as('label'))
      .where('tenant_id', '=', tenantId)
      .distinct()
      .execute();
    return { items: rows.map((r) => r.label).sort() };
  });
}
