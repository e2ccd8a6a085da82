/** "3 minutes ago", "in 2 hours": the largest unit that fits, for Intl.RelativeTimeFormat. */
export function relativeParts(thenMs: number, nowMs: number): { value: number; unit: Intl.RelativeTimeFormatUnit } {
  const diff = thenMs - nowMs;
  const abs = Math.abs(diff);
  const sign = diff < 0 ? -1 : 1;
  const steps: [number, Intl.RelativeTimeFormatUnit][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute']];
  for (const [size, unit] of steps) if (abs >= size) return { value: sign * Math.floor(abs / size), unit };
  return { value: sign * Math.floor(abs / 1000), unit: 'second' };
}

export function formatRelative(iso: string, nowMs: number, locale: string): string {
  const then = Date.parse(iso);
  if (!Number.isFinite(then)) return '';
  const { value, unit } = relativeParts(then, nowMs);
  return new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(value, unit);
}
