import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { requireRole } from '../auth/principal.ts';
import { newId, newToken } from '../ids.ts';
import { defaultInboxSettings, forgetInbox, getInboxOrThrow, InboxDto, InboxSettingsSchema, toInboxDto } from './inboxes.repository.ts';
import { CHANNEL_SETTINGS_KEYS, channelSettingsKey, keepSecrets, providerHostsOf } from '../channels/channel-settings.ts';
import { requireAllowedTarget } from '../net/private-targets.ts';
import type { ChannelType, InboxSettings } from '../db/schema.ts';
import { ParleyError } from '../errors.ts';
import { isUniqueViolation } from '../conversations/post-message.ts';
import { checkDkimSettings } from '../channels/email/dkim.ts';

const ChannelTypeSchema = Type.Union(['webchat', 'api', 'email', 'sms', 'whatsapp', 'messenger', 'instagram'].map((t) => Type.Literal(t)));

/** An email address, a phone number, a Meta account belongs to one inbox of one tenant: what arrives for it must find its inbox. */
const addressTaken = (err: unknown) =>
  isUniqueViolation(err) ? new ParleyError('PARLEY_ERR_CONFLICT', 'this address, number or account belongs to another inbox') : err;

/** The stored settings after an update: channel secrets left out of the update are kept. */
function mergeSettings(current: Partial<InboxSettings>, update: object | undefined): string {
  const before = current as Record<string, unknown>;
  const after = (update ?? {}) as Record<string, unknown>;
  const next: Record<string, unknown> = { ...defaultInboxSettings, ...before, ...after };
  for (const key of CHANNEL_SETTINGS_KEYS) if (after[key]) next[key] = keepSecrets(before[key], after[key]);
  return JSON.stringify(next);
}

export function inboxRoutes(app: App, deps: Deps) {
  const db = deps.db;
  // Where the inbox makes Parley connect is checked when saved too, so an admin hears of a refused address at once (each connection checks again).
  const checkSettings = async (settings: unknown) => {
    checkDkimSettings(settings);
    for (const host of providerHostsOf(settings)) await requireAllowedTarget(host, deps.config.privateTargets, 'provider address');
  };

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
      const channelType = request.body.channelType as ChannelType;
      const key = channelSettingsKey[channelType];
      if (key && !(request.body.settings as Record<string, unknown> | undefined)?.[key]) throw new ParleyError('PARLEY_ERR_VALIDATION', `a ${channelType} inbox needs settings.${key}`);
      await checkSettings(request.body.settings);
      const row = await db
        .insertInto('inboxes')
        .values({
          id: newId('inb'),
          tenant_id: principal.tenantId,
          public_id: newToken('wc', 12),
          name: request.body.name,
          channel_type: channelType,
          settings: mergeSettings({}, request.body.settings),
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
      await checkSettings(request.body.settings);
      const row = await db
        .updateTable('inboxes')
        .set({
          name: request.body.name ?? current.name,
          settings: mergeSettings(current.settings, request.body.settings),
        })
        .where('tenant_id', '=', principal.tenantId)
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err) => Promise.reject(addressTaken(err)));
      forgetInbox(db, row);
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
