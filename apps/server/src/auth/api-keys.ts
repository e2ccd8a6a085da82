import type { Db } from '../db/database.ts';
import { newId, newToken, sha256 } from '../ids.ts';
import { ParleyError } from '../errors.ts';
import type { Principal } from './principal.ts';

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

export async function principalFromApiKey(db: Db, key: string): Promise<Principal> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'tenant_id', 'name', 'last_used_at'])
    .where('key_hash', '=', sha256(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', 'unknown or revoked API key');
  // Admins see when a key was last used; once a minute is precise enough and keeps writes rare.
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
    await db.updateTable('api_keys').set({ last_used_at: new Date() }).where('id', '=', row.id).execute();
  }
  return { tenantId: row.tenant_id, role: 'admin', userId: null, name: `API key ${row.name}`, via: 'api-key' };
}
