import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { OutboundMessage, SendResult } from '../channel.ts';
import type { EmailSettings } from './settings.ts';
import { allowedAddress, TargetRefusedError, type PrivateTargets } from '../../net/private-targets.ts';
import { dkimSigningOf } from './dkim.ts';

/** The slice of nodemailer's transport Parley uses, so sending tests without a relay. */
export interface MailTransport {
  sendMail(mail: SendMailOptions): Promise<unknown>;
  /** Greets the relay, starts TLS and signs in, sending nothing (an admin's connection test). */
  verify(): Promise<unknown>;
  close(): void;
}

/** A transport to the relay at `address` (checked, see allowedAddress); `smtp.host` stays the name TLS verifies. */
export type TransportFactory = (smtp: NonNullable<EmailSettings['smtp']>, address: string) => MailTransport;

export const nodemailerTransport: TransportFactory = (smtp, address) =>
  nodemailer.createTransport({
    host: address,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.requireTls ?? false,
    tls: { rejectUnauthorized: smtp.verifyCertificate ?? true, ...(address !== smtp.host ? { servername: smtp.host } : {}) },
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });

/** `<msg_…@support.example.com>`: stable per Parley message, so a retried send keeps its id. */
export function outboundMessageId(messageId: string, inboxAddress: string): string {
  return `${messageId}@${inboxAddress.split('@')[1] ?? 'parley.invalid'}`;
}

/**
 * One outbound email through the inbox's SMTP relay: threaded on the customer's message
 * (In-Reply-To, References), replies steered back by a `+conversation` Reply-To address, and
 * the customer's text quoted below the agent's reply; DKIM-signed when the inbox has a key.
 */
export async function sendEmail(settings: EmailSettings, message: OutboundMessage, privateTargets: PrivateTargets, factory: TransportFactory = nodemailerTransport): Promise<SendResult> {
  if (!settings.smtp) return { ok: false, retryable: false, error: 'the inbox has no SMTP relay configured' };
  // The relay is the tenant's setting: not an address inside the server's network (net/private-targets.ts).
  let address: string;
  try {
    address = await allowedAddress(settings.smtp.host, privateTargets);
  } catch (err) {
    if (err instanceof TargetRefusedError) return { ok: false, retryable: false, error: `SMTP relay refused: ${err.message}` };
    return { ok: false, retryable: true, error: `SMTP relay ${settings.smtp.host} not found: ${(err as Error).message}` };
  }
  const id = outboundMessageId(message.messageId, settings.address);
  const [local, domain] = settings.address.split('@');
  const parent = message.replyTo;
  const references = parent ? [...parent.threadKeys.slice().reverse(), ...(parent.externalId ? [parent.externalId] : [])] : [];
  const transport = factory(settings.smtp, address);
  try {
    await transport.sendMail({
      from: { name: settings.fromName ?? '', address: settings.address },
      replyTo: `${local}+${message.conversationId}@${domain}`,
      to: message.to.name ? { name: message.to.name, address: message.to.handle } : message.to.handle,
      subject: replySubject(message.subject),
      messageId: `<${id}>`,
      ...(parent?.externalId ? { inReplyTo: `<${parent.externalId}>` } : {}),
      ...(references.length > 0 ? { references: references.slice(-20).map((r) => `<${r}>`) } : {}),
      text: parent ? `${message.text}\n\n${quote(parent)}` : message.text,
      attachments: message.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.open() as never })),
      ...dkimSigningOf(settings),
    });
    return { ok: true, providerId: id };
  } catch (err) {
    return classifySmtpError(err);
  } finally {
    transport.close();
  }
}

/** SMTP 5yz is definitive; 4yz, timeouts and connection failures may pass on a later try. */
export function classifySmtpError(err: unknown): SendResult & { ok: false } {
  const e = err as { responseCode?: number; code?: string; message?: string };
  const error = `${e.responseCode ? `${e.responseCode} ` : ''}${e.message ?? String(err)}`.slice(0, 1000);
  if (typeof e.responseCode === 'number') return { ok: false, retryable: e.responseCode < 500, error };
  return { ok: false, retryable: true, error };
}

function replySubject(subject: string | null): string {
  const s = (subject ?? '').trim();
  if (!s) return 'Re: your message';
  return /^re:/i.test(s) ? s : `Re: ${s}`;
}

/** "On <date>, <who> wrote:" and the customer's text, each line behind "> " (RFC 3676 style). */
export function quote(parent: NonNullable<OutboundMessage['replyTo']>): string {
  const lines = parent.text.slice(0, 20_000).replace(/\r\n/g, '\n').split('\n');
  const who = parent.from ?? 'you';
  return [`On ${parent.sentAt.toUTCString()}, ${who} wrote:`, ...lines.map((l) => (l.startsWith('>') ? `>${l}` : `> ${l}`))].join('\n');
}
