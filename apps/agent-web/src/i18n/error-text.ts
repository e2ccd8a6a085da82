import { ApiError } from '../api/client';
import type { MessageKey, Translate } from './i18n';

/** What each error code the server answers with means for the person who met it. */
const meaning: Record<string, MessageKey> = {
  PARLEY_ERR_VALIDATION: 'error.invalid',
  PARLEY_ERR_MALFORMED_JSON: 'error.invalid',
  PARLEY_ERR_BAD_REQUEST: 'error.invalid',
  PARLEY_ERR_UNAUTHENTICATED: 'error.signedOut',
  PARLEY_ERR_SESSION_EXPIRED: 'error.signedOut',
  PARLEY_ERR_INVALID_CREDENTIALS: 'login.invalid',
  PARLEY_ERR_CSRF: 'error.staleCsrf',
  PARLEY_ERR_FORBIDDEN: 'error.forbidden',
  PARLEY_ERR_NOT_FOUND: 'error.notFound',
  PARLEY_ERR_CONFLICT: 'error.conflict',
  PARLEY_ERR_INVITATION_USED: 'error.invitationUsed',
  PARLEY_ERR_EMAIL_TAKEN: 'error.emailTaken',
  PARLEY_ERR_PAYLOAD_TOO_LARGE: 'error.tooLarge',
  PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE: 'error.unsupportedType',
  PARLEY_ERR_NOT_SUPPORTED: 'error.notPossible',
  PARLEY_ERR_COUNTRY_UNAVAILABLE: 'error.notPossible',
  PARLEY_ERR_NUMBER_NOT_OWNED: 'error.notPossible',
  PARLEY_ERR_TARGET_NOT_ALLOWED: 'error.notPossible',
  PARLEY_ERR_OPTED_OUT: 'error.optedOut',
  PARLEY_ERR_CHANNEL_WINDOW_CLOSED: 'error.windowClosed',
  PARLEY_ERR_RATE_LIMITED: 'error.rateLimited',
  PARLEY_ERR_INTERNAL: 'error.generic',
  PARLEY_ERR_HTTP: 'error.generic',
  PARLEY_ERR_NETWORK: 'error.network',
  PARLEY_ERR_ROUTING_NO_CAPACITY: 'routingError.noCapacity',
  PARLEY_ERR_ROUTING_AGENT_UNAVAILABLE: 'routingError.unavailable',
  PARLEY_ERR_ROUTING_AGENT_LACKS_SKILL: 'routingError.lacksSkill',
  PARLEY_ERR_ROUTING_AGENT_NOT_ELIGIBLE: 'routingError.notEligible',
  PARLEY_ERR_ROUTING_ITEM_NOT_WAITING: 'routingError.notWaiting',
  PARLEY_ERR_ROUTING_ITEM_NOT_ASSIGNED: 'routingError.beingOffered',
  PARLEY_ERR_ROUTING_OFFER_NOT_FOUND: 'routingError.offerGone',
  PARLEY_ERR_ROUTING_OFFER_EXPIRED: 'routingError.offerExpired',
  PARLEY_ERR_ROUTING_OFFER_CLOSED: 'routingError.offerGone',
  PARLEY_ERR_ROUTING_ALREADY_ACCEPTED: 'routingError.offerGone',
  PARLEY_ERR_ROUTING_NOT_OFFERED_TO_AGENT: 'routingError.offerGone',
  PARLEY_ERR_ROUTING_CAPACITY_BELOW_LOAD: 'routingError.capacityBelowLoad',
  PARLEY_ERR_ROUTING_INVALID_CAPACITY: 'error.invalid',
  PARLEY_ERR_ROUTING_INVALID_CONFIG: 'error.invalid',
  PARLEY_ERR_ROUTING_INVALID_BUSINESS_HOURS: 'error.invalid',
  PARLEY_ERR_ROUTING_UNKNOWN_QUEUE: 'error.notFound',
  PARLEY_ERR_ROUTING_UNKNOWN_AGENT: 'error.notFound',
  PARLEY_ERR_ROUTING_UNKNOWN_ITEM: 'error.notFound',
};

/**
 * Codes whose server message carries what the meaning alone cannot say (which field, which
 * rule, which limit): it follows the translated meaning, as the server wrote it.
 */
const detailed = new Set([
  'PARLEY_ERR_VALIDATION',
  'PARLEY_ERR_MALFORMED_JSON',
  'PARLEY_ERR_BAD_REQUEST',
  'PARLEY_ERR_FORBIDDEN',
  'PARLEY_ERR_CONFLICT',
  'PARLEY_ERR_PAYLOAD_TOO_LARGE',
  'PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE',
  'PARLEY_ERR_NOT_SUPPORTED',
  'PARLEY_ERR_COUNTRY_UNAVAILABLE',
  'PARLEY_ERR_NUMBER_NOT_OWNED',
  'PARLEY_ERR_TARGET_NOT_ALLOWED',
  'PARLEY_ERR_CHANNEL_WINDOW_CLOSED',
  'PARLEY_ERR_ROUTING_INVALID_CAPACITY',
  'PARLEY_ERR_ROUTING_INVALID_CONFIG',
  'PARLEY_ERR_ROUTING_INVALID_BUSINESS_HOURS',
]);

/** An error as the person should read it: in their language, with the server's specifics where they matter. */
export function errorText(t: Translate, err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  // Work offered to someone else cannot be taken from under the offer.
  if (err.code === 'PARLEY_ERR_ROUTING_ITEM_NOT_WAITING' && (err.details as { state?: string } | undefined)?.state === 'offered') return t('routingError.offeredToAnother');
  const key = meaning[err.code];
  if (!key) return err.message;
  return detailed.has(err.code) && err.message ? t('error.withDetail', { meaning: t(key), detail: err.message }) : t(key);
}
