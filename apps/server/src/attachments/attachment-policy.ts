/**
 * Which files Parley accepts, and how it serves them back. Only raster images whose bytes
 * match their declared type are shown inline; everything else (SVG and HTML included, which
 * can carry script) is served as a download under a sandboxing Content-Security-Policy.
 */
const ACCEPTED = new Set([
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml',
  'application/pdf', 'text/plain', 'text/csv', 'text/html',
  'application/zip', 'application/json',
  'audio/mpeg', 'audio/ogg', 'audio/wav', 'video/mp4', 'video/webm',
  'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
]);

const MAGIC: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => b.subarray(0, 4).toString('latin1') === 'GIF8',
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

export function isAcceptedType(contentType: string): boolean {
  return ACCEPTED.has(contentType.toLowerCase());
}

/** The type recorded for a file: raster images only when their first bytes agree. */
export function effectiveType(declared: string, head: Buffer): string {
  const type = declared.toLowerCase();
  const check = MAGIC[type];
  if (check) return check(head) ? type : 'application/octet-stream';
  return type;
}

export function servesInline(contentType: string): boolean {
  return contentType in MAGIC;
}

export function sanitizeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? 'file';
  const clean = base.replace(/[^\p{L}\p{N} ._()-]/gu, '_').slice(0, 150).trim();
  return clean || 'file';
}
