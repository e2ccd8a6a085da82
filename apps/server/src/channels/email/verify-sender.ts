import { authenticate } from 'mailauth';
import type { DnsResolver } from '../../net/dns-resolver.ts';

export interface SmtpEnvelope {
  /** The connecting client's address. */
  remoteAddress: string;
  helo: string | null;
  /** MAIL FROM (empty for bounces). */
  mailFrom: string | null;
}

/** What an agent is shown about who sent a message: each method's RFC 8601 result word, and who checked. */
export type SenderAuthentication = Record<string, string>;

/**
 * SPF, DKIM and DMARC of a message Parley received itself over SMTP, checked against DNS
 * (RFC 7208, 6376, 7489). Authentication-Results headers already in the message are the
 * sender's word and are never read on this path: anyone can write `dkim=pass`. Never throws:
 * a check that could not run (DNS down, a broken signature) records why and the message is
 * still stored.
 */
export async function verifySender(raw: Buffer, envelope: SmtpEnvelope, checkedBy: string, resolver: DnsResolver): Promise<SenderAuthentication> {
  try {
    const { spf, dkim, dmarc } = await authenticate(raw, {
      ip: envelope.remoteAddress.replace(/^::ffff:/, ''),
      helo: envelope.helo ?? undefined,
      sender: envelope.mailFrom ?? '',
      mta: checkedBy,
      resolver,
      disableArc: true,
      disableBimi: true,
    });
    // Of several signatures, one that passes is what counts (a list may add its own beside the author's).
    const signature = dkim.results.find((r) => r.status.result === 'pass') ?? dkim.results[0];
    const out: SenderAuthentication = {
      spf: spf ? spf.status.result : 'none',
      // mailauth calls a signature whose body no longer matches "neutral"; RFC 6376 calls it a failure.
      dkim: !signature ? 'none' : signature.status.comment === 'body hash did not verify' ? 'fail' : signature.status.result,
      dmarc: dmarc ? dmarc.status.result : 'none',
      checkedBy,
    };
    if (signature?.signingDomain) out.dkimDomain = signature.signingDomain;
    return out;
  } catch (err) {
    return { spf: 'temperror', dkim: 'temperror', dmarc: 'temperror', checkedBy, error: err instanceof Error ? err.message : String(err) };
  }
}
