/**
 * Clock-style durations for the routing UI: offer countdowns, time in state, waiting times.
 * Digits and colons only, so they read the same in every language of the app.
 */

/** Remaining time of a countdown, `m:ss` (rounded up: it shows 0:01 until the very end, never below 0:00). */
export function formatCountdown(remainingMs: number): string {
  if (!Number.isFinite(remainingMs) || remainingMs <= 0) return '0:00';
  return clock(Math.ceil(remainingMs / 1000));
}

/** Elapsed time, `m:ss` under an hour, `h:mm:ss` from one hour, `Nd h:mm:ss` from one day (rounded down). */
export function formatElapsed(elapsedMs: number): string {
  if (!Number.isFinite(elapsedMs) || elapsedMs <= 0) return '0:00';
  return clock(Math.floor(elapsedMs / 1000));
}

function clock(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86_400);
  const h = Math.floor((totalSeconds % 86_400) / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const ss = String(s).padStart(2, '0');
  if (days > 0) return `${days}d ${h}:${String(m).padStart(2, '0')}:${ss}`;
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${ss}`;
  return `${m}:${ss}`;
}

/**
 * A short span for due times ("12m", "3h 05m", "2d 4h"), rounded towards the larger unit's
 * precision a human needs: seconds only under a minute.
 */
export function formatSpan(ms: number): string {
  const total = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  const days = Math.floor(hours / 24);
  return `${days}d ${hours % 24}h`;
}

/** Fraction (0–1) of the offer window still left, for the countdown bar. */
export function remainingFraction(now: number, offeredAt: number, expiresAt: number): number {
  const span = expiresAt - offeredAt;
  if (!(span > 0)) return now < expiresAt ? 1 : 0;
  return Math.min(1, Math.max(0, (expiresAt - now) / span));
}
