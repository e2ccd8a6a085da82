import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kannel, kannelDlrUrl } from './providers/kannel.ts';
import type { SmsWebhookRequest } from './provider.ts';
import type { SmsSettings } from './settings.ts';
import { freePort, skipWithoutKannel, startKannel, type KannelPeer } from './testing/kannel.ts';

// The Kannel provider on its own: how it reads smsbox's get-url and dlr-url callbacks (the
// query strings below are byte-for-byte what Kannel 1.4.5 sends, captured from Debian's
// smsbox), and how it sends through a real smsbox (Debian `kannel`) to fakesmsc.

const TOKEN = 'k+tok/en=1';
const settings: SmsSettings = {
  number: '+5215533334444',
  provider: 'kannel',
  kannel: { sendUrl: 'http://127.0.0.1:1/cgi-bin/sendsms', username: 'parley', password: 'pw', webhookToken: TOKEN },
};
const token = encodeURIComponent(TOKEN);

function callback(query: string, s: SmsSettings = settings) {
  const request: SmsWebhookRequest = { url: `https://parley.example/api/v1/channels/sms/inb_1/webhook?${query}`, method: 'GET', headers: {}, query: {}, rawBody: Buffer.alloc(0) };
  return kannel.readWebhook!(s, request);
}

/** The callback is refused with this status and reason (SmsWebhookRejected). */
const refused = (statusCode: number, message: string) => expect.objectContaining({ statusCode, message });

