import { Type } from 'typebox';
import { isValidTimeZone } from '@parley/routing';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { requireRole } from '../auth/principal.ts';
import { ParleyError } from '../errors.ts';
import { getContactOrThrow } from '../contacts/contacts.repository.ts';
import { getConversationRowOrThrow, recordConversationEvent } from '../conversations/conversations.repository.ts';
import { MAX_MESSAGE_LENGTH, postMessage } from '../conversations/post-message.ts';
import { MessageDto, toMessageDto } from '../conversations/conversation-dto.ts';
import { openConversation } from '../conversations/open-conversation.ts';
import { getInboxOrThrow } from '../inboxes/inboxes.repository.ts';
import { channelSettingsKey } from '../channels/channel-settings.ts';
import { contactForHandle } from '../channels/ingest.ts';
import { smsThreadKey } from '../channels/sms/adapter.ts';
import { chatThreadKey } from '../channels/meta/parse-meta-message.ts';
import { listContactConsents, setConsent, type Consent } from './consents.repository.ts';
import { getTenantSettings, updateTenantSettings, DEFAULT_TENANT_SENDS_PER_SECOND } from './tenant-settings.ts';
import { sendingNumberOf, sendPolicyOf } from './send-policy.ts';
import { isE164, isKnownCountry } from './phone-country.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const CountryCode = Type.String({ pattern: '^[A-Za-z]{2}$' });
const PhoneNumber = Type.String({ minLength: 2, maxLength: 20 });
const ConsentStatusSchema = Type.Union([Type.Literal('opted_in'), Type.Literal('opted_out')]);

const TenantSettingsDto = Type.Object({
  unavailableCountries: Type.Array(Type.String()),
  /** The tenant's own limit; null: the default applies. */
  maxSendsPerSecond: Nullable(Type.Number()),
  defaultMaxSendsPerSecond: Type.Number(),
  /** IANA time zone where the tenant's day starts (wallboard "today"); null: UTC. */
  timeZone: Nullable(Type.String()),
});

const ConsentDto = Type.Object({ inboxId: Type.String(), handle: Type.String(), status: ConsentStatusSchema, keyword: Nullable(Type.String()), changedAt: Type.String() });
const toConsentDto = (c: Consent) => ({ ...c, changedAt: c.changedAt.toISOString() });

const SendPolicyDto = Type.Object({
  canSend: Type.Boolean(),
  freeText: Type.Boolean(),
  reason: Nullable(Type.Union(['opted_out', 'country_unavailable', 'window_closed', 'no_channel'].map((r) => Type.Literal(r)))),
  message: Nullable(Type.String()),
  windowClosesAt: Nullable(Type.String()),
  templates: Type.Array(Type.Object({ name: Type.String(), language: Type.String(), body: Type.String() })),
});

/** Channels a program may start a conversation on by phone number. */
const PROACTIVE_CHANNELS = new Set(['sms', 'whatsapp']);

