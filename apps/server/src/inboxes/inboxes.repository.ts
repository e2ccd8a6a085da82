import { ShortCache } from '../db/short-cache.ts';
import { Type, type Static } from 'typebox';
import type { Db } from '../db/database.ts';
import type { InboxRow, InboxSettings } from '../db/schema.ts';
import { notFound } from '../errors.ts';
import { EmailSettingsSchema } from '../channels/email/settings.ts';
import { SmsSettingsSchema } from '../channels/sms/settings.ts';
import { MetaSettingsSchema } from '../channels/meta/settings.ts';
import { redactSecrets } from '../channels/channel-settings.ts';

export const InboxSettingsSchema = Type.Object(
  {
    color: Type.String({ pattern: '^#[0-9a-fA-F]{6}$' }),
    greeting: Type.String({ maxLength: 500 }),
    prechat: Type.Object({
      enabled: Type.Boolean(),
      fields: Type.Array(Type.Object({ name: Type.Union([Type.Literal('name'), Type.Literal('email')]), required: Type.Boolean() }), { maxItems: 2 }),
    }),
    allowedDomains: Type.Array(Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.*:-]+$' }), { maxItems: 50 }),
    /** Email inboxes: address, SMTP relay, IMAP mailbox (see docs/channels/email.md). */
    email: Type.Optional(EmailSettingsSchema),
    /** SMS inboxes: the number and its provider (see docs/channels/sms.md). */
    sms: Type.Optional(SmsSettingsSchema),
    /** WhatsApp, Messenger and Instagram inboxes: the Meta account (see docs/channels/meta.md). */
    meta: Type.Optional(MetaSettingsSchema),
  },
  { additionalProperties: false },
);

export const defaultInboxSettings: InboxSettings = {
  color: '#2563eb',
  greeting: '',
  prechat: { enabled: true, fields: [{ name: 'name', required: true }, { name: 'email', required: true }] },
  allowedDomains: [],
};

export const InboxDto = Type.Object({
  id: Type.String(),
  publicId: Type.String(),
  name: Type.String(),
  channelType: Type.String(),
  settings: InboxSettingsSchema,
  identitySecret: Type.Optional(Type.String()),
  createdAt: Type.String(),
});
export type InboxDto = Static<typeof InboxDto>;

export function toInboxDto(row: InboxRow, withSecret: boolean): InboxDto {
  return {
    id: row.id,
    publicId: row.public_id,
    name: row.name,
    channelType: row.channel_type,
    settings: redactSecrets({ ...defaultInboxSettings, ...row.settings }),
    ...(withSecret ? { identitySecret: row.identity_secret } : {}),
    createdAt: row.created_at.toISOString(),
  };
}

export async function getInboxOrThrow(db: Db, tenantId: string, id: string): Promise<InboxRow> {
  const row = await db.selectFrom('inboxes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('inbox');
  return row;
}

/** The same read through the short cache, for requests that only read the inbox (never to change it from). */
export async function getCachedInboxOrThrow(db: Db, tenantId: string, id: string): Promise<InboxRow> {
  const row = await byId.get(db, `${tenantId}/${id}`, async () => (await db.selectFrom('inboxes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) ?? null);
  if (!row) throw notFound('inbox');
  return row;
}

/** Widget lookups come by the public id alone: it names the tenant. */
export async function getInboxByPublicIdOrThrow(db: Db, publicId: string): Promise<InboxRow> {
  const row = await findInboxByPublicId(db, publicId);
  if (!row) throw notFound('inbox');
  return row;
}

const byPublicId = new ShortCache<InboxRow>(1000);
const byId = new ShortCache<InboxRow>(1000);

/** The inbox a widget or a provider's webhook names, read at most once a second per node (see ShortCache). */
export function findInboxByPublicId(db: Db, publicId: string): Promise<InboxRow | null> {
  return byPublicId.get(db, publicId, async () => (await db.selectFrom('inboxes').selectAll().where('public_id', '=', publicId).executeTakeFirst()) ?? null);
}

/** After this node changed an inbox: its next lookup reads the row. */
export function forgetInbox(db: Db, inbox: Pick<InboxRow, 'id' | 'tenant_id' | 'public_id'>): void {
  byPublicId.forget(db, inbox.public_id);
  byId.forget(db, `${inbox.tenant_id}/${inbox.id}`);
}

/** Is this page origin one the inbox admits? An empty list admits any; `*.example.com` admits subdomains. */
export function originAllowed(settings: InboxSettings, origin: string | undefined): boolean {
  const allowed = settings.allowedDomains ?? [];
  if (allowed.length === 0) return true;
  if (!origin) return false;
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  return allowed.some((d) => {
    const domain = d.toLowerCase();
    if (domain.startsWith('*.')) return host.endsWith(domain.slice(1)) || host === domain.slice(2);
    return host === domain || host.split(':')[0] === domain;
  });
}
