import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { IdParams, responses, type App } from '../http.ts';
import { ParleyError } from '../errors.ts';
import { getInboxByPublicIdOrThrow, originAllowed } from '../inboxes/inboxes.repository.ts';
import { AttachmentDto, MessageDto, toMessageDto, visitorView, VISITOR_ATTACHMENTS, type MessageDto as MessageDtoType } from '../conversations/conversation-dto.ts';
import { getConversationRowOrThrow, listMessages } from '../conversations/conversations.repository.ts';
import { MAX_MESSAGE_LENGTH, postMessage } from '../conversations/post-message.ts';
import { openConversation } from '../conversations/open-conversation.ts';
import { markConversationRead } from '../conversations/update-conversation.ts';
import { receiveAttachment, sendAttachment } from '../attachments/attachments.routes.ts';
import { identityHashValid, issueVisitorToken, verifyVisitorToken } from './visitor-token.ts';
import type { MessageRow } from '../db/schema.ts';

const PublicIdParams = Type.Object({ publicId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Email = Type.String({ format: 'email', maxLength: 254 });
const VisitorMessageDto = MessageDto;

export const toVisitorMessage = (m: MessageRow) => visitorView('message.created', toMessageDto(m)) as MessageDtoType;

export function visitorOf(deps: Deps, request: FastifyRequest) {
  const header = request.headers.authorization;
  return verifyVisitorToken(deps.secret, header?.startsWith('Bearer ') ? header.slice(7) : undefined);
}

/**
 * The widget's public API. No cookies: a visitor holds a token for their one conversation,
 * so the host site's cookies are never involved and any origin may call (CORS `*`); the
 * inbox's allowed domains are enforced on the Origin of the calls that start a conversation.
 */
export function widgetRoutes(app: App, deps: Deps) {
  const db = deps.db;
  const open = { config: { public: true } } as const;

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/v1/widget/')) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-allow-headers', 'authorization, content-type');
    reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
    reply.header('access-control-max-age', '600');
  });
  app.options('/widget/*', { ...open, schema: { hide: true } }, async (_request, reply) => reply.status(204).send());

  const checkOrigin = (request: FastifyRequest, settings: Parameters<typeof originAllowed>[0]) => {
    if (!originAllowed(settings, request.headers.origin)) throw new ParleyError('PARLEY_ERR_ORIGIN_NOT_ALLOWED', 'this site is not allowed to use this chat inbox');
  };

  app.get(
    '/widget/inboxes/:publicId',
    {
      ...open,
      schema: {
        tags: ['widget'],
        params: PublicIdParams,
        response: responses({
          200: Type.Object({ name: Type.String(), color: Type.String(), greeting: Type.String(), prechat: Type.Unknown(), online: Type.Boolean() }),
        }),
      },
    },
    async (request) => {
      const inbox = await getInboxByPublicIdOrThrow(db, request.params.publicId);
      const s = inbox.settings;
      return { name: inbox.name, color: s.color, greeting: s.greeting, prechat: s.prechat, online: await deps.routing.anyAgentConnected(inbox.tenant_id) };
    },
  );

  app.post(
    '/widget/inboxes/:publicId/conversations',
    {
      ...open,
      schema: {
        tags: ['widget'],
        params: PublicIdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            email: Type.Optional(Email),
            identifier: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            identifierHash: Type.Optional(Type.String({ minLength: 64, maxLength: 64, pattern: '^[0-9a-fA-F]+$' })),
            message: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH })),
            clientMessageId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' })),
            locale: Type.Optional(Type.String({ maxLength: 10 })),
          },
          { additionalProperties: false },
        ),
        response: responses({
          201: Type.Object({
            token: Type.String(),
            conversation: Type.Object({ id: Type.String(), status: Type.String() }),
            contact: Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]), email: Type.Union([Type.String(), Type.Null()]) }),
          }),
        }),
      },
    },
    async (request, reply) => {
      const inbox = await getInboxByPublicIdOrThrow(db, request.params.publicId);
      checkOrigin(request, inbox.settings);
      const body = request.body;
      let verifiedIdentifier: string | null = null;
      if (body.identifier !== undefined || body.identifierHash !== undefined) {
        if (!body.identifier || !body.identifierHash || !identityHashValid(inbox.identity_secret, body.identifier, body.identifierHash)) {
          throw new ParleyError('PARLEY_ERR_IDENTITY_HASH_INVALID', 'identifierHash does not match identifier');
        }
        verifiedIdentifier = body.identifier;
      }
      // A verified visitor is known to the host site: the pre-chat form is not asked of them.
      if (inbox.settings.prechat.enabled && !verifiedIdentifier) {
        for (const field of inbox.settings.prechat.fields) {
          if (field.required && !body[field.name]) throw new ParleyError('PARLEY_ERR_VALIDATION', `${field.name} is required`, { field: field.name });
        }
      }
      const conversation = await openConversation(deps, {
        tenantId: inbox.tenant_id,
        inboxId: inbox.id,
        channelType: 'webchat',
        contact: { name: body.name, email: body.email, verifiedIdentifier },
        routeWithFirstMessage: Boolean(body.message),
        actor: { type: 'contact', id: null },
      });
      const claims = { tenantId: inbox.tenant_id, inboxId: inbox.id, conversationId: conversation.id, contactId: conversation.contact.id };
      if (body.message) {
        await sendVisitorMessage(deps, claims, { content: body.message, clientMessageId: body.clientMessageId ?? `first-${conversation.id}` });
      }
      return reply.status(201).send({
        token: issueVisitorToken(deps.secret, claims),
        conversation: { id: conversation.id, status: conversation.status },
        contact: { id: conversation.contact.id, name: conversation.contact.name, email: conversation.contact.email },
      });
    },
  );

  app.post(
    '/widget/inboxes/:publicId/offline-messages',
    {
      ...open,
      schema: {
        tags: ['widget'],
        params: PublicIdParams,
        body: Type.Object({ name: Name, email: Email, message: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH }) }, { additionalProperties: false }),
        response: responses({ 201: Type.Object({ ok: Type.Boolean() }) }),
      },
    },
    async (request, reply) => {
      const inbox = await getInboxByPublicIdOrThrow(db, request.params.publicId);
      checkOrigin(request, inbox.settings);
      const conversation = await openConversation(deps, {
        tenantId: inbox.tenant_id,
        inboxId: inbox.id,
        channelType: 'webchat',
        status: 'pending',
        contact: { name: request.body.name, email: request.body.email },
        actor: { type: 'contact', id: null },
      });
      await sendVisitorMessage(deps, { tenantId: inbox.tenant_id, conversationId: conversation.id, contactId: conversation.contact.id }, { content: request.body.message, clientMessageId: `offline-${conversation.id}` });
      return reply.status(201).send({ ok: true });
    },
  );

  app.get(
    '/widget/conversation',
    {
      ...open,
      schema: {
        tags: ['widget'],
        response: responses({
          200: Type.Object({
            conversation: Type.Object({ id: Type.String(), status: Type.String(), agentLastReadAt: Type.Union([Type.String(), Type.Null()]) }),
            messages: Type.Array(VisitorMessageDto),
          }),
        }),
      },
    },
    async (request) => {
      const visitor = visitorOf(deps, request);
      const c = await getConversationRowOrThrow(db, visitor.tenantId, visitor.conversationId);
      const messages = await listMessages(db, visitor.tenantId, c.id, { limit: 500, includePrivate: false });
      return {
        conversation: { id: c.id, status: c.status, agentLastReadAt: c.agent_last_read_at?.toISOString() ?? null },
        messages: messages.map(toVisitorMessage),
      };
    },
  );

  app.post(
    '/widget/conversation/messages',
    {
      ...open,
      schema: {
        tags: ['widget'],
        body: Type.Object(
          {
            content: Type.String({ maxLength: MAX_MESSAGE_LENGTH }),
            clientMessageId: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' }),
            attachmentIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 10 })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: VisitorMessageDto, 201: VisitorMessageDto }),
      },
    },
    async (request, reply) => {
      const visitor = visitorOf(deps, request);
      const { message, created } = await sendVisitorMessage(deps, visitor, request.body);
      return reply.status(created ? 201 : 200).send(toVisitorMessage(message));
    },
  );

  app.post('/widget/conversation/read', { ...open, schema: { tags: ['widget'], response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    const visitor = visitorOf(deps, request);
    await markConversationRead(deps, visitor.tenantId, visitor.conversationId, 'contact');
    return reply.status(204).send(null);
  });

  app.post('/widget/conversation/attachments', { ...open, schema: { tags: ['widget'], consumes: ['multipart/form-data'], response: responses({ 201: AttachmentDto }) } }, async (request, reply) => {
    const visitor = visitorOf(deps, request);
    const attachment = await receiveAttachment(
      deps,
      request,
      { tenantId: visitor.tenantId, conversationId: visitor.conversationId, uploaderType: 'contact', uploaderId: visitor.contactId },
      VISITOR_ATTACHMENTS,
    );
    return reply.status(201).send(attachment);
  });

  app.get('/widget/conversation/attachments/:id', { ...open, schema: { tags: ['widget'], params: IdParams } }, async (request, reply) => {
    const visitor = visitorOf(deps, request);
    return sendAttachment(deps, reply, visitor.tenantId, request.params.id, visitor.conversationId);
  });
}

/** A visitor's message, by REST or by socket: same rules, same idempotency by clientMessageId. */
export function sendVisitorMessage(
  deps: Deps,
  visitor: { tenantId: string; conversationId: string; contactId: string },
  body: { content: string; clientMessageId: string; attachmentIds?: string[] },
) {
  return postMessage(deps, {
    tenantId: visitor.tenantId,
    conversationId: visitor.conversationId,
    direction: 'in',
    senderType: 'contact',
    senderId: visitor.contactId,
    content: body.content,
    clientMessageId: body.clientMessageId,
    attachmentIds: body.attachmentIds,
  });
}
