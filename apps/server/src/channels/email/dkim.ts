import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { ParleyError } from '../../errors.ts';
import type { EmailSettings } from './settings.ts';

/** The TXT record that publishes an inbox's DKIM public key (RFC 6376 §3.6.1). */
export interface DkimRecord {
  selector: string;
  domain: string;
  /** `<selector>._domainkey.<domain>` */
  name: string;
  /** `v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>` */
  value: string;
}

export const DEFAULT_DKIM_SELECTOR = 'parley';

/** A new 2048-bit RSA signing key (PEM): the size every receiver verifies (nodemailer signs with RSA only). */
export async function newDkimKey(): Promise<string> {
  // Off the event loop: an RSA key takes tens to hundreds of milliseconds to find.
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The key as Node reads it; a clear 400 for anything that is not an RSA private key of at least 1024 bits (RFC 8301). */
export function readDkimKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ParleyError('PARLEY_ERR_VALIDATION', 'settings.email.dkim.privateKey is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 1024) {
    throw new ParleyError('PARLEY_ERR_VALIDATION', 'settings.email.dkim.privateKey must be an RSA key of at least 1024 bits');
  }
  return key;
}

/** Refuses settings whose DKIM key cannot sign, before they are stored. */
export function checkDkimSettings(settings: unknown): void {
  const key = (settings as { email?: EmailSettings } | null | undefined)?.email?.dkim?.privateKey;
  if (key !== undefined) readDkimKey(key);
}

/** The DNS record receivers look up to verify the inbox's signatures, or null when it does not sign. */
export function dkimRecordOf(settings: EmailSettings): DkimRecord | null {
  const dkim = settings.dkim;
  if (!dkim?.privateKey) return null;
  const key = readDkimKey(dkim.privateKey);
  const domain = signingDomainOf(settings);
  const p = createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
  return { selector: dkim.selector, domain, name: `${dkim.selector}._domainkey.${domain}`, value: `v=DKIM1; k=rsa; p=${p}` };
}

/** nodemailer's signing options for the inbox, or nothing when it does not sign. */
export function dkimSigningOf(settings: EmailSettings): { dkim: { domainName: string; keySelector: string; privateKey: string } } | Record<string, never> {
  const dkim = settings.dkim;
  if (!dkim?.privateKey) return {};
  return { dkim: { domainName: signingDomainOf(settings), keySelector: dkim.selector, privateKey: dkim.privateKey } };
}

/** An inbox signs for the domain of its address. */
const signingDomainOf = (settings: EmailSettings) => settings.address.split('@')[1]!.toLowerCase();
