import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * A local stand-in for the REST APIs of Twilio, Sinch (XMS) and Vonage (SMS API): it checks
 * each provider's authentication and required fields, records what it received and answers
 * with the documented response shapes. Tests point an inbox's `baseUrl` at it. It can be told
 * to refuse the next requests (429, 500, a 400, a Vonage status code) and serves MMS media
 * behind Twilio's Basic auth.
 */
export interface FakeAccounts {
  twilio: { accountSid: string; authToken: string };
  sinch: { servicePlanId: string; apiToken: string };
  vonage: { apiKey: string; apiSecret: string };
}

export interface ReceivedSend {
  provider: 'twilio' | 'sinch' | 'vonage';
  /** Form fields (Twilio, Vonage) or the JSON body (Sinch). */
  fields: Record<string, unknown>;
  /** The id the fake answered with. */
  providerId: string;
}

/** What the next provider request is answered with instead of the normal answer. */
export type ForcedAnswer = { httpStatus: number; body?: unknown } | { vonageStatus: string; errorText: string };

export class FakeSmsProvider {
  readonly sends: ReceivedSend[] = [];
  /** Every request, refused or not, in order: `METHOD path`. */
  readonly requests: string[] = [];
  readonly media = new Map<string, { contentType: string; content: Buffer }>();
  private forced: ForcedAnswer[] = [];
  private server: Server | null = null;
  /** Runs before a Twilio send is answered: a carrier reporting delivery before the API has answered the send. */
  beforeTwilioAnswer: ((sid: string, fields: Record<string, string>) => Promise<void>) | null = null;
  baseUrl = '';

