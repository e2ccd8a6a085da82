import { createHash, createHmac } from 'node:crypto';
import type { MessageStatus } from '../../../db/schema.ts';
import { SmsWebhookRejected, type SmsProvider, type SmsWebhookRequest, type SmsWebhookResult } from '../provider.ts';
import type { PartNumbering } from '../long-sms.ts';
import type { SmsSettings, VonageSignatureMethod } from '../settings.ts';
import { firstValues, isFailure, parseForm, providerRequest, refusal, sameSecret, toE164 } from '../provider-http.ts';

const DEFAULT_BASE_URL = 'https://rest.nexmo.com';
/** A signed webhook older or newer than this is refused: a captured request cannot be replayed later. */
export const VONAGE_SIGNATURE_MAX_SKEW_SECONDS = 5 * 60;

/** Vonage delivery receipt states → Parley's; accepted and buffered mean it is still on its way. */
const STATUSES: Record<string, MessageStatus> = {
  accepted: 'sent',
  buffered: 'sent',
  delivered: 'delivered',
  expired: 'failed',
  failed: 'failed',
  rejected: 'failed',
};

/** Vonage send status codes that pass later: 1 throttled, 5 internal error. Every other non-zero code is definitive. */
const RETRYABLE_SEND_STATUSES = new Set(['1', '5']);

type Vonage = NonNullable<SmsSettings['vonage']>;
const baseOf = (vonage: Vonage) => (vonage.baseUrl ?? DEFAULT_BASE_URL).replace(/\/$/, '');
const NO_CREDENTIALS = 'the inbox has no Vonage API key and secret';

/**
 * Vonage's webhook signature: every parameter but `sig`, sorted by name, as `&name=value` with
 * `&` and `=` in values replaced by `_`; then md5(string + secret) for `md5hash`, or the HMAC of
 * the string keyed by the secret for the HMAC methods. Hex (Vonage sends HMACs in upper case).
 */
export function vonageSignature(params: Record<string, string>, secret: string, method: VonageSignatureMethod): string {
  const text = Object.keys(params)
    .filter((k) => k !== 'sig')
    .sort()
    .map((k) => `&${k}=${params[k]!.replace(/[&=]/g, '_')}`)
    .join('');
  return method === 'md5hash' ? createHash('md5').update(text + secret).digest('hex') : createHmac(method, secret).update(text).digest('hex');
}

/** Vonage calls with GET (query), POST form or POST JSON, as chosen in its dashboard. */
function paramsOf(request: SmsWebhookRequest): Record<string, string> {
  if (request.method === 'GET') return request.query;
  const raw = request.rawBody.toString('utf8');
  const type = request.headers['content-type'] ?? '';
  if (/json/i.test(type) || /^\s*\{/.test(raw)) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new SmsWebhookRejected(400, 'the body is not valid JSON');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SmsWebhookRejected(400, 'the body is not a Vonage webhook object');
    return Object.fromEntries(Object.entries(json).filter(([, v]) => v !== null && typeof v !== 'object').map(([k, v]) => [k, String(v)]));
  }
  return firstValues(parseForm(raw));
}

function checkSignature(vonage: Vonage, p: Record<string, string>, now: number): void {
  if (!vonage.signatureSecret) return;
  if (!p.sig) throw new SmsWebhookRejected(401, 'missing sig: this inbox requires signed Vonage webhooks');
  const timestamp = Number(p.timestamp);
  if (!p.timestamp || !Number.isFinite(timestamp)) throw new SmsWebhookRejected(401, 'signed webhook without a timestamp');
  if (Math.abs(now / 1000 - timestamp) > VONAGE_SIGNATURE_MAX_SKEW_SECONDS) throw new SmsWebhookRejected(401, `the webhook's timestamp is more than ${VONAGE_SIGNATURE_MAX_SKEW_SECONDS / 60} minutes away from now`);
  const expected = vonageSignature(p, vonage.signatureSecret, vonage.signatureMethod ?? 'md5hash');
  if (!sameSecret(p.sig.toLowerCase(), expected.toLowerCase())) throw new SmsWebhookRejected(401, 'bad sig: not signed with this inbox\'s Vonage signature secret');
}

/** A part of a long text (`concat=true`): its reference, count and number, which must make sense. */
function partOf(p: Record<string, string>): PartNumbering {
  const total = Number(p['concat-total']);
  const sequence = Number(p['concat-part']);
  if (!p['concat-ref'] || !Number.isInteger(total) || !Number.isInteger(sequence) || total < 1 || total > 255 || sequence < 1 || sequence > total) {
    throw new SmsWebhookRejected(400, 'concat=true needs concat-ref, and concat-part between 1 and concat-total (at most 255)');
  }
  return { reference: p['concat-ref'], total, sequence };
}

