const palette = ['#5b6cf0', '#0f9d8a', '#d9480f', '#ae3ec9', '#1c7ed6', '#e8590c', '#2f9e44', '#c2255c', '#6741d9', '#0b7285'];

export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...(words[0] ?? '')][0] ?? '';
  const last = words.length > 1 ? [...(words[words.length - 1] ?? '')][0] ?? '' : '';
  return (first + last).toUpperCase();
}

export function colorFor(seed: string): string {
  let h = 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) | 0;
  return palette[Math.abs(h) % palette.length] ?? '#5b6cf0';
}

export function Avatar({ name, size = 32, seed }: { name: string; size?: number; seed?: string }) {
  return (
    <span className="avatar" aria-hidden="true"
      style={{ width: size, height: size, fontSize: Math.round(size * 0.4), background: colorFor(seed ?? name) }}>
      {initials(name)}
    </span>
  );
}
