import { readFile } from 'node:fs/promises';
import type { Deps } from '../../deps.ts';
import { createDnsResolver } from '../../net/dns-resolver.ts';
import { createEmailAdapter } from './adapter.ts';
import { ImapPoller } from './imap-poller.ts';
import { SmtpListener } from './smtp-listener.ts';

/** The email channel's long-running parts in this process: the SMTP listener and the IMAP poller, as configured. */
export class EmailChannel {
  smtp: SmtpListener | null = null;
  /** The SMTP listener's port once listening (useful when configured as 0). */
  smtpPort: number | null = null;
  imap: ImapPoller | null = null;

  constructor(private readonly deps: Deps) {}

  async start(): Promise<void> {
    const { config } = this.deps;
    const adapter = createEmailAdapter({ maxBytes: config.emailMaxBytes });
    if (config.smtpPort !== undefined) {
      const tls =
        config.smtpTlsKeyFile && config.smtpTlsCertFile ? { key: await readFile(config.smtpTlsKeyFile), cert: await readFile(config.smtpTlsCertFile) } : undefined;
      this.smtp = new SmtpListener(this.deps, { port: config.smtpPort, host: config.smtpHost, tls, maxBytes: config.emailMaxBytes, hostname: config.smtpHostname, adapter, resolver: createDnsResolver(config.dnsServers), arcTrustedSealers: config.arcTrustedSealers });
      this.smtpPort = await this.smtp.listen();
      this.deps.log.info({ port: this.smtpPort, starttls: Boolean(tls) }, 'smtp listener ready');
    }
    if (config.imapPolling) {
      this.imap = new ImapPoller(this.deps, { pollMs: config.imapPollMs, maxBytes: config.emailMaxBytes, adapter });
      this.imap.start();
    }
  }

  async stop(): Promise<void> {
    await this.imap?.stop();
    await this.smtp?.close();
    this.imap = null;
    this.smtp = null;
  }
}
