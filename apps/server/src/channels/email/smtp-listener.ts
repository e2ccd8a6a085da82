import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { InboxRow } from '../../db/schema.ts';
import type { ChannelAdapter } from '../channel.ts';
import type { DnsResolver } from '../../net/dns-resolver.ts';
import { findInboxByAddress, ingestInbound, type IngestDeps } from '../ingest.ts';
import { adapter as emailAdapter } from './adapter.ts';
import { verifySender } from './verify-sender.ts';

export interface SmtpListenerOptions {
  port: number;
  host: string;
  /** PEM key and certificate for STARTTLS; without them STARTTLS is not offered. */
  tls?: { key: Buffer; cert: Buffer };
  /** Announced with SIZE; a larger message is refused with 552. */
  maxBytes: number;
  /** The name in the greeting, and the checker named in authentication results (default: the machine's host name, as smtp-server greets). */
  hostname?: string;
  adapter?: ChannelAdapter;
  /** For the SPF, DKIM and DMARC records of senders. */
  resolver: DnsResolver;
  /** See Config.arcTrustedSealers. */
  arcTrustedSealers?: readonly string[];
}

/** An SMTP error reply: smtp-server sends `responseCode` and the message. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * Parley as a mail server for its email inboxes. A recipient that is no inbox's address is
 * refused at RCPT time (550); a message is answered 250 only once it is committed, and a
 * sender resending it (after a lost 250) finds it stored once: its key is Message-ID + inbox.
 * Being the receiving MTA, Parley checks the sender's SPF, DKIM and DMARC itself.
 */
export class SmtpListener {
  private readonly server: SMTPServer;
  private readonly recipients = new Map<string, Map<string, { inbox: InboxRow; address: string }>>();

  constructor(
    private readonly deps: IngestDeps,
    private readonly options: SmtpListenerOptions,
  ) {
    this.server = new SMTPServer({
      name: options.hostname,
      banner: 'Parley',
      size: options.maxBytes,
      authOptional: true,
      disabledCommands: ['AUTH'],
      ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : { hideSTARTTLS: true }),
      logger: false,
      socketTimeout: 60_000,
      closeTimeout: 5_000,
      maxClients: 500,
      onClose: (session) => {
        this.recipients.delete(session.id);
      },
      onMailFrom: (_address, session, callback) => {
        this.recipients.delete(session.id);
        callback();
      },
      onRcptTo: (address, session, callback) => {
        this.acceptRecipient(address.address, session).then(() => callback(), (err: Error) => callback(err));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', (err) => callback(err));
        stream.on('end', () => {
          if ((stream as unknown as { sizeExceeded: boolean }).sizeExceeded) {
            callback(smtpError(552, `5.3.4 message over the ${options.maxBytes}-byte limit`));
            return;
          }
          this.deliver(Buffer.concat(chunks), session).then(
            () => callback(null, '2.0.0 stored'),
            (err: Error) => {
              this.deps.log.error({ err }, 'inbound email not stored');
              callback(smtpError(451, '4.3.0 not stored, try again later'));
            },
          );
        });
      },
    });
    this.server.on('error', (err) => this.deps.log.warn({ err }, 'smtp listener error'));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async acceptRecipient(address: string, session: SMTPServerSession): Promise<void> {
    const inbox = await findInboxByAddress(this.deps.db, 'email', address);
    if (!inbox) throw smtpError(550, '5.1.1 no such mailbox here');
    let forSession = this.recipients.get(session.id);
    if (!forSession) this.recipients.set(session.id, (forSession = new Map()));
    if (!forSession.has(inbox.id)) forSession.set(inbox.id, { inbox, address });
  }

  private async deliver(raw: Buffer, session: SMTPServerSession): Promise<void> {
    const targets = [...(this.recipients.get(session.id)?.values() ?? [])];
    this.recipients.delete(session.id);
    const smtp = { remoteAddress: session.remoteAddress, helo: session.hostNameAppearsAs || null, tls: session.secure, mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null };
    const [parsed, authentication] = await Promise.all([
      (this.options.adapter ?? emailAdapter).parseInbound(raw),
      verifySender(raw, smtp, this.options.hostname ?? hostname(), this.options.resolver, this.options.arcTrustedSealers),
    ]);
    for (const { inbox, address } of targets) {
      await ingestInbound(this.deps, inbox, { ...parsed, to: address, details: { ...parsed.details, smtp, authentication } });
    }
  }
}