describe('Kannel callbacks (get-url, dlr-url)', () => {
  it('reads a 7-bit MO as UTF-8, keeping double spaces (%b, not %a)', () => {
    const result = callback(
      `token=${token}&kind=mo&id=0d222671-eb88-40c8-ab5c-26061c7e7ba7&from=%2B5215511112222&to=%2B5215533334444&text=Hola++se%C3%B1or%2C+%C2%BFc%C3%B3mo+est%C3%A1%3F&coding=0&charset=UTF-8&ts=1795355862`,
    );
    expect(result.reports).toEqual([]);
    expect(result.inbound).toHaveLength(1);
    expect(result.inbound[0]).toMatchObject({ providerId: '0d222671-eb88-40c8-ab5c-26061c7e7ba7', from: '+5215511112222', to: '+5215533334444', text: 'Hola  señor, ¿cómo está?', media: [] });
    expect(result.inbound[0]!.details).toMatchObject({ provider: 'kannel', coding: '0', charset: 'UTF-8', sentAt: '2026-11-22T13:57:42.000Z' });
    expect(result.response).toEqual({ contentType: 'text/plain; charset=utf-8', body: '' });
  });

  it('decodes a UCS-2 MO (UTF-16BE bytes, emoji as a surrogate pair) intact', () => {
    const result = callback(
      `token=${token}&kind=mo&id=781321d6-44d2-4584-b6e6-ba3aa1a2b822&from=%2B5511999990000&to=%2B5215533334444&text=%00O%00l%00%E1%00+%00a%00%E7%00%E3%00o%00+%D8%3D%DE%00&coding=2&charset=UTF-16BE&ts=1795355863`,
    );
    expect(result.inbound[0]!.text).toBe('Olá ação 😀');
  });

  it('decodes WINDOWS-1252 (what mo-recode produces) and numbers with 00 or no plus as E.164', () => {
    const result = callback(`token=${token}&kind=mo&id=x1&from=005215511112222&to=5215533334444&text=Ol%E1+a%E7%E3o+%80&coding=0&charset=WINDOWS-1252`);
    expect(result.inbound[0]).toMatchObject({ from: '+5215511112222', to: '+5215533334444', text: 'Olá ação €' });
  });

  it('maps DLR values 1/2/4/8/16 to delivered/failed/sent/sent/failed, with the SMSC answer as the reason of a failure', () => {
    const dlr = (status: number, answer = '') => callback(`token=${token}&kind=dlr&ref=msg_123&status=${status}&answer=${answer}&ts=1795355879`).reports;
    expect(dlr(1)).toEqual([{ providerId: 'msg_123', status: 'delivered', reason: null }]);
    expect(dlr(8, 'ACK%2F')).toEqual([{ providerId: 'msg_123', status: 'sent', reason: null }]);
    expect(dlr(4)).toEqual([{ providerId: 'msg_123', status: 'sent', reason: null }]);
    expect(dlr(2, 'NACK%2F0x0000000b%2FInvalid+Destination')).toEqual([{ providerId: 'msg_123', status: 'failed', reason: 'Kannel DLR 2: NACK/0x0000000b/Invalid Destination' }]);
    expect(dlr(16)).toEqual([{ providerId: 'msg_123', status: 'failed', reason: 'Kannel DLR 16' }]);
    expect(dlr(32)).toEqual([]);
    expect(callback(`token=${token}&kind=dlr&ref=msg_123&status=8`).inbound).toEqual([]);
  });

  it('refuses a missing or wrong token with 401, and an inbox without a token at all', () => {
    expect(() => callback('kind=mo&id=1&from=1&to=2&text=x')).toThrow(refused(401, 'token parameter missing from the Kannel callback URL'));
    expect(() => callback('token=k%2Btok%2Fen%3D2&kind=mo&id=1&from=1&to=2&text=x')).toThrow(refused(401, 'token does not match the inbox webhookToken'));
    expect(() => callback('token=k%2Btok&kind=mo&id=1&from=1&to=2&text=x')).toThrow(refused(401, 'token does not match the inbox webhookToken'));
    const noToken: SmsSettings = { ...settings, kannel: { ...settings.kannel!, webhookToken: undefined } };
    expect(() => callback(`token=${token}&kind=mo&id=1&from=1&to=2&text=x`, noToken)).toThrow(refused(401, 'this inbox has no Kannel webhookToken set: callbacks cannot be authenticated'));
  });

  it('refuses malformed callbacks with 400 naming the missing or bad parameter', () => {
    const cases: [string, string][] = [
      [`token=${token}&id=1&from=1&to=2&text=x`, 'kind parameter missing (mo for get-url, dlr for dlr-url)'],
      [`token=${token}&kind=sms&id=1`, 'kind must be mo or dlr, got sms'],
      [`token=${token}&kind=mo&from=1&to=2&text=x`, "id parameter missing (Kannel's message id, %I)"],
      [`token=${token}&kind=mo&id=1&to=2&text=x`, 'from parameter missing (the sender, %p)'],
      [`token=${token}&kind=mo&id=1&from=1&text=x`, 'to parameter missing (the receiver, %P)'],
      [`token=${token}&kind=mo&id=1&from=1&to=2`, 'text parameter missing (the message, %b)'],
      [`token=${token}&kind=mo&id=1&from=1&to=2&text=x&coding=7`, 'coding must be 0, 1 or 2 (%c), got 7'],
      [`token=${token}&kind=dlr&status=1`, "ref parameter missing (Parley's message reference)"],
      [`token=${token}&kind=dlr&ref=m1`, 'status parameter missing (the DLR value, %d)'],
      [`token=${token}&kind=dlr&ref=m1&status=%25d`, "status must be Kannel's numeric DLR value (%d), got %d"],
    ];
    for (const [query, message] of cases) expect(() => callback(query)).toThrow(refused(400, message));
  });

  it('builds a dlr-url that keeps Kannel escapes literal and the token and reference encoded', () => {
    expect(kannelDlrUrl('https://p.example/api/v1/channels/sms/inb_1/webhook', 'a+b&c', 'msg_1')).toBe(
      'https://p.example/api/v1/channels/sms/inb_1/webhook?token=a%2Bb%26c&kind=dlr&ref=msg_1&status=%d&answer=%A&ts=%T',
    );
  });

  it('maps statuses it does not know to null', () => {
    expect(kannel.mapStatus('8')).toBe('sent');
    expect(kannel.mapStatus('64')).toBeNull();
  });
});

