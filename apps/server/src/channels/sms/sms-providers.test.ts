import { describe, expect, it } from 'vitest';
import { twilio, twilioSignature } from './providers/twilio.ts';
import { sinch } from './providers/sinch.ts';
import { vonage, vonageSignature } from './providers/vonage.ts';
import { SmsWebhookRejected, type SmsWebhookRequest } from './provider.ts';
import type { SmsSettings } from './settings.ts';
import { signLikeTwilio, signLikeVonage } from './testing/fake-sms-provider.ts';

// Each provider's callback reading on its own: the signature schemes against the providers'
// published examples, and the shapes of their inbound messages and delivery reports.

const post = (url: string, body: string | object, headers: Record<string, string> = {}): SmsWebhookRequest => ({
  url,
  method: 'POST',
  headers: { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
  query: {},
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

function rejection(run: () => unknown): { status: number; message: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof SmsWebhookRejected) return { status: err.statusCode, message: err.message };
    throw err;
  }
  throw new Error('not rejected');
}

describe('Twilio', () => {
  const settings: SmsSettings = { number: '+15005550006', provider: 'twilio', twilio: { accountSid: 'AC123', authToken: '12345' } };
  const url = 'https://parley.example.test/api/v1/channels/sms/wc_x/webhook';

  it('computes X-Twilio-Signature as in Twilio\'s published example', () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
    const form = new Map(Object.entries(params).map(([k, v]) => [k, [v]]));
    expect(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', form)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(signLikeTwilio('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('reads an MMS with its media and a status callback with its error code', () => {
    const fields = { MessageSid: 'SM1', AccountSid: 'AC123', From: '+5215512345678', To: '+15005550006', Body: 'foto', NumMedia: '1', MediaUrl0: 'https://api.twilio.com/m/1', MediaContentType0: 'image/jpeg' };
    const inbound = twilio.readWebhook!(settings, post(url, new URLSearchParams(fields).toString(), { 'x-twilio-signature': signLikeTwilio('12345', url, fields) }));
    expect(inbound.inbound).toEqual([{ providerId: 'SM1', from: '+5215512345678', to: '+15005550006', text: 'foto', media: [{ url: 'https://api.twilio.com/m/1', contentType: 'image/jpeg' }], details: { provider: 'twilio' } }]);
    expect(inbound.response).toEqual({ contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response/>' });
    const status = { MessageSid: 'SM2', AccountSid: 'AC123', MessageStatus: 'undelivered', ErrorCode: '30003' };
    const report = twilio.readWebhook!(settings, post(url, new URLSearchParams(status).toString(), { 'x-twilio-signature': signLikeTwilio('12345', url, status) }));
    expect(report.reports).toEqual([{ providerId: 'SM2', status: 'failed', reason: 'Twilio undelivered (error 30003)' }]);
  });

  it('refuses a signature over another URL or body, and a callback of another account', () => {
    const fields = { MessageSid: 'SM1', From: '+5215512345678', To: '+15005550006', Body: 'hola' };
    const body = new URLSearchParams(fields).toString();
    expect(rejection(() => twilio.readWebhook!(settings, post(url, body, { 'x-twilio-signature': signLikeTwilio('12345', `${url}?x=1`, fields) })))).toMatchObject({ status: 401 });
    expect(rejection(() => twilio.readWebhook!(settings, post(url, body.replace('hola', 'hacked'), { 'x-twilio-signature': signLikeTwilio('12345', url, fields) })))).toMatchObject({ status: 401 });
    const other = { ...fields, AccountSid: 'AC999' };
    expect(rejection(() => twilio.readWebhook!(settings, post(url, new URLSearchParams(other).toString(), { 'x-twilio-signature': signLikeTwilio('12345', url, other) })))).toEqual({
      status: 403,
      message: "the callback is for Twilio account AC999, not this inbox's",
    });
  });
});

describe('Sinch', () => {
  const settings: SmsSettings = { number: '+15005550006', provider: 'sinch', sinch: { servicePlanId: 'plan1', apiToken: 'tok', callbackSecret: 'cb-secret' } };
  const auth = { authorization: 'Bearer cb-secret' };

  it('reads mo_text, per-recipient and batch delivery reports', () => {
    const mo = sinch.readWebhook!(settings, post('u', { type: 'mo_text', id: '01FC66621VHDBN119Z8PMV1QPQ', from: '5215512345678', to: '15005550006', body: 'Hola', received_at: '2026-11-22T10:00:00.000Z', operator_id: '33410' }, auth));
    expect(mo.inbound[0]).toMatchObject({ providerId: '01FC66621VHDBN119Z8PMV1QPQ', from: '+5215512345678', to: '+15005550006', text: 'Hola' });
    const one = sinch.readWebhook!(settings, post('u', { type: 'recipient_delivery_report_sms', batch_id: 'B1', recipient: '5215512345678', code: 401, status: 'Dispatched', at: '2026-11-22T10:00:01Z' }, auth));
    expect(one.reports).toEqual([{ providerId: 'B1', status: 'sent', reason: null }]);
    const batch = sinch.readWebhook!(settings, post('u', { type: 'delivery_report_sms', batch_id: 'B2', total_message_count: 1, statuses: [{ code: 402, status: 'Failed', count: 1, recipients: ['5215512345678'] }] }, auth));
    expect(batch.reports).toEqual([{ providerId: 'B2', status: 'failed', reason: 'Sinch failed (code 402)' }]);
  });

  it('refuses a wrong or missing token and a body that is not a callback', () => {
    const mo = { type: 'mo_text', id: 'x', from: '1', to: '2', body: 'b' };
    expect(rejection(() => sinch.readWebhook!(settings, post('u', mo)))).toMatchObject({ status: 401, message: 'missing Authorization header (Bearer <callback secret>)' });
    expect(rejection(() => sinch.readWebhook!(settings, post('u', mo, { authorization: 'Bearer cb-secreT' })))).toMatchObject({ status: 401, message: 'wrong Sinch callback token' });
    expect(rejection(() => sinch.readWebhook!(settings, post('u', '{"type":', auth)))).toMatchObject({ status: 400, message: 'the body is not valid JSON' });
    expect(rejection(() => sinch.readWebhook!(settings, post('u', { type: 'mo_text', from: '1' }, auth)))).toMatchObject({ status: 400, message: 'mo_text without id, from or to' });
    expect(rejection(() => sinch.readWebhook!(settings, post('u', { type: 'mt_text' }, auth)))).toMatchObject({ status: 400, message: 'unsupported Sinch callback type "mt_text"' });
  });
});

describe('Vonage', () => {
  it('computes md5hash signatures as Vonage\'s published example, and the HMAC methods', () => {
    expect(vonageSignature({ a: '1', b: '2', timestamp: '1461605396' }, 'secret', 'md5hash')).toBe('6af838ef94998832dbfc29020b564830');
    const params = { msisdn: '5215512345678', to: '15005550006', messageId: 'm1', text: 'a=b&c', timestamp: '1700000000' };
    for (const method of ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const) {
      expect(vonageSignature(params, 's3cret', method).toLowerCase()).toBe(signLikeVonage(params, 's3cret', method).toLowerCase());
    }
  });

  it('reads inbound by GET query and by POST JSON, and delivery receipts', () => {
    const settings: SmsSettings = { number: '+15005550006', provider: 'vonage', vonage: { apiKey: 'key1', apiSecret: 'sec' } };
    const query = { msisdn: '5215512345678', to: '15005550006', messageId: '0A0000000123ABCD1', text: 'Hola', type: 'text', keyword: 'HOLA', 'api-key': 'key1', 'message-timestamp': '2026-11-22 10:00:00' };
    const viaGet = vonage.readWebhook!(settings, { url: 'u', method: 'GET', headers: {}, query, rawBody: Buffer.alloc(0) });
    expect(viaGet.inbound[0]).toMatchObject({ providerId: '0A0000000123ABCD1', from: '+5215512345678', to: '+15005550006', text: 'Hola' });
    const viaJson = vonage.readWebhook!(settings, post('u', query));
    expect(viaJson.inbound[0]).toEqual(viaGet.inbound[0]);
    const dlr = vonage.readWebhook!(settings, post('u', new URLSearchParams({ msisdn: '5215512345678', to: '15005550006', messageId: 'X1', status: 'rejected', 'err-code': '6', 'network-code': '33410', scts: '2611221000' }).toString()));
    expect(dlr.reports).toEqual([{ providerId: 'X1', status: 'failed', reason: 'Vonage rejected (err-code 6)' }]);
    expect(rejection(() => vonage.readWebhook!(settings, post('u', { ...query, 'api-key': 'other' })))).toMatchObject({ status: 403 });
  });

  it('with a signature secret: refuses unsigned, wrongly signed and stale webhooks', () => {
    const settings: SmsSettings = { number: '+15005550006', provider: 'vonage', vonage: { apiKey: 'key1', apiSecret: 'sec', signatureSecret: 'sig-secret', signatureMethod: 'sha256' } };
    const now = String(Math.floor(Date.now() / 1000));
    const fields = { msisdn: '5215512345678', to: '15005550006', messageId: 'S1', text: 'Hola', type: 'text', timestamp: now, nonce: 'n1' };
    const signed = { ...fields, sig: signLikeVonage(fields, 'sig-secret', 'sha256') };
    expect(vonage.readWebhook!(settings, post('u', signed)).inbound).toHaveLength(1);
    expect(rejection(() => vonage.readWebhook!(settings, post('u', fields)))).toEqual({ status: 401, message: 'missing sig: this inbox requires signed Vonage webhooks' });
    expect(rejection(() => vonage.readWebhook!(settings, post('u', { ...signed, text: 'changed' })))).toMatchObject({ status: 401, message: /^bad sig/ });
    const old = { ...fields, timestamp: String(Number(now) - 600) };
    expect(rejection(() => vonage.readWebhook!(settings, post('u', { ...old, sig: signLikeVonage(old, 'sig-secret', 'sha256') })))).toMatchObject({ status: 401, message: /more than 5 minutes/ });
  });
});
