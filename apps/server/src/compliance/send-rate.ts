import { sql } from 'kysely';
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
  return [
    { key: `tenant:${inbox.tenant_id}`, perSecond: tenant.maxSendsPerSecond ?? DEFAULT_TENANT_SENDS_PER_SECOND },
    { key: `inbox:${inbox.id}`, perSecond: perNumber },
  ];
}

/** Thrown inside the slot transaction to give back the slots already taken. */
class WindowFull extends Error {}

/**
 * Takes one send in the current one-second window of every limit, or none of them. Each take is
 * one upsert that only counts while the window has room, so nodes sharing the database never
 * together exceed a limit; the clock is the database's, the same for every node. A limit below
 * one per second counts as one. A full window answers when the next one starts.
 */
export async function takeSendSlot(db: Db, limits: SendLimit[]): Promise<{ ok: true } | { ok: false; retryAt: Date }> {
  if (limits.length === 0) return { ok: true };
  let windowStart: Date | null = null;
  try {
    await db.transaction().execute(async (trx) => {
      const now = await sql<{ w: Date }>`SELECT date_trunc('second', now()) AS w`.execute(trx);
      windowStart = new Date(now.rows[0]!.w);
      // Keys in one order on every node: two sends never wait on each other's rows crosswise.
      for (const limit of [...limits].sort((a, b) => a.key.localeCompare(b.key))) {
        const max = Math.max(1, Math.floor(limit.perSecond));
        const taken = await sql<{ count: number }>`
          INSERT INTO send_rate_windows (key, window_start, count) VALUES (${limit.key}, ${windowStart}, 1)
          ON CONFLICT (key, window_start) DO UPDATE SET count = send_rate_windows.count + 1
          WHERE send_rate_windows.count < ${max}
          RETURNING count`.execute(trx);
        if (taken.rows.length === 0) throw new WindowFull();
        // The first send of a window clears the key's windows older than a minute (kept that long to show what was sent when).
        if (Number(taken.rows[0]!.count) === 1) await sql`DELETE FROM send_rate_windows WHERE key = ${limit.key} AND window_start < ${windowStart}::timestamptz - interval '1 minute'`.execute(trx);
      }
    });
    return { ok: true };
  } catch (err) {
    if (!(err instanceof WindowFull)) throw err;
    return { ok: false, retryAt: new Date(windowStart!.getTime() + 1000) };
  }
}