describe.skipIf(skipWithoutKannel('Kannel send tests'))('Kannel sendsms against a real smsbox', () => {
  let peer: KannelPeer;
  let dlrReceiver: Server;
  let dlrBase: string;
  const callbacks: string[] = [];

  beforeAll(async () => {
    dlrReceiver = createServer((req, res) => {
      callbacks.push(req.url!);
      res.writeHead(200, { 'content-type': 'text/plain' }).end();
    });
    await new Promise<void>((resolve) => dlrReceiver.listen(0, '127.0.0.1', resolve));
    dlrBase = `http://127.0.0.1:${(dlrReceiver.address() as AddressInfo).port}/api/v1/channels/sms/inb_1/webhook`;
    peer = await startKannel({ getUrl: `${dlrBase}?token=${token}&kind=mo&id=%I&from=%p&to=%P&text=%b&coding=%c&charset=%C&ts=%T` });
  }, 40_000);

  afterAll(async () => {
    await peer?.stop();
    await new Promise((resolve) => dlrReceiver?.close(resolve));
  });

  const live = (): SmsSettings => ({ ...settings, kannel: { ...settings.kannel!, sendUrl: peer.sendUrl, username: peer.username, password: peer.password } });

  it('sends a Unicode text as UCS-2 that reaches the handset intact, and Kannel reports it by the dlr-url with Parley reference', async () => {
    const text = 'Hola, José: ¿qué tal? Tu pedido ya salió 📦 — obrigado, ação!';
    const result = await kannel.send(live(), { reference: 'msg_unicode', from: '+5215533334444', to: '+5215511112222', text, callbackUrl: dlrBase }, true);
    expect(result).toEqual({ ok: true, providerId: 'msg_unicode' });
    const got = await peer.waitForHandset((m) => m.to === '+5215511112222');
    expect(got).toEqual({ from: '+5215533334444', to: '+5215511112222', text });
    // fakesmsc's SMSC reports "accepted by the SMSC" (8) and "delivered" (1) for every text it hands over.
    await expect.poll(() => callbacks.filter((u) => u.includes('ref=msg_unicode')).length, { timeout: 10_000 }).toBe(2);
    const reports = callbacks.filter((u) => u.includes('ref=msg_unicode')).flatMap((u) => callback(u.slice(u.indexOf('?') + 1)).reports);
    expect(reports.map((r) => r.status).sort()).toEqual(['delivered', 'sent']);
  });

  it('sends a GSM-7 text as 7-bit', async () => {
    const result = await kannel.send(live(), { reference: 'msg_gsm', from: '+5215533334444', to: '+5215500000001', text: 'Your order #12 ships today: 3€ [ok]', callbackUrl: dlrBase }, true);
    expect(result.ok).toBe(true);
    expect(await peer.waitForHandset((m) => m.to === '+5215500000001')).toMatchObject({ text: 'Your order #12 ships today: 3€ [ok]' });
  });

  it("gives a definitive failure with Kannel's words for a wrong password, and a retryable one when smsbox is unreachable", async () => {
    const wrong = await kannel.send({ ...live(), kannel: { ...live().kannel!, password: 'nope' } }, { reference: 'msg_x', from: '+5215533334444', to: '+5215500000002', text: 'x' }, true);
    expect(wrong).toEqual({ ok: false, retryable: false, error: 'Kannel HTTP 403: Authorization failed for sendsms' });
    const closedPort = await freePort();
    const down = await kannel.send({ ...live(), kannel: { ...live().kannel!, sendUrl: `http://127.0.0.1:${closedPort}/cgi-bin/sendsms` } }, { reference: 'msg_y', from: '+5215533334444', to: '+5215500000002', text: 'x' }, true);
    expect(down).toMatchObject({ ok: false, retryable: true });
    expect((down as { error: string }).error).toBe(`127.0.0.1:${closedPort} unreachable: ECONNREFUSED`);
  });
});
