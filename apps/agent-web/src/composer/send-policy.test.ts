import { describe, expect, it } from 'vitest';
import type { SendPolicy } from '../api/types';
import {
  composerPolicyView, fillTemplate, hasSendPolicy, policyRefreshDelay, templateParameterValues, templateParameters, windowRemaining,
} from './send-policy';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const greeting = { name: 'order_update', language: 'es_MX', body: 'Hola {{1}}, tu pedido {{2}} va en camino.' };
const open: SendPolicy = {
  canSend: true, freeText: true, reason: null, message: null, windowClosesAt: '2026-11-22T15:00:00Z', templates: [greeting],
};

describe('composer send policy', () => {
  it('only provider channels have a policy', () => {
    expect(['sms', 'whatsapp', 'messenger', 'instagram'].every((c) => hasSendPolicy(c as never))).toBe(true);
    expect(hasSendPolicy('webchat')).toBe(false);
    expect(hasSendPolicy('email')).toBe(false);
    expect(hasSendPolicy(undefined)).toBe(false);
  });

  it('an open window allows replies and says how long it stays open', () => {
    const v = composerPolicyView(open, NOW);
    expect(v).toEqual({ replyAllowed: true, notice: null, offerTemplates: false, windowRemainingMs: 3 * 3600_000 });
  });

  it('no policy yet leaves the composer as it was', () => {
    expect(composerPolicyView(null, NOW).replyAllowed).toBe(true);
  });

  it('an opted-out contact blocks replies with the STOP explanation and offers no templates', () => {
    const v = composerPolicyView({ ...open, canSend: false, freeText: false, reason: 'opted_out' }, NOW);
    expect(v).toEqual({ replyAllowed: false, notice: { key: 'policy.optedOut', tone: 'blocked' }, offerTemplates: false, windowRemainingMs: null });
  });

  it('an unavailable country and a missing channel say so', () => {
    expect(composerPolicyView({ ...open, canSend: false, reason: 'country_unavailable' }, NOW).notice?.key).toBe('policy.countryUnavailable');
    expect(composerPolicyView({ ...open, canSend: false, reason: 'no_channel' }, NOW).notice?.key).toBe('policy.noChannel');
    expect(composerPolicyView({ ...open, canSend: false, reason: null }, NOW).notice?.key).toBe('policy.cannotSend');
  });

  it('a closed window offers the templates, or says none are set up', () => {
    const closed = { ...open, freeText: false, reason: 'window_closed' as const, windowClosesAt: '2026-11-21T10:00:00Z' };
    expect(composerPolicyView(closed, NOW)).toEqual({ replyAllowed: false, notice: { key: 'policy.windowClosed', tone: 'templates' }, offerTemplates: true, windowRemainingMs: null });
    expect(composerPolicyView({ ...closed, templates: [] }, NOW).notice?.key).toBe('policy.windowClosedNoTemplates');
  });

  it('a window that closed since the policy was fetched counts as closed', () => {
    const v = composerPolicyView(open, Date.parse('2026-11-22T15:00:01Z'));
    expect(v.replyAllowed).toBe(false);
    expect(v.offerTemplates).toBe(true);
  });

  it('looks again when the window closes, not before, and never without a window', () => {
    expect(policyRefreshDelay(open, NOW)).toBe(3 * 3600_000 + 500);
    expect(policyRefreshDelay({ ...open, windowClosesAt: null }, NOW)).toBeNull();
    expect(policyRefreshDelay({ ...open, freeText: false }, NOW)).toBeNull();
  });

  it('shows the rest of the window in hours, then minutes', () => {
    expect(windowRemaining(3 * 3600_000 + 5 * 60_000)).toEqual({ value: 3, unit: 'hour' });
    expect(windowRemaining(119 * 60_000)).toEqual({ value: 119, unit: 'minute' });
    expect(windowRemaining(10_000)).toEqual({ value: 1, unit: 'minute' });
  });
});

describe('template parameters', () => {
  it('finds the {{n}} a body uses, once each, in order', () => {
    expect(templateParameters('Hi {{2}} and {{1}}, again {{ 1 }}')).toEqual([1, 2]);
    expect(templateParameters('No parameters')).toEqual([]);
  });

  it('fills the preview and leaves empty ones visible', () => {
    expect(fillTemplate(greeting.body, { 1: 'Ana', 2: '' })).toBe('Hola Ana, tu pedido {{2}} va en camino.');
  });

  it('sends values by position and refuses while one the body uses is empty', () => {
    expect(templateParameterValues(greeting, { 1: ' Ana ', 2: 'A-17' })).toEqual(['Ana', 'A-17']);
    expect(templateParameterValues(greeting, { 1: 'Ana' })).toBeNull();
    expect(templateParameterValues({ ...greeting, body: 'Code {{3}} for {{1}}' }, { 1: 'Ana', 3: '991' })).toEqual(['Ana', '', '991']);
    expect(templateParameterValues({ ...greeting, body: 'Plain' }, {})).toEqual([]);
  });
});
