import type { MessageStatus } from '../../../db/schema.ts';
import type { SendResult } from '../../channel.ts';
import { SmsWebhookRejected, type SmsProvider, type SmsSend, type SmsWebhookRequest, type SmsWebhookResult } from '../provider.ts';
import type { PrivateTargets } from '../../../net/private-targets.ts';
import { isFailure, providerRequest, refusal, sameSecret, toE164 } from '../provider-http.ts';
import type { SmsSettings } from '../settings.ts';
import { decodeUcs2, encodeGsm7 } from '../smpp/encoding.ts';

/**
 * Kannel's HTTP interface (smsbox). Inbound texts arrive by an sms-service's `get-url`, delivery
 * reports by the `dlr-url` Parley passes on each send; both carry `token=<webhookToken>` because
 * Kannel signs nothing. Outbound goes to smsbox's `cgi-bin/sendsms`, which answers no message id:
 * Parley's own message id travels in the dlr-url (`ref`) and is the provider id.
 *
 * The sms-service Parley expects (docs/channels/sms.md):
 *   get-url = "<webhook>?token=<webhookToken>&kind=mo&id=%I&from=%p&to=%P&text=%b&coding=%c&charset=%C&ts=%T"
 * `%b` is the message's exact bytes (URL-encoded); `%a` would squeeze spaces and line breaks.
 */

/** Kannel's DLR values (the `%d` of a dlr-url), one bit per report. */
const DLR_STATUS: Record<string, MessageStatus | null> = {
  '1': 'delivered', // delivered to the phone
  '2': 'failed', // non-delivered to the phone
  '4': 'sent', // buffered at the SMSC (the phone is away): still on its way
  '8': 'sent', // accepted by the SMSC
  '16': 'failed', // rejected by the SMSC
};

/** All five DLR bits: delivered, failed, buffered, SMSC accepted, SMSC rejected. */
const DLR_MASK = 31;

/**
 * The query string as raw bytes per name: Kannel URL-encodes the message's bytes in the
 * charset it reports (%C), UTF-16BE for UCS-2, so decoding them as UTF-8 (what a framework's
 * query parser does) would garble every accent and emoji of a Unicode text.
 */
function rawQuery(url: string): Map<string, Buffer> {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1).split('#')[0]! : '';
  const out = new Map<string, Buffer>();
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = percentDecode(eq === -1 ? pair : pair.slice(0, eq)).toString('utf8');
    if (!out.has(name)) out.set(name, percentDecode(eq === -1 ? '' : pair.slice(eq + 1)));
  }
  return out;
}

/** URL-decoding to bytes (`+` is a space), not to a UTF-8 string. */
export function percentDecode(encoded: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded[i]!;
    if (ch === '+') bytes.push(0x20);
    else if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(bytes);
}

/** Where WINDOWS-1252 differs from ISO-8859-1 (0x80–0x9F; undefined positions stay as they are). */
const CP1252_80_9F = [...'€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ'];

/** The message bytes as text, by the charset Kannel names (%C), else by the coding (%c: 2 = UCS-2). */
export function decodeKannelText(bytes: Buffer, coding: string, charset: string): string {
  const name = charset.toUpperCase();
  if (name === 'UTF-16BE' || name === 'UCS-2' || name === 'UCS-2BE' || (!name && coding === '2')) return decodeUcs2(bytes);
  if (name === 'WINDOWS-1252' || name === 'CP1252') return [...bytes.toString('latin1')].map((ch) => CP1252_80_9F[ch.charCodeAt(0) - 0x80] ?? ch).join('');
  if (name === 'ISO-8859-1' || name === 'LATIN1') return bytes.toString('latin1');
  // Kannel 1.4 hands 7-bit (GSM) texts over already converted to UTF-8; binary (coding 1) has no charset to honour.
  return bytes.toString('utf8');
}

/** Kannel passes numbers as the SMSC gave them: `+521…`, `521…` or `00521…`. */
function toNumber(raw: string): string {
  return toE164(raw.trim().replace(/^00(?=[1-9])/, '+'));
}

