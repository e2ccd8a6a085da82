import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { ParleyError } from '../errors.ts';

/** Failed logins allowed per window: for one email (guessing a password), and from one address (trying many emails). */
export const MAX_FAILURES_PER_EMAIL = 10;
export const MAX_FAILURES_PER_ADDRESS = 50;
const WINDOW_MINUTES = 15;

const keysOf = (email: string, address: string) => ({ email: `email:${email.trim().toLowerCase()}`, address: `ip:${address}` });

/**
 * Refuses a login attempt (429, with the minutes to wait; the error handler turns
 * `retryAfterSeconds` into Retry-After) while the email or the client address
 * has too many failures in the current window. Counted in PostgreSQL, so every node sees the same
 * counts; the window is the database clock's. Unknown emails count like known ones, so the
 * answer tells nothing about which exist.
 */
export async function assertMayTryLogin(db: Db, email: string, address: string): Promise<void> {
  const keys = keysOf(email, address);
  const { rows } = await sql<{ key: string; count: number; retry_seconds: number }>`
    SELECT key, count, ceil(extract(epoch FROM window_start + make_interval(mins => ${WINDOW_MINUTES}) - now()))::int AS retry_seconds
    FROM login_failures
    WHERE key IN (${keys.email}, ${keys.address}) AND window_start = ${windowStart()}`.execute(db);
  const blocked = rows.find((r) => r.count >= (r.key === keys.email ? MAX_FAILURES_PER_EMAIL : MAX_FAILURES_PER_ADDRESS));
  if (blocked) {
    const minutes = Math.max(1, Math.ceil(blocked.retry_seconds / 60));
    throw new ParleyError('PARLEY_ERR_RATE_LIMITED', `too many failed logins; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`, { retryAfterSeconds: Math.max(1, blocked.retry_seconds) });
  }
}

/** Counts a failed attempt against the email and the address; older windows are cleared on the way. */
export async function recordLoginFailure(db: Db, email: string, address: string): Promise<void> {
  const keys = keysOf(email, address);
  await sql`
    WITH cleared AS (DELETE FROM login_failures WHERE key IN (${keys.email}, ${keys.address}) AND window_start < ${windowStart()})
    INSERT INTO login_failures (key, window_start, count)
    VALUES (${keys.email}, ${windowStart()}, 1), (${keys.address}, ${windowStart()}, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = login_failures.count + 1`.execute(db);
}

/** A successful login clears the email's failures (not the address's: one right password does not vouch for other accounts). */
export async function clearLoginFailures(db: Db, email: string): Promise<void> {
  await db.deleteFrom('login_failures').where('key', '=', keysOf(email, '').email).execute();
}

/** Start of the current window on the database's clock. */
function windowStart() {
  return sql<Date>`to_timestamp(floor(extract(epoch FROM now()) / ${WINDOW_MINUTES * 60}) * ${WINDOW_MINUTES * 60})`;
}
