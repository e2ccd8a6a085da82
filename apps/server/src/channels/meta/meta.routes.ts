import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { Deps } from '../../deps.ts';
import { ParleyError, notFound } from '../../errors.ts';
import { IdParams, principalOf, responses, type App } from '../../http.ts';
import { safeEqual } from '../../ids.ts';
import { MessageDto, toMessageDto } from '../../conversations/conversation-dto.ts';
import { postMessage } from '../../conversations/post-message.ts';
import { rawBodyOf, webhookScope } from '../webhook-scope.ts';
import { findMetaInboxByPublicId, receiveMetaWebhook } from './receive-meta-webhook.ts';
import { META_CHANNELS } from './meta-webhook.ts';
import { metaSettingsOf } from './settings.ts';
import { renderTemplate } from './render-template.ts';

const Handshake = Type.Object({
  'hub.mode': Type.Optional(Type.String({ maxLength: 100 })),
  'hub.verify_token': Type.Optional(Type.String({ maxLength: 1000 })),
  'hub.challenge': Type.Optional(Type.String({ maxLength: 1000 })),
});
const PublicIdParams = Type.Object({ publicId: Type.String({ minLength: 1, maxLength: 100 }) });

/**
 * WhatsApp, Messenger and Instagram over HTTP: Meta's webhooks (per inbox, and one URL for an
 * app that serves many inboxes) and template sends from the agent app.
 */
export function metaRoutes(deps: Deps) {
  return async (instance: FastifyInstance) => {
    await instance.register(webhookScope((scope) => metaWebhookRoutes(scope, deps)));
    templateMessageRoutes(instance as unknown as App, deps);
  };
}

function metaWebhookRoutes(app: App, deps: Deps) {
  // Meta calls these, not agents: left out of the agent API's OpenAPI document (docs/channels/meta.md describes them).
  const handshakeSchema = { hide: true, querystring: Handshake };
  const challenge = (query: { 'hub.mode'?: string; 'hub.challenge'?: string }) => (query['hub.mode'] === 'subscribe' ? (query['hub.challenge'] ?? '') : null);

  // Meta's subscription check: hub.verify_token must be the inbox's verify token.
  app.get('/channels/meta/:publicId/webhook', { schema: { ...handshakeSchema, params: PublicIdParams } }, async (request, reply) => {
    const inbox = await findMetaInboxByPublicId(deps, request.params.publicId);
    const expected = inbox ? metaSettingsOf(inbox.settings)?.verifyToken : undefined;
    const given = request.query['hub.verify_token'];
    const answer = challenge(request.query);
    if (!expected || !given || answer === null || !safeEqual(given, expected)) return reply.status(403).type('text/plain').send('verification refused');
    return reply.status(200).type('text/plain').send(answer);
  });

  // The app-level URL: any inbox whose verify token it is.
  app.get('/channels/meta/webhook', { schema: handshakeSchema }, async (request, reply) => {
    const given = request.query['hub.verify_token'];
    const answer = challenge(request.query);
    const inbox = given
      ? await deps.db.selectFrom('inboxes').select('id').where('channel_type', 'in', META_CHANNELS).where(sql<string>`settings->'meta'->>'verifyToken'`, '=', given).executeTakeFirst()
      : undefined;
    if (!inbox || answer === null) return reply.status(403).type('text/plain').send('verification refused');
    return reply.status(200).type('text/plain').send(answer);
  });

  const deliver = async (request: FastifyRequest, publicId: string | undefined) => {
    const signature = request.headers['x-hub-signature-256'];
    const result = await receiveMetaWebhook(deps, { rawBody: rawBodyOf(request), signature: typeof signature === 'string' ? signature : undefined, publicId });
    request.log.info({ ...result }, 'meta webhook delivery');
  };
  app.post('/channels/meta/:publicId/webhook', { schema: { hide: true, params: PublicIdParams } }, async (request, reply) => {
    await deliver(request, request.params.publicId);
    return reply.status(200).type('text/plain').send('EVENT_RECEIVED');
  });
  app.post('/channels/meta/webhook', { schema: { hide: true } }, async (request, reply) => {
    await deliver(request, undefined);
    return reply.status(200).type('text/plain').send('EVENT_RECEIVED');
  });
}

function templateMessageRoutes(app: App, deps: Deps) {
  app.post(
    '/conversations/:id/template-messages',
    {
      schema: {
        tags: ['conversations'],
        params: IdParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 512 }),
            language: Type.String({ minLength: 2, maxLength: 15 }),
            parameters: Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 20 }),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: MessageDto }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const conversation = await deps.db.selectFrom('conversations').select(['id', 'inbox_id', 'channel_type']).where('tenant_id', '=', principal.tenantId).where('id', '=', request.params.id).executeTakeFirst();
      if (!conversation) throw notFound('conversation');
      if (conversation.channel_type !== 'whatsapp') throw new ParleyError('PARLEY_ERR_NOT_SUPPORTED', `message templates are a WhatsApp feature; this is a ${conversation.channel_type} conversation`);
      const inbox = await deps.db.selectFrom('inboxes').select('settings').where('tenant_id', '=', principal.tenantId).where('id', '=', conversation.inbox_id).executeTakeFirstOrThrow();
      const { name, language, parameters } = request.body;
      const template = metaSettingsOf(inbox.settings)?.templates?.find((t) => t.name === name && t.language === language);
      if (!template) throw new ParleyError('PARLEY_ERR_VALIDATION', `the inbox has no approved template ${name} in ${language}`);
      const content = renderTemplate(template.body, parameters);
      if (!content.ok) throw new ParleyError('PARLEY_ERR_VALIDATION', content.error);
      const { message } = await postMessage(deps, {
        tenantId: principal.tenantId,
        conversationId: conversation.id,
        direction: 'out',
        senderType: 'user',
        senderId: principal.userId,
        senderName: principal.name,
        content: content.text,
        template: { name, language, parameters },
      });
      return reply.status(201).send(toMessageDto(message));
    },
  );
}
