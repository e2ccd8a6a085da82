import { createHmac } from 'node:crypto';
import type { MessageStatus } from '../../../db/schema.ts';
import { SmsWebhookRejected, type InboundSms, type SmsDeliveryReport, type SmsProvider, type SmsWebhookRequest, type SmsWebhookResult } from '../provider.ts';
import type { SmsSettings } from '../settings.ts';
import { basicAuth, firstValues, isFailure, parseForm, providerRequest, refusal, sameSecret, toE164 } from '../provider-http.ts';

const DEFAULT_BASE_URL = 'https://api.twilio.com';

/** Twilio's MessageStatus values → Parley's. Inbound states (receiving, received) mean nothing for a sent message. */
const STATUSES: Record<string, MessageStatus> = {
  accepted: 'sent',
  scheduled: 'sent',
  queued: 'sent',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

type Twilio = NonNullable<SmsSettings['twilio']>;

function credentials(settings: SmsSettings): (Twilio & { authToken: string }) | null {
  const twilio = settings.twilio;
  return twilio?.authToken ? { ...twilio, authToken: twilio.authToken } : null;
}

const NO_CREDENTIALS = 'the inbox has no Twilio account SID and auth token';

const baseOf = (twilio: Twilio) => (twilio.baseUrl ?? DEFAULT_BASE_URL).replace(/\/$/, '');

/**
 * Twilio's request signature: the full URL the webhook was sent to, then each POST parameter's
 * name and value, sorted by name (and by value for repeated names), HMAC-SHA1 with the auth
 * token, base64.
 */
export function twilioSignature(authToken: string, url: string, params: Map<string, string[]>): string {
  const pairs = [...params].flatMap(([name, values]) => values.map((value) => [name, value] as const));
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return createHmac('sha1', authToken).update(url + pairs.map(([n, v]) => n + v).join('')).digest('base64');
}

function readWebhook(settings: SmsSettings, request: SmsWebhookRequest): SmsWebhookResult {
  const twilio = settings.twilio;
  if (!twilio?.authToken) throw new SmsWebhookRejected(401, 'the inbox has no Twilio auth token to check X-Twilio-Signature with');
  const signature = request.headers['x-twilio-signature'];
  if (!signature) throw new SmsWebhookRejected(401, 'missing X-Twilio-Signature header');
  const form = request.method === 'POST' ? parseForm(request.rawBody.toString('utf8')) : new Map<string, string[]>();
  if (!sameSecret(signature, twilioSignature(twilio.authToken, request.url, form))) {
    throw new SmsWebhookRejected(401, 'bad X-Twilio-Signature: not signed with this inbox\'s auth token for this URL');
  }
  // A GET webhook carries its parameters in the URL (signed as part of it).
  const p = request.method === 'POST' ? firstValues(form) : request.query;
  if (p.AccountSid && p.AccountSid !== twilio.accountSid) throw new SmsWebhookRejected(403, `the callback is for Twilio account ${p.AccountSid}, not this inbox's`);
  const sid = p.MessageSid ?? p.SmsSid;
  if (!sid) throw new SmsWebhookRejected(400, 'MessageSid missing');
  const state = (p.MessageStatus ?? p.SmsStatus ?? 'received').toLowerCase();
  const twiml = { contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response/>' };

  if (state !== 'received' && state !== 'receiving') {
    const status = STATUSES[state];
    const reports: SmsDeliveryReport[] = status ? [{ providerId: sid, status, reason: status === 'failed' ? `Twilio ${state}${p.ErrorCode ? ` (error ${p.ErrorCode})` : ''}` : null }] : [];
    return { inbound: [], reports, response: twiml };
  }
  if (!p.From || !p.To) throw new SmsWebhookRejected(400, 'From or To missing');
  const count = Math.min(Number.parseInt(p.NumMedia ?? '0', 10) || 0, 10);
  const media: InboundSms['media'] = [];
  for (let i = 0; i < count; i++) {
    const url = p[`MediaUrl${i}`];
    if (url) media.push({ url, contentType: p[`MediaContentType${i}`] ?? null });
  }
  const inbound: InboundSms = {
    providerId: sid,
    from: toE164(p.From),
    to: toE164(p.To),
    text: p.Body ?? '',
    media,
    details: { provider: 'twilio', ...(p.NumSegments ? { segments: Number(p.NumSegments) } : {}), ...(p.FromCountry ? { fromCountry: p.FromCountry } : {}) },
  };
  return { inbound: [inbound], reports: [], response: twiml };
}

/** Twilio's error body: `{ code, message, more_info, status }`. */
const twilioError = (json: unknown) => {
  const e = json as { code?: number; message?: string } | null;
  return e?.message ? `${e.message}${e.code ? ` (Twilio error ${e.code})` : ''}` : null;
};

export const twilio: SmsProvider = {
  name: 'twilio',
  readWebhook,
  async send(settings, message, privateTargets) {
    const creds = credentials(settings);
    if (!creds) return { ok: false, retryable: false, error: NO_CREDENTIALS };
    const form = new URLSearchParams({ To: message.to, From: message.from, Body: message.text });
    if (message.callbackUrl) form.set('StatusCallback', message.callbackUrl);
    const answer = await providerRequest(`${baseOf(creds)}/2010-04-01/Accounts/${encodeURIComponent(creds.accountSid)}/Messages.json`, {
      method: 'POST',
      headers: { authorization: basicAuth(creds.accountSid, creds.authToken), 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    }, privateTargets);
    if (isFailure(answer)) return answer;
    const sid = (answer.json as { sid?: unknown } | null)?.sid;
    if (answer.status >= 200 && answer.status < 300 && typeof sid === 'string') return { ok: true, providerId: sid };
    if (answer.status >= 200 && answer.status < 300) return { ok: false, retryable: false, error: 'Twilio accepted the message but returned no sid' };
    return refusal('Twilio', answer, twilioError(answer.json));
  },
  mapStatus: (state) => STATUSES[state.toLowerCase()] ?? null,
  async testConnection(settings, privateTargets) {
    const creds = credentials(settings);
    if (!creds) return { ok: false, message: NO_CREDENTIALS };
    const answer = await providerRequest(`${baseOf(creds)}/2010-04-01/Accounts/${encodeURIComponent(creds.accountSid)}.json`, {
      headers: { authorization: basicAuth(creds.accountSid, creds.authToken) },
    }, privateTargets);
    if (isFailure(answer)) return { ok: false, message: answer.error };
    if (answer.status !== 200) return { ok: false, message: refusal('Twilio', answer, twilioError(answer.json)).error };
    const account = answer.json as { friendly_name?: string; status?: string } | null;
    return { ok: account?.status === undefined || account.status === 'active', message: `Twilio account ${account?.friendly_name ?? creds.accountSid}: ${account?.status ?? 'reachable'}` };
  },
  mediaAuthorization: (settings) => (settings.twilio?.authToken ? basicAuth(settings.twilio.accountSid, settings.twilio.authToken) : null),
};
