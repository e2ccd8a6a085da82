import { Type, type Static } from 'typebox';

const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
/** Write-only: accepted on create and update, never returned (the DTO says `passwordSet`). */
const Password = Type.String({ minLength: 1, maxLength: 500 });

export const SmtpRelaySchema = Type.Object(
  {
    host: Host,
    port: Port,
    /** true: TLS from the first byte (port 465); false: STARTTLS when offered. */
    secure: Type.Boolean(),
    /** Refuse to send without STARTTLS. */
    requireTls: Type.Optional(Type.Boolean()),
    /** false only for a relay with a self-signed certificate on a trusted network. */
    verifyCertificate: Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    password: Type.Optional(Password),
    passwordSet: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ImapSchema = Type.Object(
  {
    host: Host,
    port: Port,
    secure: Type.Boolean(),
    verifyCertificate: Type.Optional(Type.Boolean()),
    user: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.Optional(Password),
    passwordSet: Type.Optional(Type.Boolean()),
    mailbox: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /**
     * The mailbox provider's authserv-id (e.g. `mx.google.com`): its Authentication-Results
     * header (SPF, DKIM, DMARC) is recorded with each message. Unset = none is trusted.
     */
    authServId: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$' })),
  },
  { additionalProperties: false },
);

/** The DNS label a DKIM public key is published under: `<selector>._domainkey.<domain>`. */
export const DkimSelector = Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$' });

/** Outbound mail signed with DKIM (RFC 6376) for the address's domain; the key is write-only (the DTO says `privateKeySet`). */
export const DkimSchema = Type.Object(
  {
    selector: DkimSelector,
    /** PEM RSA private key (≥ 1024 bits; 2048 when Parley makes it). */
    privateKey: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    privateKeySet: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const EmailSettingsSchema = Type.Object(
  {
    /** The inbox's address: mail to it (or to `local+token@domain`) lands in this inbox. */
    address: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@+]+@[^\\s@]+\\.[^\\s@]+$' }),
    fromName: Type.Optional(Type.String({ maxLength: 100 })),
    smtp: Type.Optional(SmtpRelaySchema),
    imap: Type.Optional(ImapSchema),
    dkim: Type.Optional(DkimSchema),
  },
  { additionalProperties: false },
);

export type EmailSettings = Static<typeof EmailSettingsSchema>;

/** The email settings of an inbox's settings object, or null. */
export function emailSettingsOf(inboxSettings: unknown): EmailSettings | null {
  const email = (inboxSettings as { email?: EmailSettings } | null)?.email;
  return email && typeof email.address === 'string' ? email : null;
}

/** `Support+cnv_1@Example.com` → address `support@example.com`, token `cnv_1`. */
export function splitAddress(address: string): { address: string; token: string | null } {
  const at = address.lastIndexOf('@');
  if (at < 1) return { address: address.toLowerCase(), token: null };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  const plus = local.indexOf('+');
  if (plus < 0) return { address: `${local.toLowerCase()}@${domain}`, token: null };
  return { address: `${local.slice(0, plus).toLowerCase()}@${domain}`, token: local.slice(plus + 1) || null };
}
