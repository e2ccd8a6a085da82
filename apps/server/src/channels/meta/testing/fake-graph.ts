import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * A small stand-in for Meta's Graph API on loopback, speaking its documented request and
 * response shapes: WhatsApp Cloud API (`/{phone-number-id}/messages`, `/{phone-number-id}/media`,
 * `/{media-id}`), the Messenger/Instagram Send API (`/{page-id}/messages`, JSON or multipart),
 * `/{id}?fields=id`, Graph's error JSON. It checks the access token and the request bodies,
 * records every request, serves media, and can be told to fail the next requests.
 */
export interface FakeGraphAccount {
  id: string;
  kind: 'whatsapp' | 'page';
  accessToken: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | null;
  json: Record<string, unknown> | null;
  form: Record<string, string | { filename: string; type: string; bytes: Buffer }> | null;
}

export interface GraphFailure {
  status: number;
  code: number;
  message: string;
  subcode?: number;
}

/** Graph's answers to the failures tests ask for, with Meta's documented codes and wording. */
export const GRAPH_FAILURES = {
  serverError: { status: 500, code: 2, message: 'An unexpected error has occurred. Please retry your request later.' },
  rateLimited: { status: 400, code: 130429, message: 'Rate limit hit' },
  invalidRecipient: { status: 400, code: 131030, message: 'Recipient phone number not in allowed list' },
  outsideWindow: { status: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' },
} satisfies Record<string, GraphFailure>;

export interface FakeGraph {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Media the fake serves: by WhatsApp media id (`GET /{id}` → url) and at `/cdn/{name}` (Messenger attachment URLs). */
  addMedia(id: string, content: Buffer, contentType: string): { cdnUrl: string };
  /** The next matching Graph request(s) (`POST …/messages` unless told otherwise) answer with this failure. */
  failNext(failure: GraphFailure, times?: number, pathPart?: string, method?: 'GET' | 'POST'): void;
  sent(): RecordedRequest[];
  close(): Promise<void>;
}

const fbtrace = () => randomBytes(8).toString('base64url');
const graphError = (failure: GraphFailure) => ({
  error: { message: failure.message, type: 'OAuthException', code: failure.code, ...(failure.subcode ? { error_subcode: failure.subcode } : {}), fbtrace_id: fbtrace() },
});

class BadRequest extends Error {}

export async function startFakeGraph(accounts: FakeGraphAccount[]): Promise<FakeGraph> {
  const requests: RecordedRequest[] = [];
  const media = new Map<string, { content: Buffer; contentType: string }>();
  const uploaded = new Set<string>();
  const failures: { failure: GraphFailure; pathPart: string; method: string }[] = [];
  const tokens = new Set(accounts.map((a) => a.accessToken));
  let baseUrl = '';

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => send(res, err instanceof BadRequest ? 400 : 500, graphError({ status: 400, code: 100, message: `(#100) ${err.message}` })));
  });

  function send(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', baseUrl);
    const raw = await readBody(req);
    const type = req.headers['content-type'] ?? '';
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), authorization: req.headers.authorization ?? null, json: null, form: null };
    if (type.startsWith('application/json') && raw.length) record.json = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    if (type.startsWith('multipart/form-data')) {
      const form = await new Request(baseUrl, { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(raw) }).formData();
      record.form = {};
      for (const [k, v] of form.entries()) {
        record.form[k] = typeof v === 'string' ? v : { filename: v.name, type: v.type, bytes: Buffer.from(await v.arrayBuffer()) };
      }
    }
    requests.push(record);

    if (url.pathname.startsWith('/cdn/')) {
      // Messenger/Instagram attachment URLs: signed CDN links, no token.
      const item = media.get(url.pathname.slice('/cdn/'.length));
      if (!item) return send(res, 404, { error: 'not found' });
      res.writeHead(200, { 'content-type': item.contentType, 'content-length': item.content.length });
      return res.end(item.content);
    }
    const token = record.authorization?.replace(/^Bearer /, '') ?? record.query.access_token ?? null;
    if (!token || !tokens.has(token)) {
      return send(res, 401, graphError({ status: 401, code: 190, message: 'Invalid OAuth access token - Cannot parse access token' }));
    }
    if (url.pathname.startsWith('/media-download/')) {
      // WhatsApp media URLs: downloaded with the access token.
      const item = media.get(url.pathname.slice('/media-download/'.length));
      if (!item) return send(res, 404, graphError({ status: 404, code: 100, message: 'media not found' }));
      res.writeHead(200, { 'content-type': item.contentType, 'content-length': item.content.length });
      return res.end(item.content);
    }
    const parts = /^\/v\d+\.\d+\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!parts) return send(res, 400, graphError({ status: 400, code: 100, message: `Unknown path components: ${url.pathname}` }));
    const failureAt = failures.findIndex((f) => url.pathname.includes(f.pathPart) && req.method === f.method);
    if (failureAt >= 0) {
      const { failure } = failures.splice(failureAt, 1)[0]!;
      return send(res, failure.status, graphError(failure));
    }
    const [, id, edge] = parts as unknown as [string, string, string | undefined];
    const account = accounts.find((a) => a.id === id);
    if (account && account.accessToken !== token) return send(res, 400, graphError({ status: 400, code: 200, message: '(#200) Provide valid app ID' }));

    if (req.method === 'GET' && !edge) {
      if (account) return send(res, 200, { id });
      const item = media.get(id);
      if (item) return send(res, 200, { messaging_product: 'whatsapp', url: `${baseUrl}/media-download/${id}`, mime_type: item.contentType, file_size: item.content.length, id });
      return send(res, 400, graphError({ status: 400, code: 100, message: `Unsupported get request. Object with ID '${id}' does not exist` }));
    }
    if (req.method !== 'POST' || !account) return send(res, 400, graphError({ status: 400, code: 100, message: `Unsupported ${req.method} request. Object with ID '${id}' does not exist` }));
    if (account.kind === 'whatsapp' && edge === 'media') {
      const file = record.form?.file;
      if (record.form?.messaging_product !== 'whatsapp' || !file || typeof file === 'string') throw new BadRequest('Param file and messaging_product=whatsapp are required');
      const mediaId = String(Date.now()) + randomBytes(3).readUIntBE(0, 3);
      uploaded.add(mediaId);
      media.set(mediaId, { content: file.bytes, contentType: file.type });
      return send(res, 200, { id: mediaId });
    }
    if (edge !== 'messages') return send(res, 400, graphError({ status: 400, code: 100, message: `Unknown edge ${edge}` }));
    if (account.kind === 'whatsapp') {
      checkWhatsAppMessage(record.json, uploaded);
      const to = String(record.json!.to);
      return send(res, 200, { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to }], messages: [{ id: `wamid.${randomBytes(12).toString('base64url')}` }] });
    }
    const body = record.json ?? Object.fromEntries(Object.entries(record.form ?? {}).map(([k, v]) => [k, typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v]));
    checkSendApiMessage(body as Record<string, unknown>, record.form?.filedata);
    return send(res, 200, { recipient_id: (body.recipient as { id: string }).id, message_id: `m_${randomBytes(16).toString('base64url')}` });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    requests,
    addMedia(id, content, contentType) {
      media.set(id, { content, contentType });
      return { cdnUrl: `${baseUrl}/cdn/${id}` };
    },
    failNext(failure, times = 1, pathPart = '/messages', method = 'POST') {
      for (let i = 0; i < times; i += 1) failures.push({ failure, pathPart, method });
    },
    sent: () => requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages')),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The Cloud API's required fields per message type. */
