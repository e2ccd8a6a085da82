import type { MessageStatus } from '../../../db/schema.ts';
import { SmsWebhookRejected, type SmsDeliveryReport, type SmsProvider, type SmsWebhookRequest, type SmsWebhookResult } from '../provider.ts';
import type { SmsSettings } from '../settings.ts';
import { isFailure, providerRequest, refusal, sameSecret, toE164 } from '../provider-http.ts';

/** Sinch XMS delivery states → Parley's; Unknown means nothing yet. */
const STATUSES: Record<string, MessageStatus> = {
  queued: 'sent',
  dispatched: 'sent',
  delivered: 'delivered',
  aborted: 'failed',
  cancelled: 'failed',
  failed: 'failed',
  expired: 'failed',
  rejected: 'failed',
  deleted: 'failed',
};

type Sinch = NonNullable<SmsSettings['sinch']>;

/** The XMS host of the account's region (`us`, `eu`, `au`, `br`, `ca`) unless a base URL is set. */
const baseOf = (sinch: Sinch) => (sinch.baseUrl ?? `https://${sinch.region ?? 'us'}.sms.api.sinch.com`).replace(/\/$/, '');
const batchesUrl = (sinch: Sinch) => `${baseOf(sinch)}/xms/v1/${encodeURIComponent(sinch.servicePlanId)}/batches`;
const NO_CREDENTIALS = 'the inbox has no Sinch service plan id and API token';

interface SinchCallback {
  type?: unknown;
  id?: unknown;
  from?: unknown;
  to?: unknown;
  body?: unknown;
  received_at?: unknown;
  operator_id?: unknown;
  batch_id?: unknown;
  recipient?: unknown;
  code?: unknown;
  status?: unknown;
  statuses?: unknown;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : null);

function report(batchId: string, status: unknown, code: unknown): SmsDeliveryReport | null {
  const state = str(status)?.toLowerCase();
  const mapped = state ? STATUSES[state] : undefined;
  if (!mapped) return null;
  return { providerId: batchId, status: mapped, reason: mapped === 'failed' ? `Sinch ${state}${str(code) ? ` (code ${str(code)})` : ''}` : null };
}

function readWebhook(settings: SmsSettings, request: SmsWebhookRequest): SmsWebhookResult {
  const secret = settings.sinch?.callbackSecret;
  if (!secret) throw new SmsWebhookRejected(401, 'the inbox has no Sinch callback secret to check the Authorization header with');
  const authorization = request.headers.authorization;
  if (!authorization) throw new SmsWebhookRejected(401, 'missing Authorization header (Bearer <callback secret>)');
  const token = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim() ?? '';
  if (!sameSecret(token, secret)) throw new SmsWebhookRejected(401, 'wrong Sinch callback token');
  if (request.method !== 'POST') throw new SmsWebhookRejected(400, 'Sinch callbacks are POSTed JSON');
  let body: SinchCallback;
  try {
    body = JSON.parse(request.rawBody.toString('utf8')) as SinchCallback;
  } catch {
    throw new SmsWebhookRejected(400, 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SmsWebhookRejected(400, 'the body is not a Sinch callback object');
  switch (body.type) {
    case 'mo_text': {
      const id = str(body.id);
      const from = str(body.from);
      const to = str(body.to);
      if (!id || !from || !to) throw new SmsWebhookRejected(400, 'mo_text without id, from or to');
      if (body.body !== undefined && typeof body.body !== 'string') throw new SmsWebhookRejected(400, 'mo_text body is not a string');
      const details = { provider: 'sinch', ...(str(body.received_at) ? { receivedAt: str(body.received_at) } : {}), ...(str(body.operator_id) ? { operatorId: str(body.operator_id) } : {}) };
      return { inbound: [{ providerId: id, from: toE164(from), to: toE164(to), text: (body.body as string | undefined) ?? '', media: [], details }], reports: [] };
    }
    case 'recipient_delivery_report_sms': {
      const batchId = str(body.batch_id);
      if (!batchId) throw new SmsWebhookRejected(400, 'delivery report without batch_id');
      const one = report(batchId, body.status, body.code);
      return { inbound: [], reports: one ? [one] : [] };
    }
    case 'delivery_report_sms': {
      const batchId = str(body.batch_id);
      if (!batchId || !Array.isArray(body.statuses)) throw new SmsWebhookRejected(400, 'delivery report without batch_id or statuses');
      const reports = (body.statuses as { status?: unknown; code?: unknown }[]).map((s) => report(batchId, s?.status, s?.code)).filter((r): r is SmsDeliveryReport => r !== null);
      return { inbound: [], reports };
    }
    default:
      throw new SmsWebhookRejected(400, `unsupported Sinch callback type ${JSON.stringify(body.type ?? null).slice(0, 50)}`);
  }
}

/** Sinch's error body: `{ code, text }`. */
const sinchError = (json: unknown) => {
  const e = json as { code?: string; text?: string } | null;
  return e?.text ? `${e.text}${e.code ? ` (${e.code})` : ''}` : null;
};

export const sinch: SmsProvider = {
  name: 'sinch',
  readWebhook,
  async send(settings, message, privateTargets) {
    const creds = settings.sinch;
    if (!creds?.apiToken) return { ok: false, retryable: false, error: NO_CREDENTIALS };
    const answer = await providerRequest(batchesUrl(creds), {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: message.from,
        to: [message.to],
        body: message.text,
        delivery_report: 'per_recipient',
        client_reference: message.reference,
        ...(message.callbackUrl ? { callback_url: message.callbackUrl } : {}),
      }),
    }, privateTargets);
    if (isFailure(answer)) return answer;
    const id = (answer.json as { id?: unknown } | null)?.id;
    if (answer.status >= 200 && answer.status < 300 && typeof id === 'string') return { ok: true, providerId: id };
    if (answer.status >= 200 && answer.status < 300) return { ok: false, retryable: false, error: 'Sinch accepted the batch but returned no id' };
    return refusal('Sinch', answer, sinchError(answer.json));
  },
  mapStatus: (state) => STATUSES[state.toLowerCase()] ?? null,
  async testConnection(settings, privateTargets) {
    const creds = settings.sinch;
    if (!creds?.apiToken) return { ok: false, message: NO_CREDENTIALS };
    const answer = await providerRequest(`${batchesUrl(creds)}?page_size=1`, { headers: { authorization: `Bearer ${creds.apiToken}` } }, privateTargets);
    if (isFailure(answer)) return { ok: false, message: answer.error };
    if (answer.status !== 200) return { ok: false, message: refusal('Sinch', answer, sinchError(answer.json)).error };
    return { ok: true, message: `Sinch service plan ${creds.servicePlanId}: reachable` };
  },
};
