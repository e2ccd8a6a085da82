const DEFAULT_ACCENT = '#2563eb';

/** Accepts only `#rgb`/`#rrggbb` colours from the server, so the value can't smuggle other CSS. */
export function safeColor(value: unknown): string {
  if (typeof value !== 'string') return DEFAULT_ACCENT;
  const v = value.trim();
  if (/^#[0-9a-f]{6}$/i.test(v)) return v.toLowerCase();
  if (/^#[0-9a-f]{3}$/i.test(v)) return ('#' + v[1] + v[1] + v[2] + v[2] + v[3] + v[3]).toLowerCase();
  return DEFAULT_ACCENT;
}

/** Black or white, whichever reads better on the accent (WCAG relative luminance). */
export function textColorOn(hex: string): '#ffffff' | '#111827' {
  const c = safeColor(hex);
  const channel = (i: number): number => {
    const v = parseInt(c.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const lum = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  // Contrast with white vs with near-black; prefer white on mid tones (brand colours look better).
  return (1.05 / (lum + 0.05)) >= 3 ? '#ffffff' : '#111827';
}