  constructor(readonly accounts: FakeAccounts) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => json(res, 500, { message: err.message }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next requests (sends, in order) get these answers. */
  failNext(...answers: ForcedAnswer[]): void {
    this.forced.push(...answers);
  }

  sendsTo(to: string): ReceivedSend[] {
    return this.sends.filter((s) => {
      const recipient = s.provider === 'sinch' ? (s.fields.to as string[])[0] : (s.fields.To ?? s.fields.to);
      return String(recipient).replace(/^\+/, '') === to.replace(/^\+/, '');
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const body = await readBody(req);
    this.requests.push(`${req.method} ${url.pathname}`);
    const { twilio, sinch, vonage } = this.accounts;

    const mediaMatch = /^\/media\/(.+)$/.exec(url.pathname);
    if (mediaMatch && req.method === 'GET') {
      if (req.headers.authorization !== basic(twilio.accountSid, twilio.authToken)) return json(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
      const file = this.media.get(mediaMatch[1]!);
      if (!file) return json(res, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.content.length }).end(file.content);
      return;
    }

    const twilioPath = /^\/2010-04-01\/Accounts\/([^/]+?)(\/Messages)?\.json$/.exec(url.pathname);
    if (twilioPath) {
      if (twilioPath[1] !== twilio.accountSid || req.headers.authorization !== basic(twilio.accountSid, twilio.authToken)) {
        return json(res, 401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
      }
      if (!twilioPath[2] && req.method === 'GET') return json(res, 200, { sid: twilio.accountSid, friendly_name: 'Fake account', status: 'active', type: 'Full' });
      if (req.method !== 'POST') return json(res, 405, { code: 20004, message: 'Method not allowed', status: 405 });
      if (this.answerForced(res)) return;
      const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
      if (!form.To) return json(res, 400, { code: 21604, message: "A 'To' phone number is required.", status: 400 });
      if (!form.From) return json(res, 400, { code: 21603, message: "A 'From' phone number is required.", status: 400 });
      if (!form.Body) return json(res, 400, { code: 21602, message: 'Message body is required.', status: 400 });
      const sid = `SM${randomBytes(16).toString('hex')}`;
      this.sends.push({ provider: 'twilio', fields: form, providerId: sid });
      if (this.beforeTwilioAnswer) await this.beforeTwilioAnswer(sid, form);
      return json(res, 201, { sid, account_sid: twilio.accountSid, to: form.To, from: form.From, body: form.Body, status: 'queued', num_segments: '1', direction: 'outbound-api', error_code: null, error_message: null });
    }

    const sinchPath = /^\/xms\/v1\/([^/]+)\/batches$/.exec(url.pathname);
    if (sinchPath) {
      if (sinchPath[1] !== sinch.servicePlanId || req.headers.authorization !== `Bearer ${sinch.apiToken}`) {
        return json(res, 401, { code: 'unauthorized', text: 'Invalid credentials' });
      }
      if (req.method === 'GET') return json(res, 200, { count: 0, page: 0, page_size: Number(url.searchParams.get('page_size') ?? 30), batches: [] });
      if (this.answerForced(res)) return;
      let batch: Record<string, unknown>;
      try {
        batch = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return json(res, 400, { code: 'syntax_invalid_json', text: 'The JSON input is invalid' });
      }
      if (!Array.isArray(batch.to) || batch.to.length === 0 || typeof batch.body !== 'string' || typeof batch.from !== 'string') {
        return json(res, 400, { code: 'syntax_constraint_violation', text: 'to, from and body are required' });
      }
      const id = `01${randomBytes(12).toString('hex').toUpperCase()}`;
      this.sends.push({ provider: 'sinch', fields: batch, providerId: id });
      return json(res, 201, { id, to: batch.to, from: batch.from, canceled: false, body: batch.body, type: 'mt_text', created_at: new Date().toISOString(), modified_at: new Date().toISOString(), delivery_report: batch.delivery_report ?? 'none' });
    }

    if (url.pathname === '/account/get-balance' && req.method === 'GET') {
      if (url.searchParams.get('api_key') !== vonage.apiKey || url.searchParams.get('api_secret') !== vonage.apiSecret) return json(res, 401, { 'error-code': '401', 'error-code-label': 'authentication failed' });
      return json(res, 200, { value: 10.28, autoReload: false });
    }
    if (url.pathname === '/sms/json' && req.method === 'POST') {
      const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
      const forced = this.forced.shift();
      if (forced && 'httpStatus' in forced) return json(res, forced.httpStatus, forced.body ?? {});
      if (forced) return json(res, 200, { 'message-count': '1', messages: [{ status: forced.vonageStatus, 'error-text': forced.errorText }] });
      if (form.api_key !== vonage.apiKey || form.api_secret !== vonage.apiSecret) return json(res, 200, { 'message-count': '1', messages: [{ status: '4', 'error-text': 'Bad Credentials' }] });
      for (const field of ['from', 'to', 'text']) if (!form[field]) return json(res, 200, { 'message-count': '1', messages: [{ status: '2', 'error-text': `Missing ${field} param` }] });
      const id = randomBytes(8).toString('hex').toUpperCase();
      this.sends.push({ provider: 'vonage', fields: form, providerId: id });
      return json(res, 200, { 'message-count': '1', messages: [{ to: form.to, 'message-id': id, status: '0', 'remaining-balance': '10.18', 'message-price': '0.10', network: '33410' }] });
    }
    return json(res, 404, { message: `no such fake route ${req.method} ${url.pathname}` });
  }

  private answerForced(res: ServerResponse): boolean {
    const forced = this.forced.shift();
    if (!forced) return false;
    if ('httpStatus' in forced) json(res, forced.httpStatus, forced.body ?? {});
    else json(res, 200, {});
    return true;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// Webhook signing as each provider does it, written apart from Parley's checking code so that a
// mistake in one is caught by the other (and both are held to the providers' published examples).

/** X-Twilio-Signature: base64 HMAC-SHA1 over the URL followed by each POST field's name and value, fields in name order. */
export function signLikeTwilio(authToken: string, url: string, fields: Record<string, string>): string {
  let data = url;
  for (const name of Object.keys(fields).sort()) data += name + fields[name];
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Vonage's `sig`: md5 of the `&k=v` string plus the secret (md5hash), or an upper-case hex HMAC of the string. */
export function signLikeVonage(fields: Record<string, string>, secret: string, method: 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512'): string {
  const names = Object.keys(fields).filter((n) => n !== 'sig').sort();
  const data = names.map((n) => `&${n}=${fields[n]!.split('&').join('_').split('=').join('_')}`).join('');
  if (method === 'md5hash') return createHash('md5').update(data + secret, 'utf8').digest('hex');
  return createHmac(method, secret).update(data, 'utf8').digest('hex').toUpperCase();
}
