import { describe, expect, it } from 'vitest';
import { parseRoute, routeHref } from './hash-route';

describe('hash routes', () => {
  it('parses every route and round-trips it', () => {
    const cases = ['#/login', '#/invite/abc123', '#/conversations/c-1', '#/conversations', '#/admin/webhooks/w1', '#/admin/inboxes', '#/settings', '#/wallboard', '#/admin/queues/q-1', '#/admin/routing-agents'];
    for (const hash of cases) expect(routeHref(parseRoute(hash))).toBe(hash);
  });
  it('falls back to the inbox for unknown paths and to inboxes for unknown admin sections', () => {
    expect(parseRoute('')).toEqual({ name: 'conversations', conversationId: null });
    expect(parseRoute('#/nope')).toEqual({ name: 'conversations', conversationId: null });
    expect(parseRoute('#/admin/zzz')).toEqual({ name: 'admin', section: 'inboxes', itemId: null });
  });
});