function readKannelWebhook(settings: SmsSettings, request: SmsWebhookRequest): SmsWebhookResult {
  const expected = settings.kannel?.webhookToken;
  if (!expected) throw new SmsWebhookRejected(401, 'this inbox has no Kannel webhookToken set: callbacks cannot be authenticated');
  const query = rawQuery(request.url);
  const field = (name: string) => query.get(name)?.toString('utf8');
  const token = field('token');
  if (!token) throw new SmsWebhookRejected(401, 'token parameter missing from the Kannel callback URL');
  if (!sameSecret(token, expected)) throw new SmsWebhookRejected(401, 'token does not match the inbox webhookToken');
  const required = (name: string, what: string) => {
    const value = field(name);
    if (!value) throw new SmsWebhookRejected(400, `${name} parameter missing (${what})`);
    return value;
  };
  // Parley answers with an empty text/plain body: with `max-messages = 0` (or omit-empty) smsbox sends no reply SMS.
  const response = { contentType: 'text/plain; charset=utf-8', body: '' };
  const kind = field('kind');
  if (kind === 'mo') {
    const id = required('id', "Kannel's message id, %I");
    const from = required('from', 'the sender, %p');
    const to = required('to', 'the receiver, %P');
    const text = query.get('text');
    if (text === undefined) throw new SmsWebhookRejected(400, 'text parameter missing (the message, %b)');
    const coding = field('coding') ?? '';
    const charset = field('charset') ?? '';
    if (coding && !['0', '1', '2'].includes(coding)) throw new SmsWebhookRejected(400, `coding must be 0, 1 or 2 (%c), got ${coding}`);
    const ts = field('ts');
    return {
      inbound: [
        {
          providerId: id,
          from: toNumber(from),
          to: toNumber(to),
          text: decodeKannelText(text, coding, charset),
          media: [],
          details: { provider: 'kannel', kannelId: id, coding: coding || null, charset: charset || null, sentAt: ts && /^\d+$/.test(ts) ? new Date(Number(ts) * 1000).toISOString() : (ts ?? null) },
        },
      ],
      reports: [],
      response,
    };
  }
  if (kind === 'dlr') {
    const ref = required('ref', "Parley's message reference");
    const code = required('status', 'the DLR value, %d');
    if (!/^\d+$/.test(code)) throw new SmsWebhookRejected(400, `status must be Kannel's numeric DLR value (%d), got ${code}`);
    const status = kannel.mapStatus(code);
    const answer = field('answer')?.trim() || null;
    // An unknown DLR bit (a newer Kannel's intermediate report) is acknowledged and ignored.
    return { inbound: [], reports: status ? [{ providerId: ref, status, reason: status === 'failed' ? `Kannel DLR ${code}${answer ? `: ${answer}` : ''}` : null }] : [], response };
  }
  throw new SmsWebhookRejected(400, kind ? `kind must be mo or dlr, got ${kind}` : 'kind parameter missing (mo for get-url, dlr for dlr-url)');
}

/** The dlr-url of one send: this inbox's webhook with the token, Parley's reference, and Kannel's escapes for the report. */
export function kannelDlrUrl(callbackUrl: string, webhookToken: string, reference: string): string {
  const params = `token=${encodeURIComponent(webhookToken)}&kind=dlr&ref=${encodeURIComponent(reference)}`;
  // %d, %A, %T are Kannel's escapes, filled in when the report comes back: they must stay unencoded here.
  return `${callbackUrl}${callbackUrl.includes('?') ? '&' : '?'}${params}&status=%d&answer=%A&ts=%T`;
}

async function sendThroughKannel(settings: SmsSettings, message: SmsSend, privateTargets: PrivateTargets): Promise<SendResult> {
  const k = settings.kannel;
  if (!k) return { ok: false, retryable: false, error: 'the inbox has no Kannel settings' };
  if (!k.password) return { ok: false, retryable: false, error: 'Kannel password not set on the inbox' };
  const params = new URLSearchParams({ username: k.username, password: k.password, from: message.from, to: message.to, text: message.text, charset: 'UTF-8' });
  // GSM-7 texts travel as 7-bit; anything else (á, í, ó, ú, emoji …) as UCS-2, or the SMSC would drop the characters.
  params.set('coding', encodeGsm7(message.text) === null ? '2' : '0');
  if (k.smsc) params.set('smsc', k.smsc);
  if (message.callbackUrl && k.webhookToken) {
    params.set('dlr-mask', String(DLR_MASK));
    params.set('dlr-url', kannelDlrUrl(message.callbackUrl, k.webhookToken, message.reference));
  }
  const url = `${k.sendUrl}${k.sendUrl.includes('?') ? '&' : '?'}${params}`;
  const answer = await providerRequest(url, { method: 'GET' }, privateTargets);
  if (isFailure(answer)) return answer;
  // smsbox: 202 "0: Accepted for delivery" or "3: Queued for later delivery"; 4xx/5xx with its reason as text.
  if (answer.status >= 200 && answer.status < 300) return { ok: true, providerId: message.reference };
  return refusal('Kannel', answer, null);
}

export const kannel: SmsProvider = {
  name: 'kannel',
  readWebhook: readKannelWebhook,
  send: sendThroughKannel,
  mapStatus: (providerStatus) => DLR_STATUS[providerStatus.trim()] ?? null,
};
