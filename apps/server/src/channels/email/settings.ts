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
  },
  { additionalProperties: false },
);

export type EmailSettings = Static<typeof EmailSettingsSchema>;

/** The email settings of an inbox's settings object, or null. */
export function emailSettingsOf(inboxSettings: unknown): EmailSettings | null {
  const email = (inboxSettings as { email?: EmailSettings } | null)?.email;
  return email && typeof email.address === 'string' ? email : null;
}

/** What the API shows: passwords replaced by `passwordSet`. */
export function redactEmailSettings(email: EmailSettings): EmailSettings {
  const strip = <T extends { password?: string; passwordSet?: boolean }>(s: T | undefined): T | undefined => {
    if (!s) return s;
    const { password, ...rest } = s;
    return { ...rest, passwordSet: Boolean(password) } as T;
  };
  const out: EmailSettings = { ...email, smtp: strip(email.smtp), imap: strip(email.imap) };
  if (!out.smtp) delete out.smtp;
  if (!out.imap) delete out.imap;
  return out;
}

/** An update that leaves a password out keeps the stored one (the API never shows it back). */
export function mergeEmailSettings(current: EmailSettings | null, next: EmailSettings): EmailSettings {
  const keep = <T extends { password?: string; passwordSet?: boolean }>(now: T | undefined, old: T | undefined): T | undefined => {
    if (!now) return now;
    const { passwordSet: _ignored, ...rest } = now;
    return (rest.password === undefined && old?.password ? { ...rest, password: old.password } : rest) as T;
  };
  const out: EmailSettings = { ...next, smtp: keep(next.smtp, current?.smtp), imap: keep(next.imap, current?.imap) };
  if (!out.smtp) delete out.smtp;
  if (!out.imap) delete out.imap;
  return out;
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
