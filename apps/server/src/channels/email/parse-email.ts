import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type HeaderValue, type ParsedMail } from 'mailparser';
import type { InboundAttachment, InboundMessage } from '../channel.ts';
import { sanitizeEmailHtml } from './sanitize-email-html.ts';
import type { SenderAuthentication } from './verify-sender.ts';

export interface ParseLimits {
  /** Larger messages are not parsed at all: they are kept raw. */
  maxBytes: number;
  /** Parsing that takes longer is abandoned and the message kept raw. */
  timeoutMs: number;
  /** Larger HTML bodies are not sanitized for display; the raw message stays available. */
  maxHtmlBytes: number;
  /** At most this many attachments are taken out of one message. */
  maxAttachments: number;
}

export const defaultParseLimits: ParseLimits = { maxBytes: 25 * 1024 * 1024, timeoutMs: 15_000, maxHtmlBytes: 2 * 1024 * 1024, maxAttachments: 50 };

/** The raw message kept as an attachment when it could not be parsed (or not wholly). */
export const RAW_FILENAME = 'original.eml';

/**
 * Raw MIME → Parley's normalized inbound message. Never throws for bad content: a message too
 * large, too slow or too broken to parse becomes a message carrying its raw bytes as an
 * attachment (`original.eml`) and a note of what went wrong, so nothing is lost.
 */
export async function parseEmail(raw: Buffer, limits: ParseLimits = defaultParseLimits): Promise<InboundMessage> {
  if (raw.length > limits.maxBytes) return unparsed(raw, `message of ${raw.length} bytes is over the ${limits.maxBytes}-byte parse limit`);
  let mail: ParsedMail;
  try {
    mail = await withTimeout(
      simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: limits.maxHtmlBytes }),
      limits.timeoutMs,
    );
  } catch (err) {
    return unparsed(raw, `unparseable: ${err instanceof Error ? err.message : String(err)}`);
  }
  return normalize(raw, mail, limits);
}

