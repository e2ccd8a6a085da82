import { generateKeyPairSync } from 'node:crypto';
import nodemailer from 'nodemailer';
import { authenticate, sealMessage } from 'mailauth';
import type { DnsResolver } from '../src/net/dns-resolver.ts';

/** A DKIM key pair for a test domain: the private key to sign with, the DNS TXT record that publishes it. */
export function dkimKey(): { privateKey: string; record: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  };
}

/** A message signed the way a sending mail system signs it (nodemailer's DKIM signer, not Parley's code). */
export async function dkimSigned(mail: { from: string; to: string; subject: string; text: string; messageId: string }, domainName: string, keySelector: string, privateKey: string): Promise<Buffer> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, dkim: { domainName, keySelector, privateKey } });
  const info = await transport.sendMail(mail);
  return info.message as Buffer;
}

/**
 * The message as a mailing list passes it on: received from `arrival` (checked then), a footer
 * added (which breaks the author's DKIM signature), and sealed with ARC by the list (mailauth's
 * sealer, not Parley's code).
 */
export async function listForwarded(
  message: Buffer,
  list: { domain: string; selector: string; privateKey: string; resolver: DnsResolver },
  arrival: { ip: string; helo: string; sender: string },
): Promise<Buffer> {
  const atList = await authenticate(message, { ...arrival, mta: `mx.${list.domain}`, resolver: list.resolver, disableBimi: true });
  const withFooter = Buffer.from(message.toString().replace(/\r\n$/, `\r\n--\r\nYou received this as a member of the ${list.domain} list.\r\n`));
  const arc = atList.arc as { authResults: string; status: { result: string } };
  // authResults and cv are documented sealing options that mailauth's types leave out.
  const options = { signingDomain: list.domain, selector: list.selector, privateKey: Buffer.from(list.privateKey), authResults: arc.authResults, cv: arc.status.result };
  const seal = await sealMessage(withFooter, options as Parameters<typeof sealMessage>[1]);
  return Buffer.concat([seal, withFooter]);
}
