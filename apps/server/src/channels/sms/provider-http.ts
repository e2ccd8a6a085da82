import { timingSafeEqual } from 'node:crypto';
import type { SendResult } from '../channel.ts';
import { guardedFetch } from '../../net/guarded-fetch.ts';
import { TargetRefusedError, type PrivateTargets } from '../../net/private-targets.ts';

/** How long one provider request may take: a send that hangs is retried by the queue, not waited on. */
export const PROVIDER_TIMEOUT_MS = 15_000;

export interface ProviderAnswer {
  status: number;
  text: string;
  /** The body as JSON, or null when it is not JSON. */
  json: unknown;
}

/**
 * One request to a provider's REST API. A connection failure or timeout comes back as a
 * retryable SendResult instead of a throw, so every provider classifies the same way. The base
 * URL is the tenant's setting: an address inside the server's network is refused for good.
 */
export async function providerRequest(url: string, init: RequestInit, privateTargets: PrivateTargets): Promise<ProviderAnswer | Extract<SendResult, { ok: false }>> {
  const signal = AbortSignal.timeout(PROVIDER_TIMEOUT_MS);
  try {
    const res = await guardedFetch(url, { ...init, redirect: 'error', signal, privateTargets });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, text, json };
  } catch (err) {
    if (err instanceof TargetRefusedError) return { ok: false, retryable: false, error: `${new URL(url).host} refused: ${err.message}` };
    const code = (err as { code?: string }).code;
    const why = signal.aborted ? `no answer within ${PROVIDER_TIMEOUT_MS / 1000} s` : (code ?? (err as Error).message);
    return { ok: false, retryable: true, error: `${new URL(url).host} unreachable: ${why}` };
  }
}

export const isFailure = (a: ProviderAnswer | Extract<SendResult, { ok: false }>): a is Extract<SendResult, { ok: false }> => 'ok' in a;

/**
 * A provider's HTTP refusal as a send result: 429 and 5xx pass later (retried with backoff),
 * any other 4xx will not (the message fails at once with the provider's words).
 */
export function refusal(provider: string, answer: ProviderAnswer, providerText: string | null): Extract<SendResult, { ok: false }> {
  const retryable = answer.status === 429 || answer.status >= 500;
  const text = (providerText ?? answer.text).replace(/\s+/g, ' ').trim().slice(0, 500) || 'no reason given';
  return { ok: false, retryable, error: `${provider} HTTP ${answer.status}: ${text}` };
}

export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Compares a received signature or token with the expected one without leaking where they differ. */
export function sameSecret(received: string, expected: string): boolean {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** application/x-www-form-urlencoded → name → values in order (a name may repeat). */
export function parseForm(body: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body)) out.set(name, [...(out.get(name) ?? []), value]);
  return out;
}

/** The first value of each name: what providers mean by their flat parameters. */
export function firstValues(form: Map<string, string[]>): Record<string, string> {
  return Object.fromEntries([...form].map(([k, v]) => [k, v[0] ?? '']));
}

/** A provider's number (`+521…`, `521…`, `tel:+521…`) as E.164 with its plus; other senders (short codes, alphanumeric ids) as given. */
export function toE164(number: string): string {
  const trimmed = number.trim().replace(/^tel:/i, '');
  const digits = trimmed.replace(/[\s().-]/g, '');
  return /^\+?[1-9][0-9]{6,14}$/.test(digits) ? `+${digits.replace(/^\+/, '')}` : trimmed;
}
