import { generateKeyPairSync } from 'node:crypto';
import nodemailer from 'nodemailer';

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