function normalize(raw: Buffer, mail: ParsedMail, limits: ParseLimits): InboundMessage {
  const details: Record<string, unknown> = {};
  const from = firstAddress(mail.from);
  const externalId = bareId(mail.messageId);
  const inReplyTo = idList(mail.inReplyTo);
  const references = idList(mail.references);
  const contentType = headerValue(mail.headers.get('content-type'));
  const reportType = headerParam(mail.headers.get('content-type'), 'report-type');
  const bounce = (contentType === 'multipart/report' && reportType === 'delivery-status') || /^mailer-daemon@/i.test(from?.address ?? '');
  const autoReply = !bounce && isAutoReply(mail);

  let html: string | null = null;
  const htmlSource = typeof mail.html === 'string' ? mail.html : null;
  if (htmlSource !== null) {
    if (Buffer.byteLength(htmlSource) > limits.maxHtmlBytes) details.htmlOmitted = `HTML body over ${limits.maxHtmlBytes} bytes`;
    else html = sanitizeEmailHtml(htmlSource);
  }

  const attachments: InboundAttachment[] = [];
  for (const a of mail.attachments.slice(0, limits.maxAttachments)) {
    attachments.push({
      filename: a.filename ?? defaultName(a.contentType),
      contentType: (a.contentType || 'application/octet-stream').toLowerCase(),
      content: a.content,
      ...(a.cid ? { contentId: a.cid } : {}),
    });
  }
  if (mail.attachments.length > limits.maxAttachments) details.attachmentsOmitted = mail.attachments.length - limits.maxAttachments;

  // A bounce names the message it returns in its attached headers: thread it there.
  const threadKeys = [...inReplyTo, ...references.reverse()];
  if (bounce) {
    for (const a of mail.attachments) {
      if (!/^(message\/rfc822|text\/rfc822-headers|message\/rfc822-headers)$/i.test(a.contentType)) continue;
      const m = /^message-id:\s*<([^>\s]+)>/im.exec(a.content.subarray(0, 64 * 1024).toString('latin1'));
      if (m?.[1]) threadKeys.unshift(m[1]);
    }
  }

  let text = mail.text ?? '';
  if (!text.trim() && html) text = htmlToPlain(html);
  // A body the parser could make nothing of (binary junk, a broken structure) stays as the raw message.
  if (details.htmlOmitted || (!text.trim() && !html && attachments.length === 0 && !mail.subject && raw.length > 0)) attachments.push(rawAttachment(raw));

  return {
    sourceId: externalId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`,
    externalId,
    from: { handle: (from?.address ?? 'unknown@invalid').toLowerCase(), name: from?.name || null },
    to: firstAddress(mail.to)?.address ?? null,
    threadKeys: [...new Set(threadKeys)],
    subject: mail.subject ?? null,
    text,
    html,
    attachments,
    autoReply,
    bounce,
    details,
  };
}

/** RFC 3834 Auto-Submitted, and the older conventions still sent by vacation responders and lists. */
function isAutoReply(mail: ParsedMail): boolean {
  const submitted = headerValue(mail.headers.get('auto-submitted'))?.toLowerCase();
  if (submitted && submitted !== 'no') return true;
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond')) return true;
  const precedence = headerValue(mail.headers.get('precedence'))?.toLowerCase();
  return precedence === 'auto_reply' || precedence === 'bulk' || precedence === 'junk' || precedence === 'list';
}

/**
 * The spf/dkim/dmarc results that a trusted server, named by its authserv-id (the mailbox
 * provider's, e.g. `mx.google.com`), wrote in an Authentication-Results header (RFC 8601).
 * Only that server's topmost header counts: it adds its own last, on top; any other is the
 * sender's word, and anyone can write `dkim=pass`.
 */
export function trustedAuthenticationResults(raw: Buffer, authServId: string): SenderAuthentication | null {
  const end = raw.subarray(0, 256 * 1024).toString('latin1').search(/\r?\n\r?\n/);
  const head = raw.subarray(0, end < 0 ? 256 * 1024 : end).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  for (const line of head.split(/\r?\n/)) {
    const m = /^authentication-results:[ \t]*([^;\s]+)[^;]*;(.*)$/i.exec(line);
    if (!m || m[1]!.toLowerCase() !== authServId.toLowerCase()) continue;
    const out: SenderAuthentication = {};
    for (const r of m[2]!.matchAll(/\b(spf|dkim|dmarc)=([a-z]+)/gi)) {
      const [method, result] = [r[1]!.toLowerCase(), r[2]!.toLowerCase()];
      // Of several signatures, one that passes is what counts.
      if (!out[method] || result === 'pass') out[method] = result;
    }
    return { spf: 'none', dkim: 'none', dmarc: 'none', ...out, checkedBy: m[1]! };
  }
  return null;
}

function unparsed(raw: Buffer, why: string): InboundMessage {
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? null;
  const externalId = bareId(header('message-id') ?? undefined);
  const from = /[^\s<>"]+@[^\s<>"]+/.exec(header('from') ?? '')?.[0] ?? 'unknown@invalid';
  return {
    sourceId: externalId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`,
    externalId,
    from: { handle: from.toLowerCase(), name: null },
    to: null,
    threadKeys: idList(header('in-reply-to') ?? undefined),
    subject: header('subject'),
    text: `(This email could not be shown: ${why}. The original message is attached.)`,
    html: null,
    attachments: [rawAttachment(raw)],
    autoReply: false,
    bounce: false,
    details: { parseError: why },
  };
}

export function rawAttachment(raw: Buffer): InboundAttachment {
  return { filename: RAW_FILENAME, contentType: 'message/rfc822', content: raw };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parsing took over ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

function firstAddress(a: AddressObject | AddressObject[] | undefined): { address: string; name: string } | null {
  const list = Array.isArray(a) ? a : a ? [a] : [];
  for (const obj of list) for (const v of obj.value) if (v.address) return { address: v.address, name: v.name };
  return null;
}

function bareId(id: string | undefined): string | null {
  const m = /<?([^<>\s]+)>?/.exec(id ?? '');
  return m?.[1] ? m[1].slice(0, 500) : null;
}

function idList(v: string | string[] | undefined): string[] {
  const s = Array.isArray(v) ? v.join(' ') : (v ?? '');
  return [...s.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!).slice(-50);
}

function headerValue(v: HeaderValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && 'value' in v && typeof v.value === 'string') return v.value;
  return String(v);
}

function headerParam(v: HeaderValue | undefined, name: string): string | undefined {
  if (v && typeof v === 'object' && 'params' in v) return (v.params as Record<string, string>)[name]?.toLowerCase();
  return undefined;
}

function defaultName(contentType: string): string {
  if (/rfc822/i.test(contentType)) return 'message.eml';
  const sub = contentType.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'bin';
  return `attachment.${sub}`;
}

/** Text of sanitized HTML for the message content (the HTML itself is kept beside it). */
function htmlToPlain(html: string): string {
  return html
    .replace(/<(br|\/p|\/div|\/tr|\/h\d|\/li)[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
