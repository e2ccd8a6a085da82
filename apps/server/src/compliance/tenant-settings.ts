import { ShortCache } from '../db/short-cache.ts';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { TenantSettings } from '../db/schema.ts';
import { notFound } from '../errors.ts';

/**
 * Outbound messages per second for a tenant that set no limit of its own: well above what one
 * agent team types, low enough that a runaway script cannot burn the tenant's provider quota.
 */
export const DEFAULT_TENANT_SENDS_PER_SECOND = 50;

const cached = new ShortCache<{ name: string; settings: TenantSettings }>(1000);

/** Read by every inbound message and send: at most once a second per node (see ShortCache). */
export async function getTenantSettings(db: Db, tenantId: string): Promise<{ name: string; settings: TenantSettings }> {
  const found = await cached.get(db, tenantId, async () => {
    const row = await db.selectFrom('tenants').select(['name', 'settings']).where('id', '=', tenantId).executeTakeFirst();
    return row ? { name: row.name, settings: row.settings ?? {} } : null;
  });
  if (!found) throw notFound('tenant');
  return found;
}

/** Merges a change into the stored settings in one statement (no lost update between two admins). */
export async function updateTenantSettings(db: Db, tenantId: string, change: { unavailableCountries?: string[]; maxSendsPerSecond?: number | null; timeZone?: string | null }): Promise<TenantSettings> {
  const row = await db
    .updateTable('tenants')
    // A null in the change removes the setting (back to the default).
    .set({ settings: sql<string>`jsonb_strip_nulls(settings || ${JSON.stringify(change)}::jsonb)` })
    .where('id', '=', tenantId)
    .returning('settings')
    .executeTakeFirst();
  if (!row) throw notFound('tenant');
  cached.forget(db, tenantId);
  return row.settings;
}
