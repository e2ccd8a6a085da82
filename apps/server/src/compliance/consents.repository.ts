import type { Transaction } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Database } from '../db/schema.ts';

type Q = Db | Transaction<Database>;

export type ConsentStatus = 'opted_in' | 'opted_out';

export interface Consent {
  inboxId: string;
  handle: string;
  status: ConsentStatus;
  keyword: string | null;
  changedAt: Date;
}

/** Is this handle opted out of messages from this inbox (its number or account)? No row: never opted out. */
export async function isOptedOut(db: Q, tenantId: string, inboxId: string, handle: string): Promise<boolean> {
  const row = await db
    .selectFrom('channel_consents')
    .select('status')
    .where('tenant_id', '=', tenantId)
    .where('inbox_id', '=', inboxId)
    .where('handle', '=', handle)
    .executeTakeFirst();
  return row?.status === 'opted_out';
}

/**
 * Records a consent change, unless a later change is stored already (a provider redelivering
 * an old STOP after the contact sent START must not opt them out again). Returns whether the
 * status changed, so the caller records the event once.
 */
export async function setConsent(
  db: Q,
  change: { tenantId: string; inboxId: string; handle: string; status: ConsentStatus; keyword: string | null; at: Date },
): Promise<boolean> {
  const before = await db
    .selectFrom('channel_consents')
    .select(['status'])
    .where('tenant_id', '=', change.tenantId)
    .where('inbox_id', '=', change.inboxId)
    .where('handle', '=', change.handle)
    .executeTakeFirst();
  const written = await db
    .insertInto('channel_consents')
    .values({ tenant_id: change.tenantId, inbox_id: change.inboxId, handle: change.handle, status: change.status, keyword: change.keyword, changed_at: change.at })
    .onConflict((oc) =>
      oc
        .columns(['tenant_id', 'inbox_id', 'handle'])
        .doUpdateSet({ status: change.status, keyword: change.keyword, changed_at: change.at })
        .where('channel_consents.changed_at', '<=', change.at),
    )
    .returning('status')
    .executeTakeFirst();
  // No row means never opted out: a first START changes nothing.
  return written !== undefined && (before?.status ?? 'opted_in') !== change.status;
}

/** The consents of every handle a contact has, on any inbox of the tenant, newest first. */
export async function listContactConsents(db: Q, tenantId: string, contactId: string): Promise<Consent[]> {
  const rows = await db
    .selectFrom('channel_consents as cc')
    .innerJoin('inboxes as i', (j) => j.onRef('i.id', '=', 'cc.inbox_id').onRef('i.tenant_id', '=', 'cc.tenant_id'))
    .innerJoin('contact_handles as h', (j) => j.onRef('h.tenant_id', '=', 'cc.tenant_id').onRef('h.handle', '=', 'cc.handle').onRef('h.channel_type', '=', 'i.channel_type'))
    .select(['cc.inbox_id', 'cc.handle', 'cc.status', 'cc.keyword', 'cc.changed_at'])
    .where('cc.tenant_id', '=', tenantId)
    .where('h.contact_id', '=', contactId)
    .orderBy('cc.changed_at', 'desc')
    .execute();
  return rows.map((r) => ({ inboxId: r.inbox_id, handle: r.handle, status: r.status, keyword: r.keyword, changedAt: r.changed_at }));
}
