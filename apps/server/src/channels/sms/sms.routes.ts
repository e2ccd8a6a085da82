import { findInboxByPublicId } from '../../inboxes/inboxes.repository.ts';
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import type { App } from '../../http.ts';
import { ParleyError, type ErrorCode } from '../../errors.ts';
import { ingestInbound } from '../ingest.ts';
import { applyDeliveryReport } from '../outbound.ts';
import { recordChannelError } from '../channel-errors.ts';
import { publicUrlOf, rawBodyOf } from '../webhook-scope.ts';
import { adapter } from './adapter.ts';
import { fetchSmsMedia } from './media.ts';
import { SmsWebhookRejected, type SmsWebhookRequest } from './provider.ts';
import { smsProviderFor } from './providers/index.ts';
import { smsSettingsOf } from './settings.ts';
import { scheduleFlush, storePart } from './long-sms.ts';

const Params = Type.Object({ publicId: Type.String({ minLength: 1, maxLength: 100 }) });

const REJECTION_CODES: Record<SmsWebhookRejected['statusCode'], ErrorCode> = {
  400: 'PARLEY_ERR_BAD_REQUEST',
  401: 'PARLEY_ERR_UNAUTHENTICATED',
  403: 'PARLEY_ERR_FORBIDDEN',
  404: 'PARLEY_ERR_NOT_FOUND',
};

/**
 * The one webhook of an SMS inbox: the provider posts inbound messages and delivery reports
 * to `/api/v1/channels/sms/{inbox public id}/webhook`. Registered inside webhookScope (public
 * route, raw body kept for signatures). The answer leaves only after every message and report
 * in the request is committed, so a provider that got a 2xx never needs to send again, and a
 * provider that retries finds its message stored already (keyed by its id).
 */
export function smsRoutes(app: App, deps: Deps) {
  const handler = async (request: FastifyRequest<{ Params: { publicId: string } }>, reply: FastifyReply) => {
    const found = await findInboxByPublicId(deps.db, request.params.publicId);
    const inbox = found?.channel_type === 'sms' ? found : null;
    const settings = inbox ? smsSettingsOf(inbox.settings) : null;
    const provider = settings ? smsProviderFor(settings.provider) : null;
    if (!inbox || !settings) throw new ParleyError('PARLEY_ERR_NOT_FOUND', 'unknown SMS inbox');
    if (!provider?.readWebhook) throw new ParleyError('PARLEY_ERR_NOT_FOUND', `the inbox's SMS provider (${settings.provider}) takes no HTTP callbacks`);

    const webhook: SmsWebhookRequest = {
      url: publicUrlOf(request, deps.config.publicUrl),
      method: request.method === 'GET' ? 'GET' : 'POST',
      headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])),
      query: Object.fromEntries(Object.entries((request.query ?? {}) as Record<string, string | string[]>).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v])),
      rawBody: rawBodyOf(request),
    };
    let result;
    try {
      result = provider.readWebhook(settings, webhook);
    } catch (err) {
      if (!(err instanceof SmsWebhookRejected)) throw err;
      // The admin sees why the provider's callbacks fail (a wrong secret is a setup mistake, or someone knocking).
      await recordChannelError(deps.db, { tenantId: inbox.tenant_id, inboxId: inbox.id, kind: 'webhook.rejected', message: `${provider.name} webhook refused (${err.statusCode}): ${err.message}` });
      throw new ParleyError(REJECTION_CODES[err.statusCode], err.message);
    }

    for (const sms of result.inbound) {
      if (sms.part && sms.part.total > 1) {
        // One part of a long text: kept until the rest comes (then stored whole), or until the wait is over.
        const began = await storePart(deps, inbox, { from: sms.from, to: sms.to, part: sms.part, text: sms.text, details: sms.details, idPrefix: `${provider.name}-c` });
        if (began) await scheduleFlush(deps.db, inbox);
        continue;
      }
      const media = sms.media.length ? await fetchSmsMedia(provider, settings, sms, deps.config.maxAttachmentBytes, deps.config.privateTargets) : { attachments: [], problems: [] };
      if (media.problems.length) {
        await recordChannelError(deps.db, { tenantId: inbox.tenant_id, inboxId: inbox.id, kind: 'media', message: `${provider.name} ${sms.providerId}: ${media.problems.join('; ')}` });
      }
      const message = await adapter.parseInbound({ ...sms, attachments: media.attachments, details: { ...sms.details, ...(media.problems.length ? { mediaProblems: media.problems } : {}) } });
      await ingestInbound(deps, inbox, message);
    }
    for (const report of result.reports) {
      await applyDeliveryReport(deps, inbox.tenant_id, inbox.id, { providerIds: [report.providerId], status: report.status, reason: report.reason });
    }
    if (result.response) return reply.status(200).type(result.response.contentType).send(result.response.body);
    return reply.status(200).type('text/plain').send('');
  };
  // Called by providers, not by API clients: documented in docs/channels/sms.md, not in the agent API's OpenAPI document.
  const schema = { hide: true, params: Params };
  app.get('/channels/sms/:publicId/webhook', { schema }, handler);
  app.post('/channels/sms/:publicId/webhook', { schema }, handler);
}
