import type { Db } from '../db/database.ts';
import { newId, newToken, sha256 } from '../ids.ts';
import { ParleyError } from '../errors.ts';
import type { Principal } from './principal.ts';
import { ShortCache } from '../db/short-cache.ts';

/** Creates an API key; the key itself is returned once and only its hash is stored. */
export async function createApiKey(db: Db, tenantId: string, name: string, createdBy: string | null) {
  const key = newToken('pk');
  const row = {
    id: newId('key'),
    tenant_id: tenantId,
    name,
    key_hash: sha256(key),
    prefix: key.slice(0, 10),
    created_by: createdBy,
    created_at: new Date(),
  };
  await db.insertInto('api_keys').values(row).execute();
  return { id: row.id, name, key, prefix: row.prefix, createdAt: row.created_at.toISOString() };
}

/** Keys by hash, kept for a second per node (a program sends many requests a second); see ShortCache. */
const byHash = new ShortCache<{ id: string; tenant_id: string; name: string; last_used_at: Date | null }>(1000);

/** After this node revoked a key: it is refused at once here (other nodes within a second). */
export function forgetApiKeys(db: Db): void {
  byHash.forget(db);
}

export async function principalFromApiKey(db: Db, key: string): Promise<Principal> {
  const hash = sha256(key);
  const row = await byHash.get(db, hash, async () => (await db.selectFrom('api_keys').select(['id', 'tenant_id', 'name', 'last_used_at']).where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst()) ?? null);
  if (!row) throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', 'unknown or revoked API key');
  // Admins see when a key was last used; once a minute is precise enough and keeps writes rare.
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
    row.last_used_at = new Date();
    await db.updateTable('api_keys').set({ last_used_at: row.last_used_at }).where('id', '=', row.id).execute();
  }
  return { tenantId: row.tenant_id, role: 'admin', userId: null, name: `API key ${row.name}`, via: 'api-key' };
}
