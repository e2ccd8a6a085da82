import type { SmsProvider } from '../provider.ts';
import type { SmsProviderName } from '../settings.ts';
import { kannel } from './kannel.ts';
import { twilio } from './twilio.ts';
import { sinch } from './sinch.ts';
import { vonage } from './vonage.ts';
import { smpp } from './smpp.ts';

/** The SMS providers Parley speaks; an inbox picks one by `settings.sms.provider`. A new provider adds its line here. */
export const smsProviders: Partial<Record<SmsProviderName, SmsProvider>> = {
  kannel,
  twilio,
  sinch,
  vonage,
  smpp,
};

export function smsProviderFor(name: SmsProviderName): SmsProvider | null {
  return smsProviders[name] ?? null;
}
