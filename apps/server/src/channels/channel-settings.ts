import type { ChannelType } from '../db/schema.ts';
import { hostOf } from '../net/private-targets.ts';

/** Where an inbox of each channel type keeps its channel settings: `inbox.settings[key]`. */
export const channelSettingsKey: Partial<Record<ChannelType, ChannelSettingsKey>> = {
  email: 'email',
  sms: 'sms',
  whatsapp: 'meta',
  messenger: 'meta',
  instagram: 'meta',
};

export type ChannelSettingsKey = 'email' | 'sms' | 'meta';
export const CHANNEL_SETTINGS_KEYS: ChannelSettingsKey[] = ['email', 'sms', 'meta'];

/**
 * Write-only fields of channel settings, at any depth: accepted on create and update, never
 * returned. The API shows `<name>Set: true` instead (`passwordSet`, `authTokenSet` …).
 */
const SECRET_FIELDS = new Set(['password', 'authToken', 'apiToken', 'apiSecret', 'signatureSecret', 'callbackSecret', 'appSecret', 'accessToken', 'verifyToken', 'webhookToken', 'privateKey']);

/** Fields of channel settings that name where Parley connects (see net/private-targets.ts): provider URLs, and mail and SMPP servers. */
const PROVIDER_URL_FIELDS = new Set(['baseUrl', 'sendUrl', 'graphBaseUrl']);
const PROVIDER_HOST_FIELDS = new Set(['host']);

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The hosts Parley connects to for (a part of) an inbox's settings, at any depth: those of provider URLs, and server hosts. */
export function providerHostsOf(settings: unknown): string[] {
  if (!isPlain(settings)) return [];
  return Object.entries(settings).flatMap(([key, value]) => {
    if (typeof value !== 'string') return providerHostsOf(value);
    if (PROVIDER_HOST_FIELDS.has(key)) return [value];
    return PROVIDER_URL_FIELDS.has(key) && URL.canParse(value) ? [hostOf(new URL(value))] : [];
  });
}

/** Settings as the API shows them: each secret replaced by `<name>Set`. */
export function redactSecrets<T>(settings: T): T {
  if (!isPlain(settings)) return settings;
  const out: Plain = {};
  for (const [key, value] of Object.entries(settings)) {
    if (SECRET_FIELDS.has(key)) out[`${key}Set`] = Boolean(value);
    else if (!(key.endsWith('Set') && SECRET_FIELDS.has(key.slice(0, -3)))) out[key] = redactSecrets(value);
  }
  return out as T;
}

/** An update that leaves a secret out keeps the stored one (the API never shows it back); `<name>Set` flags are dropped. */
export function keepSecrets<T>(current: T | null | undefined, next: T): T {
  if (!isPlain(next)) return next;
  const old: Plain = isPlain(current) ? current : {};
  const out: Plain = {};
  for (const [key, value] of Object.entries(next)) {
    if (key.endsWith('Set') && SECRET_FIELDS.has(key.slice(0, -3))) continue;
    out[key] = isPlain(value) ? keepSecrets(old[key], value) : value;
  }
  for (const key of SECRET_FIELDS) if (out[key] === undefined && old[key] !== undefined && key in old) out[key] = old[key];
  return out as T;
}
