import type { ChannelAdapter } from '../channel.ts';
import { defaultParseLimits, parseEmail } from './parse-email.ts';
import { sendEmail, nodemailerTransport, type TransportFactory } from './send-email.ts';
import { emailSettingsOf, type EmailSettings } from './settings.ts';
import { testEmailConnection } from './test-connection.ts';

/** Email as a channel: raw MIME in (from the SMTP listener or IMAP), SMTP relay out. */
export function createEmailAdapter(options: { transport?: TransportFactory; maxBytes?: number } = {}): ChannelAdapter<EmailSettings> {
  const limits = { ...defaultParseLimits, ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}) };
  return {
    channelType: 'email',
    async parseInbound(raw: unknown) {
      if (!Buffer.isBuffer(raw)) throw new TypeError('email input is the raw message as a Buffer');
      return parseEmail(raw, limits);
    },
    send: (settings, message, privateTargets) => sendEmail(settings, message, privateTargets, options.transport ?? nodemailerTransport),
    testConnection: (settings, privateTargets) => testEmailConnection(settings, privateTargets, options.transport ?? nodemailerTransport),
    // SMTP says accepted or refused at send time; DSNs arrive as bounces, not as states.
    mapStatus: (status) => ({ sent: 'sent', delivered: 'delivered', failed: 'failed', bounced: 'failed' } as const)[status.toLowerCase() as 'sent'] ?? null,
    settingsOf: emailSettingsOf,
  };
}

export const adapter = createEmailAdapter();
