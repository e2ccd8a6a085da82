import type { MetaChannel } from './meta-webhook.ts';
import type { MetaSettings } from './settings.ts';

const HOUR = 3_600_000;
/** Meta's customer-service window: free-form messages within 24 hours of the customer's last message. */
export const STANDARD_WINDOW_MS = 24 * HOUR;
/** Messenger/Instagram with the HUMAN_AGENT tag: a human may answer for 7 days. */
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR;

export interface MetaSendWindow {
  freeText: boolean;
  closesAt: Date | null;
  /** How free text goes out now: inside the 24 h (RESPONSE), by the HUMAN_AGENT tag, or not at all. */
  mode: 'response' | 'human-agent' | 'closed';
}

/**
 * When free text may be sent. WhatsApp: 24 h after the customer's last message, then templates
 * only. Messenger and Instagram: 24 h as a standard RESPONSE, then, for an app with the Human
 * Agent permission (settings.humanAgentTag), until 7 days with the HUMAN_AGENT tag.
 */
export function metaSendWindow(channel: MetaChannel, lastInboundAt: Date | null, now: Date, settings?: Pick<MetaSettings, 'humanAgentTag'> | null): MetaSendWindow {
  if (!lastInboundAt) return { freeText: false, closesAt: null, mode: 'closed' };
  const standardEnd = new Date(lastInboundAt.getTime() + STANDARD_WINDOW_MS);
  if (now < standardEnd) {
    const extended = channel !== 'whatsapp' && settings?.humanAgentTag === true;
    return { freeText: true, closesAt: extended ? new Date(lastInboundAt.getTime() + HUMAN_AGENT_WINDOW_MS) : standardEnd, mode: 'response' };
  }
  if (channel !== 'whatsapp' && settings?.humanAgentTag === true) {
    const humanEnd = new Date(lastInboundAt.getTime() + HUMAN_AGENT_WINDOW_MS);
    if (now < humanEnd) return { freeText: true, closesAt: humanEnd, mode: 'human-agent' };
  }
  return { freeText: false, closesAt: standardEnd, mode: 'closed' };
}
