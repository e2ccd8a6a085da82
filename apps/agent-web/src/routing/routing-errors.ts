import { ApiError, errorMessage } from '../api/client';
import type { MessageKey, Translate } from '../i18n/i18n';

/** Routing refusals a person can meet from a conversation's header (take, transfer), in their language. */
const routingErrorKeys: Record<string, MessageKey> = {
  PARLEY_ERR_ROUTING_NO_CAPACITY: 'routingError.noCapacity',
  PARLEY_ERR_ROUTING_AGENT_UNAVAILABLE: 'routingError.unavailable',
  PARLEY_ERR_ROUTING_AGENT_LACKS_SKILL: 'routingError.lacksSkill',
  PARLEY_ERR_ROUTING_AGENT_NOT_ELIGIBLE: 'routingError.notEligible',
  PARLEY_ERR_ROUTING_ITEM_NOT_WAITING: 'routingError.notWaiting',
  PARLEY_ERR_ROUTING_ITEM_NOT_ASSIGNED: 'routingError.beingOffered',
};

/** The refusal in the user's language when routing gave a known reason; otherwise the server's message. */
export function routingErrorText(t: Translate, err: unknown): string {
  const key = err instanceof ApiError ? routingErrorKeys[err.code] : undefined;
  return key ? t(key) : errorMessage(err);
}
