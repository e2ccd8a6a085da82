import { parsePhoneNumberFromString, isSupportedCountry } from 'libphonenumber-js/max';

/**
 * The countries an E.164 number may belong to: one when its prefix and number plan say which
 * (`+5215512345678` → MX, `+14155550100` → US), several when only the calling code is known
 * (`+44 7…` could be GB, GG, IM or JE), none when it is not a phone number.
 */
export function countriesOfNumber(number: string): string[] {
  const parsed = parsePhoneNumberFromString(number.startsWith('+') ? number : `+${number}`);
  if (!parsed) return [];
  if (parsed.country) return [parsed.country];
  return parsed.getPossibleCountries();
}

/**
 * Is this an E.164 number (`+`, a calling code that exists, at most 15 digits)? Not stricter:
 * numbering plans change (Mexico dropped the mobile `1` in 2019) and providers still deliver
 * the old forms, so plan-level validity is the carrier's call.
 */
export function isE164(number: string): boolean {
  return /^\+[1-9][0-9]{6,14}$/.test(number) && parsePhoneNumberFromString(number) !== undefined;
}

/** An ISO 3166-1 alpha-2 code Parley knows a numbering plan of. */
export function isKnownCountry(code: string): boolean {
  return isSupportedCountry(code);
}

/**
 * The first listed country the number may belong to, or null. An ambiguous number counts as
 * from a listed country when any of its possible countries is listed: refusing is the safe side.
 */
export function unavailableCountryOf(number: string | null, unavailable: readonly string[]): string | null {
  if (!number || unavailable.length === 0) return null;
  return countriesOfNumber(number).find((c) => unavailable.includes(c)) ?? null;
}
