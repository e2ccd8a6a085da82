import { authenticate } from 'mailauth';
import { createRequire } from 'node:module';
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

/** mailauth's list of well-known ARC sealers (Gmail, Google Groups, Microsoft 365, Fastmail …). */
const WELL_KNOWN_SEALERS: readonly string[] = (createRequire(import.meta.url)('mailauth/lib/arc/trustlist.js') as { trusted: string[] }).trusted;

const sealerIsTrusted = (sealer: string, trusted: readonly string[]) => trusted.some((t) => sealer === t || sealer.endsWith(`.${t}`));

/**
 * SPF, DKIM and DMARC of a message Parley received itself over SMTP, checked against DNS
 * (RFC 7208, 6376, 7489). Authentication-Results headers already in the message are the
 * sender's word and are never read on this path: anyone can write `dkim=pass`. Never throws:
 * a check that could not run (DNS down, a broken signature) records why and the message is
 * still stored.
 *
 * A mailing list or forwarder that changes a message (a footer, a subject tag) breaks its DKIM
 * signature, and sends it from its own servers: DMARC then fails although the author was
 * genuine. When such a forwarder sealed the message with ARC (RFC 8617), the seal is valid, and
 * the forwarder is one we trust to tell the truth, its record that DMARC passed on arrival is
 * kept as `arcVouchedBy` (DMARC itself stays `fail`: that is what this server saw).
 */
export async function verifySender(raw: Buffer, envelope: SmtpEnvelope, checkedBy: string, resolver: DnsResolver, trustedSealers: readonly string[] = WELL_KNOWN_SEALERS): Promise<SenderAuthentication> {
  try {
    const { spf, dkim, dmarc, arc } = await authenticate(raw, {
      ip: envelope.remoteAddress.replace(/^::ffff:/, ''),
      helo: envelope.helo ?? undefined,
      sender: envelope.mailFrom ?? '',
      mta: checkedBy,
      resolver,
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
    if (arc && arc.status.result !== 'none') {
      out.arc = arc.status.result;
      // The newest hop's seal: who sealed, and what it found when the message reached it.
      const seal = arc as { signature?: { signingDomain?: string } | false; authenticationResults?: { dmarc?: { result?: string } } };
      const sealer = seal.signature ? seal.signature.signingDomain?.toLowerCase() : undefined;
      if (sealer) out.arcSealer = sealer;
      const dmarcOnArrival = seal.authenticationResults?.dmarc?.result;
      if (out.dmarc === 'fail' && arc.status.result === 'pass' && sealer && sealerIsTrusted(sealer, trustedSealers) && dmarcOnArrival === 'pass') out.arcVouchedBy = sealer;
    }
    return out;
  } catch (err) {
    return { spf: 'temperror', dkim: 'temperror', dmarc: 'temperror', checkedBy, error: err instanceof Error ? err.message : String(err) };
  }
}
