import type { SmsProvider } from '../provider.ts';
import type { SmsProviderName } from '../settings.ts';

/** The SMS providers Parley speaks; an inbox picks one by `settings.sms.provider`. A new provider adds its line here. */
export const smsProviders: Partial<Record<SmsProviderName, SmsProvider>> = {};

export function smsProviderFor(name: SmsProviderName): SmsProvider | null {
  return smsProviders[name] ?? null;
}
