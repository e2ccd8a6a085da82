import type { Db } from '../db/database.ts';
import { newId } from '../ids.ts';
import { ParleyError } from '../errors.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/password.ts';
import { createApiKey } from '../auth/api-keys.ts';

export interface CreateTenantInput {
  name: string;
  adminEmail: string;
  adminPassword: string;
  adminName?: string;
}

/** A new tenant with its first admin and an API key for that admin's scripts. */
export async function createTenant(db: Db, input: CreateTenantInput) {
  const name = input.name.trim();
  const email = input.adminEmail.trim().toLowerCase();
  if (!name) throw new ParleyError('PARLEY_ERR_VALIDATION', 'tenant name is required');
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new ParleyError('PARLEY_ERR_VALIDATION', 'admin email is not an email address');
  if (input.adminPassword.length < MIN_PASSWORD_LENGTH) {
    throw new ParleyError('PARLEY_ERR_VALIDATION', `admin password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const taken = await db.selectFrom('users').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', email)).executeTakeFirst();
  if (taken) throw new ParleyError('PARLEY_ERR_EMAIL_TAKEN', `a user with email ${email} already exists`);

  const tenantId = newId('ten');
  const userId = newId('usr');
  const passwordHash = await hashPassword(input.adminPassword);
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('tenants').values({ id: tenantId, name }).execute();
    await trx.insertInto('tenant_event_seq').values({ tenant_id: tenantId, seq: 0 }).execute();
    await trx
      .insertInto('users')
      .values({ id: userId, tenant_id: tenantId, email, name: input.adminName ?? 'Admin', role: 'admin', locale: 'en', password_hash: passwordHash })
      .execute();
  });
  const apiKey = await createApiKey(db, tenantId, 'initial admin key', userId);
  return { tenantId, tenantName: name, adminUserId: userId, adminEmail: email, apiKey: apiKey.key };
}
