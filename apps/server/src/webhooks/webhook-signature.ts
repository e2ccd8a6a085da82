import { createHmac } from 'node:crypto';
import { safeEqual } from '../ids.ts';

/**
 * Parley signs each webhook body as `v1=hex(HMAC-SHA256(secret, "<timestamp>.<raw body>"))`, sent
 * in `X-Parley-Signature` with the timestamp (unix seconds) in `X-Parley-Timestamp`. Receivers
 * recompute it over the raw body and reject timestamps older than a few minutes (replay).
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function verifyWebhook(secret: string, timestamp: number, body: string, signature: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!Number.isFinite(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  return safeEqual(signWebhook(secret, timestamp, body), signature);
}
