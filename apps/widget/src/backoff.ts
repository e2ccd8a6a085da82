export interface BackoffOptions {
  /** Delay of the first retry, in ms. */
  base: number;
  /** Upper bound of any delay, in ms. */
  max: number;
}

export const SOCKET_BACKOFF: BackoffOptions = { base: 500, max: 30_000 };

/**
 * Exponential backoff with "equal jitter": half the exponential delay is fixed, the other
 * half random, so thousands of widgets that lost the same server do not reconnect in step.
 * `attempt` starts at 0.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = SOCKET_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(opts.max, opts.base * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (exp / 2) * random());
}
