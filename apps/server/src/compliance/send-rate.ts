import { sql, type QueryResult, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { InboxRow, TenantSettings } from '../db/schema.ts';
import { smsSettingsOf } from '../channels/sms/settings.ts';
import { DEFAULT_TENANT_SENDS_PER_SECOND } from './tenant-settings.ts';

/**
 * Sends per second from one number when its inbox sets none: SMS long codes are throttled by
 * carriers at about this rate; WhatsApp Cloud API numbers start at 80 messages per second.
 */
const DEFAULT_NUMBER_SENDS_PER_SECOND: Record<string, number> = { sms: 10, whatsapp: 80, messenger: 80, instagram: 80 };

export interface SendLimit {
  key: string;
  perSecond: number;
}

/** The limits a send from this inbox counts against (its number, its tenant); none for channels without provider throughput limits (email). */
export function sendLimitsOf(inbox: InboxRow, tenant: TenantSettings): SendLimit[] {
  const numberDefault = DEFAULT_NUMBER_SENDS_PER_SECOND[inbox.channel_type];
  if (numberDefault === undefined) return [];
  const perNumber = inbox.channel_type === 'sms' ? (smsSettingsOf(inbox.settings)?.maxSendsPerSecond ?? numberDefault) : numberDefault;
  // The number first: a number at its limit then never touches the tenant's shared window.
  return [
    { key: `inbox:${inbox.id}`, perSecond: perNumber },
    { key: `tenant:${inbox.tenant_id}`, perSecond: tenant.maxSendsPerSecond ?? DEFAULT_TENANT_SENDS_PER_SECOND },
  ];
}

/**
 * Takes one send in the current one-second window of every limit, or none of them. Each take is
 * one statement (an upsert that only counts while the window has room), so nodes sharing the
 * database never together exceed a limit and no row stays locked beyond its statement; the
 * clock is the database's, the same for every node. When a later limit is full, the earlier
 * takes are given back: for that instant a window may look fuller than it is, which can only
 * refuse, never overrun. A limit below one per second counts as one. A full window answers when
 * the next one starts.
 */
export async function takeSendSlot(db: Db, limits: SendLimit[]): Promise<{ ok: true } | { ok: false; retryAt: Date }> {
  let windowStart: Date | null = null;
  const taken: string[] = [];
  for (const limit of limits) {
    const max = Math.max(1, Math.floor(limit.perSecond));
    const window: RawBuilder<unknown> = windowStart ? sql`${windowStart}::timestamptz` : sql`date_trunc('second', now())`;
    const result: QueryResult<{ window_start: Date; count: number | null }> = await sql<{ window_start: Date; count: number | null }>`
      WITH w AS (SELECT ${window} AS start),
      take AS (
        INSERT INTO send_rate_windows (key, window_start, count) SELECT ${limit.key}, start, 1 FROM w
        ON CONFLICT (key, window_start) DO UPDATE SET count = send_rate_windows.count + 1
        WHERE send_rate_windows.count < ${max}
        RETURNING count)
      SELECT w.start AS window_start, take.count FROM w LEFT JOIN take ON true`.execute(db);
    const row: { window_start: Date; count: number | null } = result.rows[0]!;
    windowStart = new Date(row.window_start);
    if (row.count === null) {
      for (const key of taken) await sql`UPDATE send_rate_windows SET count = count - 1 WHERE key = ${key} AND window_start = ${windowStart}`.execute(db);
      return { ok: false, retryAt: new Date(windowStart.getTime() + 1000) };
    }
    taken.push(limit.key);
    // The first send of a window clears the key's windows older than a minute (kept that long to show what was sent when).
    if (Number(row.count) === 1) await sql`DELETE FROM send_rate_windows WHERE key = ${limit.key} AND window_start < ${windowStart}::timestamptz - interval '1 minute'`.execute(db);
  }
  return { ok: true };
}
