import { allowedAddress, type PrivateTargets } from '../../net/private-targets.ts';
import { imapClient } from './imap-poller.ts';
import { nodemailerTransport, type TransportFactory } from './send-email.ts';
import type { EmailSettings } from './settings.ts';

type ImapSettings = NonNullable<EmailSettings['imap']>;

/** Signs in to the IMAP server at `address` (checked) and reads the mailbox's size; throws what went wrong. */
export type ImapProbe = (imap: ImapSettings, address: string) => Promise<{ messages: number }>;

/**
 * An admin's "test connection" for an email inbox: each server its settings name, as Parley
 * will use it — the SMTP relay greeted, TLS started and signed in to (no mail sent), the IMAP
 * server signed in to and the polled mailbox opened. Both are tried and both are reported; the
 * test passes when every configured one does.
 */
export async function testEmailConnection(
  settings: EmailSettings,
  privateTargets: PrivateTargets,
  transport: TransportFactory = nodemailerTransport,
  probeImap: ImapProbe = imapMailboxStatus,
): Promise<{ ok: boolean; message: string }> {
  if (!settings.smtp && !settings.imap) return { ok: false, message: "nothing to test: the inbox names no SMTP relay and no IMAP mailbox (its mail comes by Parley's own SMTP listener)" };
  const results: { ok: boolean; message: string }[] = [];
  if (settings.smtp) {
    const { host, port } = settings.smtp;
    results.push(
      await attempt(`SMTP relay ${host}:${port}`, async () => {
        const connection = transport(settings.smtp!, await allowedAddress(host, privateTargets));
        try {
          await connection.verify();
        } finally {
          connection.close();
        }
        return settings.smtp!.user ? `signed in as ${settings.smtp!.user}` : 'accepts connections (no sign-in configured)';
      }),
    );
  }
  if (settings.imap) {
    const { host, port } = settings.imap;
    const mailbox = settings.imap.mailbox ?? 'INBOX';
    results.push(
      await attempt(`IMAP ${host}:${port}`, async () => {
        const status = await probeImap(settings.imap!, await allowedAddress(host, privateTargets));
        return `signed in as ${settings.imap!.user}, mailbox ${mailbox} holds ${status.messages} message${status.messages === 1 ? '' : 's'}`;
      }),
    );
  }
  return { ok: results.every((r) => r.ok), message: results.map((r) => r.message).join('; ') };
}

async function attempt(what: string, run: () => Promise<string>): Promise<{ ok: boolean; message: string }> {
  try {
    return { ok: true, message: `${what}: ${await run()}` };
  } catch (err) {
    const e = err as { responseCode?: number; responseText?: string; message?: string; authenticationFailed?: boolean };
    const reason = e.authenticationFailed ? 'sign-in refused' : e.responseText || e.message || String(err);
    return { ok: false, message: `${what}: ${e.responseCode ? `${e.responseCode} ` : ''}${reason}`.slice(0, 500) };
  }
}

export const imapMailboxStatus: ImapProbe = async (imap, address) => {
  const client = imapClient(imap, address, { connectionTimeout: 15_000, greetingTimeout: 15_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const mailbox = imap.mailbox ?? 'INBOX';
    const status = await client.status(mailbox, { messages: true });
    if (!status) throw new Error(`no mailbox ${mailbox}`);
    return { messages: status.messages ?? 0 };
  } finally {
    await client.logout().catch(() => client.close());
  }
};