/** Tenant compliance settings, contacts' consents, the composer's send policy and proactive sends (CO-1, CO-2, CO-3). */
export function complianceRoutes(app: App, deps: Deps) {
  const db = deps.db;

  const tenantSettingsDto = async (tenantId: string) => {
    const { settings } = await getTenantSettings(db, tenantId);
    return {
      unavailableCountries: settings.unavailableCountries ?? [],
      maxSendsPerSecond: settings.maxSendsPerSecond ?? null,
      defaultMaxSendsPerSecond: DEFAULT_TENANT_SENDS_PER_SECOND,
      timeZone: settings.timeZone ?? null,
    };
  };

  app.get('/tenant/settings', { schema: { tags: ['compliance'], response: responses({ 200: TenantSettingsDto }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    return tenantSettingsDto(principal.tenantId);
  });

  app.patch(
    '/tenant/settings',
    {
      schema: {
        tags: ['compliance'],
        body: Type.Object(
          {
            unavailableCountries: Type.Optional(Type.Array(CountryCode, { maxItems: 250 })),
            maxSendsPerSecond: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 }))),
            timeZone: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: TenantSettingsDto }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const { unavailableCountries, maxSendsPerSecond, timeZone } = request.body;
      if (timeZone && !isValidTimeZone(timeZone)) throw new ParleyError('PARLEY_ERR_VALIDATION', `not an IANA time zone: ${timeZone}`);
      const codes = unavailableCountries?.map((c) => c.toUpperCase());
      const unknown = codes?.filter((c) => !isKnownCountry(c)) ?? [];
      if (unknown.length > 0) throw new ParleyError('PARLEY_ERR_VALIDATION', `not ISO 3166-1 alpha-2 country codes: ${unknown.join(', ')}`);
      await updateTenantSettings(db, principal.tenantId, {
        ...(codes ? { unavailableCountries: [...new Set(codes)].sort() } : {}),
        ...(maxSendsPerSecond !== undefined ? { maxSendsPerSecond } : {}),
        ...(timeZone !== undefined ? { timeZone } : {}),
      });
      return tenantSettingsDto(principal.tenantId);
    },
  );

  app.get('/contacts/:id/consents', { schema: { tags: ['compliance'], params: IdParams, response: responses({ 200: Items(ConsentDto) }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    await getContactOrThrow(db, tenantId, request.params.id);
    return { items: (await listContactConsents(db, tenantId, request.params.id)).map(toConsentDto) };
  });

  app.put(
    '/contacts/:id/consents/:inboxId',
    {
      schema: {
        tags: ['compliance'],
        params: Type.Object({ id: IdParams.properties.id, inboxId: IdParams.properties.id }),
        body: Type.Object({ status: ConsentStatusSchema }, { additionalProperties: false }),
        response: responses({ 200: ConsentDto }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'supervisor');
      const { tenantId } = principal;
      const contact = await getContactOrThrow(db, tenantId, request.params.id);
      const inbox = await getInboxOrThrow(db, tenantId, request.params.inboxId);
      if (!channelSettingsKey[inbox.channel_type]) throw new ParleyError('PARLEY_ERR_NOT_SUPPORTED', `a ${inbox.channel_type} inbox has no consent: it sends nothing unasked`);
      const handles = await db.selectFrom('contact_handles').select('handle').where('tenant_id', '=', tenantId).where('contact_id', '=', contact.id).where('channel_type', '=', inbox.channel_type).execute();
      if (handles.length === 0) throw new ParleyError('PARLEY_ERR_VALIDATION', `the contact has no ${inbox.channel_type} handle`);
      const status = request.body.status;
      const at = new Date();
      const conversation = await db.selectFrom('conversations').select('id').where('tenant_id', '=', tenantId).where('inbox_id', '=', inbox.id).where('contact_id', '=', contact.id).orderBy('last_activity_at', 'desc').executeTakeFirst();
      for (const { handle } of handles) {
        const changed = await setConsent(db, { tenantId, inboxId: inbox.id, handle, status, keyword: null, at });
        if (changed && conversation) {
          await recordConversationEvent(db, {
            tenantId,
            conversationId: conversation.id,
            type: `consent.${status}`,
            actorType: principal.userId ? 'user' : 'system',
            actorId: principal.userId,
            data: { inboxId: inbox.id, handle, keyword: null, by: principal.name },
          });
        }
      }
      const consents = await listContactConsents(db, tenantId, contact.id);
      return toConsentDto(consents.find((c) => c.inboxId === inbox.id)!);
    },
  );

  app.get('/conversations/:id/send-policy', { schema: { tags: ['compliance'], params: IdParams, response: responses({ 200: SendPolicyDto }) } }, async (request) => {
    const conversation = await getConversationRowOrThrow(db, principalOf(request).tenantId, request.params.id);
    const policy = await sendPolicyOf(db, conversation);
    return { ...policy, windowClosesAt: policy.windowClosesAt?.toISOString() ?? null };
  });

  app.post(
    '/outbound-messages',
    {
      schema: {
        tags: ['compliance'],
        description: 'Sends a text from an SMS or WhatsApp inbox to a phone number, in the latest conversation with that number or a new one. Consent, countries, the channel window and send rates apply.',
        body: Type.Object(
          {
            inboxId: IdParams.properties.id,
            to: PhoneNumber,
            /** Optional: must be the inbox's own number (no sending from numbers the tenant does not own). */
            from: Type.Optional(PhoneNumber),
            text: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH }),
            clientMessageId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Type.Object({ conversationId: Type.String(), message: MessageDto }), 201: Type.Object({ conversationId: Type.String(), message: MessageDto }) }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { tenantId } = principal;
      const body = request.body;
      if (!isE164(body.to)) throw new ParleyError('PARLEY_ERR_VALIDATION', `"${body.to}" is not a phone number in E.164 form (+ country code and number)`);
      const inbox = await getInboxOrThrow(db, tenantId, body.inboxId);
      if (!PROACTIVE_CHANNELS.has(inbox.channel_type)) throw new ParleyError('PARLEY_ERR_NOT_SUPPORTED', `messages to a phone number leave by an SMS or WhatsApp inbox, not by a ${inbox.channel_type} inbox`);
      const inboxNumber = sendingNumberOf(inbox);
      if (body.from !== undefined && body.from !== inboxNumber) {
        const owned = await ownsNumber(tenantId, body.from);
        if (!owned) throw new ParleyError('PARLEY_ERR_NUMBER_NOT_OWNED', `${body.from} is not a number of this tenant: messages leave only from the tenant's own numbers`);
        throw new ParleyError('PARLEY_ERR_VALIDATION', `${body.from} is not the number of this inbox (${inboxNumber ?? 'none'}): name the inbox of that number`);
      }
      // WhatsApp ids are the number without its plus sign.
      const handle = inbox.channel_type === 'whatsapp' ? body.to.slice(1) : body.to;
      const contactId = await contactForHandle(deps, tenantId, inbox.channel_type, handle, null);
      // The running chat of this number with the inbox, under the thread key the channel's inbound messages carry, so the answer lands in it.
      const threadKey = inbox.channel_type === 'sms' ? smsThreadKey(handle) : chatThreadKey(inbox.channel_type, handle);
      const conversation = await db.selectFrom('conversations').select('id').where('tenant_id', '=', tenantId).where('inbox_id', '=', inbox.id).where('external_thread_id', '=', threadKey).orderBy('created_at', 'desc').executeTakeFirst();
      const conversationId =
        conversation?.id ??
        // Opened resolved: a notification is not work for agents until the customer answers (their answer reopens and routes it).
        (await openConversation(deps, { tenantId, inboxId: inbox.id, channelType: inbox.channel_type, contact: { id: contactId }, status: 'resolved', externalThreadId: threadKey, actor: { type: principal.userId ? 'user' : 'system', id: principal.userId } })).id;
      const { message, created } = await postMessage(deps, {
        tenantId,
        conversationId,
        direction: 'out',
        senderType: 'user',
        senderId: principal.userId,
        senderName: principal.name,
        content: body.text,
        clientMessageId: body.clientMessageId,
      });
      return reply.status(created ? 201 : 200).send({ conversationId, message: toMessageDto(message) });
    },
  );

  async function ownsNumber(tenantId: string, number: string): Promise<boolean> {
    const inboxes = await db.selectFrom('inboxes').selectAll().where('tenant_id', '=', tenantId).where('channel_type', 'in', ['sms', 'whatsapp']).execute();
    return inboxes.some((i) => sendingNumberOf(i) === number);
  }
}