function checkWhatsAppMessage(body: Record<string, unknown> | null, uploaded: Set<string>) {
  if (!body) throw new BadRequest('The request body is not JSON');
  if (body.messaging_product !== 'whatsapp') throw new BadRequest('The parameter messaging_product is required.');
  if (typeof body.to !== 'string' || !/^\+?\d{6,15}$/.test(body.to)) throw new BadRequest('Invalid parameter to');
  const type = body.type as string;
  const part = body[type] as Record<string, unknown> | undefined;
  if (!part) throw new BadRequest(`Parameter ${type} is required for type ${type}`);
  if (type === 'text' && (typeof part.body !== 'string' || !part.body)) throw new BadRequest('Parameter text.body is required');
  if (type === 'template') {
    const language = part.language as { code?: unknown } | undefined;
    if (typeof part.name !== 'string' || typeof language?.code !== 'string') throw new BadRequest('template.name and template.language.code are required');
    for (const c of (part.components as { type: string; parameters: { type: string; text: unknown }[] }[] | undefined) ?? []) {
      if (c.type !== 'body' || !c.parameters.every((p) => p.type === 'text' && typeof p.text === 'string')) throw new BadRequest('Invalid template component');
    }
  }
  if (['image', 'audio', 'video', 'document', 'sticker'].includes(type) && !uploaded.has(String(part.id)) && typeof part.link !== 'string') throw new BadRequest(`${type}.id is not an uploaded media id`);
  if (!['text', 'template', 'image', 'audio', 'video', 'document', 'sticker', 'reaction', 'location', 'interactive'].includes(type)) throw new BadRequest(`Unsupported message type ${type}`);
  const context = body.context as { message_id?: unknown } | undefined;
  if (context && typeof context.message_id !== 'string') throw new BadRequest('context.message_id must be a string');
}

/** The Send API's required fields: recipient, messaging_type (a tag with MESSAGE_TAG), message text or attachment. */
function checkSendApiMessage(body: Record<string, unknown>, file: unknown) {
  const recipient = body.recipient as { id?: unknown } | undefined;
  if (typeof recipient?.id !== 'string') throw new BadRequest('param recipient must be non-empty.');
  if (!['RESPONSE', 'UPDATE', 'MESSAGE_TAG'].includes(String(body.messaging_type))) throw new BadRequest('param messaging_type must be one of RESPONSE, UPDATE, MESSAGE_TAG');
  if (body.messaging_type === 'MESSAGE_TAG' && typeof body.tag !== 'string') throw new BadRequest('param tag is required with MESSAGE_TAG');
  const message = body.message as { text?: unknown; attachment?: { type?: unknown } } | undefined;
  const hasText = typeof message?.text === 'string' && message.text.length > 0;
  const hasFile = !!message?.attachment && !!file && typeof file !== 'string';
  if (!hasText && !hasFile) throw new BadRequest('param message must have text or an attachment');
}