function readWebhook(settings: SmsSettings, request: SmsWebhookRequest): SmsWebhookResult {
  const vonage = settings.vonage;
  if (!vonage) throw new SmsWebhookRejected(401, 'the inbox has no Vonage settings');
  const p = paramsOf(request);
  checkSignature(vonage, p, Date.now());
  if (p['api-key'] && p['api-key'] !== vonage.apiKey) throw new SmsWebhookRejected(403, `the webhook is for Vonage API key ${p['api-key']}, not this inbox's`);
  if (!p.messageId) throw new SmsWebhookRejected(400, 'messageId missing');
  if (p.status !== undefined) {
    // A delivery receipt: msisdn is the handset the message went to, messageId the id send returned.
    const state = p.status.toLowerCase();
    const status = STATUSES[state];
    const errCode = p['err-code'] && p['err-code'] !== '0' ? ` (err-code ${p['err-code']})` : '';
    return { inbound: [], reports: status ? [{ providerId: p.messageId, status, reason: status === 'failed' ? `Vonage ${state}${errCode}` : null }] : [] };
  }
  if (!p.msisdn || !p.to) throw new SmsWebhookRejected(400, 'msisdn or to missing');
  const part = p.concat === 'true' ? partOf(p) : undefined;
  return {
    inbound: [
      {
        providerId: p.messageId,
        from: toE164(p.msisdn),
        to: toE164(p.to),
        text: p.text ?? '',
        media: [],
        details: { provider: 'vonage', ...(p.type ? { type: p.type } : {}), ...(p['message-timestamp'] ? { sentAt: p['message-timestamp'] } : {}), ...(p.keyword ? { keyword: p.keyword } : {}) },
        ...(part ? { part } : {}),
      },
    ],
    reports: [],
  };
}

/** Characters of the GSM 03.38 alphabet (basic set and extension): text outside it must go as `type=unicode`. */
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€\f]*$/;

export const vonage: SmsProvider = {
  name: 'vonage',
  readWebhook,
  async send(settings, message, privateTargets) {
    const creds = settings.vonage;
    if (!creds?.apiSecret) return { ok: false, retryable: false, error: NO_CREDENTIALS };
    const form = new URLSearchParams({
      api_key: creds.apiKey,
      api_secret: creds.apiSecret,
      // Vonage takes numbers without the plus; an alphanumeric sender goes as is.
      from: message.from.replace(/^\+/, ''),
      to: message.to.replace(/^\+/, ''),
      text: message.text,
      'client-ref': message.reference.slice(0, 100),
    });
    if (!GSM7.test(message.text)) form.set('type', 'unicode');
    if (message.callbackUrl) form.set('callback', message.callbackUrl);
    const answer = await providerRequest(`${baseOf(creds)}/sms/json`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() }, privateTargets);
    if (isFailure(answer)) return answer;
    if (answer.status < 200 || answer.status >= 300) return refusal('Vonage', answer, (answer.json as { 'error-text'?: string } | null)?.['error-text'] ?? null);
    const messages = (answer.json as { messages?: { status?: string; 'message-id'?: string; 'error-text'?: string }[] } | null)?.messages;
    const first = messages?.[0];
    if (!first) return { ok: false, retryable: true, error: 'Vonage answered without a message status' };
    // A text longer than one SMS goes as several parts, each with its own id; the first names the
    // message (a retry after a sent first part would send the customer a duplicate).
    if (first.status !== '0') {
      return { ok: false, retryable: RETRYABLE_SEND_STATUSES.has(String(first.status)), error: `Vonage status ${first.status}: ${first['error-text'] ?? 'refused'}` };
    }
    if (!first['message-id']) return { ok: false, retryable: false, error: 'Vonage accepted the message but returned no message-id' };
    return { ok: true, providerId: first['message-id'] };
  },
  mapStatus: (state) => STATUSES[state.toLowerCase()] ?? null,
  async testConnection(settings, privateTargets) {
    const creds = settings.vonage;
    if (!creds?.apiSecret) return { ok: false, message: NO_CREDENTIALS };
    const query = new URLSearchParams({ api_key: creds.apiKey, api_secret: creds.apiSecret });
    const answer = await providerRequest(`${baseOf(creds)}/account/get-balance?${query}`, {}, privateTargets);
    if (isFailure(answer)) return { ok: false, message: answer.error };
    if (answer.status !== 200) return { ok: false, message: refusal('Vonage', answer, (answer.json as { 'error-code-label'?: string } | null)?.['error-code-label'] ?? null).error };
    const balance = (answer.json as { value?: number } | null)?.value;
    return { ok: true, message: `Vonage account ${creds.apiKey}: balance ${balance ?? 'unknown'}` };
  },
};
