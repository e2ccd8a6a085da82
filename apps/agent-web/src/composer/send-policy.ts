/**
 * What the composer may do in a conversation, from the server's send policy (consent, unavailable
 * countries, WhatsApp's 24-hour window), and the filling of a template's `{{n}}` parameters.
 */
import type { ChannelType, SendPolicy, WhatsAppTemplate } from '../api/types';
import type { MessageKey } from '../i18n/i18n';

/** Channels whose conversations have a send policy (a provider may refuse, a window may close). */
export function hasSendPolicy(channel: ChannelType | undefined): boolean {
  return channel === 'sms' || channel === 'whatsapp' || channel === 'messenger' || channel === 'instagram';
}

export interface ComposerPolicyView {
  /** A free-text reply may be sent (private notes are always possible). */
  replyAllowed: boolean;
  /** Why not, in the agent's language; null when nothing needs saying. */
  notice: { key: MessageKey; tone: 'blocked' | 'templates' } | null;
  /** The window is closed but approved templates can still go out. */
  offerTemplates: boolean;
  /** Milliseconds until the window closes (open window only); null: no window or closed. */
  windowRemainingMs: number | null;
}

const reasonKeys: Record<NonNullable<SendPolicy['reason']>, MessageKey> = {
  opted_out: 'policy.optedOut',
  country_unavailable: 'policy.countryUnavailable',
  window_closed: 'policy.windowClosed',
  no_channel: 'policy.noChannel',
};

/** No policy yet (loading, or a channel without one): the composer works as it always did. */
const OPEN: ComposerPolicyView = { replyAllowed: true, notice: null, offerTemplates: false, windowRemainingMs: null };

export function composerPolicyView(policy: SendPolicy | null, now: number): ComposerPolicyView {
  if (!policy) return OPEN;
  const closesAt = policy.windowClosesAt ? Date.parse(policy.windowClosesAt) : NaN;
  // The window may have closed since the policy was fetched: the clock decides, not a stale flag.
  const windowLapsed = Number.isFinite(closesAt) && closesAt <= now;
  if (!policy.canSend) {
    return { replyAllowed: false, notice: { key: policy.reason ? reasonKeys[policy.reason] : 'policy.cannotSend', tone: 'blocked' }, offerTemplates: false, windowRemainingMs: null };
  }
  if (!policy.freeText || windowLapsed) {
    const offerTemplates = policy.templates.length > 0;
    return {
      replyAllowed: false,
      notice: { key: offerTemplates ? 'policy.windowClosed' : 'policy.windowClosedNoTemplates', tone: 'templates' },
      offerTemplates,
      windowRemainingMs: null,
    };
  }
  return { replyAllowed: true, notice: null, offerTemplates: false, windowRemainingMs: Number.isFinite(closesAt) ? closesAt - now : null };
}

/** When to look at the policy again by the clock alone: the moment the window closes (null: never). */
export function policyRefreshDelay(policy: SendPolicy | null, now: number): number | null {
  if (!policy?.windowClosesAt || !policy.freeText) return null;
  const delay = Date.parse(policy.windowClosesAt) - now;
  return Number.isFinite(delay) ? Math.max(0, delay) + 500 : null;
}

/** The parameter numbers a template body uses, in order: `Hi {{1}}, order {{2}}` → [1, 2]. */
export function templateParameters(body: string): number[] {
  const found = new Set<number>();
  for (const m of body.matchAll(/\{\{\s*(\d+)\s*\}\}/g)) found.add(Number(m[1]));
  return [...found].filter((n) => n > 0).sort((a, b) => a - b);
}

/**
 * The `parameters` array of a template send: position n-1 holds `{{n}}`, so a body using {{1}} and
 * {{3}} still needs three values; null while one of those the body uses is empty.
 */
export function templateParameterValues(template: WhatsAppTemplate, values: Record<number, string>): string[] | null {
  const used = templateParameters(template.body);
  const count = used.length ? used[used.length - 1]! : 0;
  const out: string[] = [];
  for (let n = 1; n <= count; n++) {
    const v = (values[n] ?? '').trim();
    if (!v && used.includes(n)) return null;
    out.push(v);
  }
  return out;
}

/** The body as the customer will read it; unfilled parameters stay as `{{n}}`. */
export function fillTemplate(body: string, values: Record<number, string>): string {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, n: string) => {
    const v = (values[Number(n)] ?? '').trim();
    return v || whole;
  });
}

/** "3 h", "45 min": the rest of a window, coarse (a window lasts a day; seconds do not matter). */
export function windowRemaining(ms: number): { value: number; unit: 'hour' | 'minute' } {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  if (minutes >= 120) return { value: Math.floor(minutes / 60), unit: 'hour' };
  return { value: minutes, unit: 'minute' };
}
