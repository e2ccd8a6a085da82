import { randomBytes, randomUUID, createHash, timingSafeEqual } from 'node:crypto';

/** Opaque ids: a short prefix says what the id names (`cnv_…`, `msg_…`), the rest is random. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

/** A secret token for people and machines (session cookies, API keys, invitations). */
export function newToken(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
