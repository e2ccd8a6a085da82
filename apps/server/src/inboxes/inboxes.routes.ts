import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { requireRole } from '../auth/principal.ts';
import { newId, newToken } from '../ids.ts';
import { defaultInboxSettings, getInboxOrThrow, InboxDto, InboxSettingsSchema, toInboxDto } from './inboxes.repository.ts';
import { emailSettingsOf, mergeEmailSettings } from '../channels/email/settings.ts';
import { ParleyError } from '../errors.ts';
import { isUniqueViolation } from '../conversations/post-message.ts';

const ChannelTypeSchema = Type.Union([Type.Literal('webchat'), Type.Literal('api'), Type.Literal('email')]);

/** An email address belongs to one inbox of one tenant: mail to it must find its inbox. */
const addressTaken = (err: unknown) => (isUniqueViolation(err) ? new ParleyError('PARLEY_ERR_CONFLICT', 'this email address belongs to another inbox') : err);

export function inboxRoutes(app: App, deps: Deps) {
  const db = deps.db;

  app.get('/inboxes', { schema: { tags: ['inboxes'], response: responses({ 200: Items(InboxDto) }) } }, async (request) => {
    const principal = principalOf(request);
    const rows = await db.selectFrom('inboxes').selectAll().where('tenant_id', '=', principal.tenantId).orderBy('created_at').execute();
    return { items: rows.map((r) => toInboxDto(r, principal.role === 'admin')) };
  });

  app.get('/inboxes/:id', { schema: { tags: ['inboxes'], params: IdParams, response: responses({ 200: InboxDto }) } }, async (request) => {
    const principal = principalOf(request);
    return toInboxDto(await getInboxOrThrow(db, principal.tenantId, request.params.id), principal.role === 'admin');
  });

  app.post(
    '/inboxes',
    {
      schema: {
        tags: ['inboxes'],
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100 }), channelType: ChannelTypeSchema, settings: Type.Optional(Type.Partial(InboxSettingsSchema, { additionalProperties: false })) },
          { additionalProperties: false },
        ),
        response: responses({ 201: InboxDto }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const email = request.body.settings?.email;
      if (request.body.channelType === 'email' && !email) throw new ParleyError('PARLEY_ERR_VALIDATION', 'an email inbox needs settings.email with its address');
      const row = await db
        .insertInto('inboxes')
        .values({
          id: newId('inb'),
          tenant_id: principal.tenantId,
          public_id: newToken('wc', 12),
          name: request.body.name,
          channel_type: request.body.channelType,
          settings: JSON.stringify({ ...defaultInboxSettings, ...request.body.settings, ...(email ? { email: mergeEmailSettings(null, email) } : {}) }),
          identity_secret: newToken('ids', 24),
        })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err) => Promise.reject(addressTaken(err)));
      return reply.status(201).send(toInboxDto(row, true));
    },
  );

  app.patch(
    '/inboxes/:id',
    {
      schema: {
        tags: ['inboxes'],
        params: IdParams,
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), settings: Type.Optional(Type.Partial(InboxSettingsSchema, { additionalProperties: false })) }, { additionalProperties: false }),
        response: responses({ 200: InboxDto }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const current = await getInboxOrThrow(db, principal.tenantId, request.params.id);
      const row = await db
        .updateTable('inboxes')
        .set({
          name: request.body.name ?? current.name,
          settings: JSON.stringify({
            ...defaultInboxSettings,
            ...current.settings,
            ...request.body.settings,
            ...(request.body.settings?.email ? { email: mergeEmailSettings(emailSettingsOf(current.settings), request.body.settings.email) } : {}),
          }),
        })
        .where('tenant_id', '=', principal.tenantId)
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err) => Promise.reject(addressTaken(err)));
      return toInboxDto(row, true);
    },
  );

  app.get('/inboxes/:id/snippet', { schema: { tags: ['inboxes'], params: IdParams, response: responses({ 200: Type.Object({ html: Type.String() }) }) } }, async (request) => {
    const principal = principalOf(request);
    const inbox = await getInboxOrThrow(db, principal.tenantId, request.params.id);
    const base = deps.config.publicUrl ?? `${request.protocol}://${request.host}`;
    return { html: `<script src="${base}/widget.js" data-inbox="${inbox.public_id}" async></script>` };
  });
}
