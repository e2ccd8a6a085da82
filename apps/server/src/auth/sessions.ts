import type { Db } from '../db/database.ts';
import { newToken, sha256 } from '../ids.ts';
import { ParleyError } from '../errors.ts';
import type { Principal } from './principal.ts';

export const SESSION_COOKIE = 'parley_session';

export async function createSession(db: Db, user: { id: string; tenant_id: string }, ttlHours: number) {
  const token = newToken('ps');
  const csrfToken = newToken('csrf', 24);
  await db
    .insertInto('sessions')
    .values({
      id: sha256(token),
      tenant_id: user.tenant_id,
      user_id: user.id,
      csrf_token: csrfToken,
      expires_at: new Date(Date.now() + ttlHours * 3_600_000),
    })
    .execute();
  return { token, csrfToken };
}

/** Resolves a session cookie; an expired session is deleted and reported as such. */
export async function principalFromSession(db: Db, token: string): Promise<Principal> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.tenant_id', 's.expires_at', 's.csrf_token', 'u.id as user_id', 'u.role', 'u.name'])
    .where('s.id', '=', sha256(token))
    .executeTakeFirst();
  if (!row) throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', 'not logged in');
  if (row.expires_at.getTime() <= Date.now()) {
    await db.deleteFrom('sessions').where('id', '=', row.id).execute();
    throw new ParleyError('PARLEY_ERR_SESSION_EXPIRED', 'session expired: log in again');
  }
  return {
    tenantId: row.tenant_id,
    role: row.role,
    userId: row.user_id,
    name: row.name,
    via: 'session',
    sessionId: row.id,
    csrfToken: row.csrf_token,
  };
}

export async function endSession(db: Db, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

export async function endOtherSessions(db: Db, userId: string, keepSessionId: string | undefined): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepSessionId) q = q.where('id', '!=', keepSessionId);
  await q.execute();
}
