import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { requireRole } from '../auth/principal.ts';
import { recordChannelError } from './channel-errors.ts';
import { ParleyError } from '../errors.ts';
import { getInboxOrThrow } from '../inboxes/inboxes.repository.ts';
import { adapterFor } from './adapters.ts';
import { channelSettingsKey } from './channel-settings.ts';
import type { ChannelAdapter } from './channel.ts';

const ChannelErrorDto = Type.Object({ id: Type.String(), kind: Type.String(), message: Type.String(), createdAt: Type.String() });
const WebhookUrlDto = Type.Object({ name: Type.String(), url: Type.String() });

/** How many of an inbox's last errors the admin sees (channel-errors.ts keeps a few more). */
const ERRORS_SHOWN = 50;

/**
 * What the admin needs to connect an inbox to its provider: a test of the connection with the
 * stored settings, the last problems of the channel, the URLs to paste into the provider's
 * console. Admins only: these say how the tenant's accounts are wired.
 */
export function channelAdminRoutes(app: App, deps: Deps) {
  const db = deps.db;

  app.post(
    '/inboxes/:id/test-connection',
    { schema: { tags: ['channels'], params: IdParams, response: responses({ 200: Type.Object({ ok: Type.Boolean(), message: Type.String() }) }) } },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const inbox = await getInboxOrThrow(db, principal.tenantId, request.params.id);
      const adapter = adapterFor(inbox.channel_type) as ChannelAdapter<unknown> | null;
      if (!adapter?.testConnection) throw new ParleyError('PARLEY_ERR_NOT_SUPPORTED', `a ${inbox.channel_type} inbox has no provider connection to test`);
      const settings = adapter.settingsOf(inbox.settings);
      if (!settings) throw new ParleyError('PARLEY_ERR_NOT_SUPPORTED', `the inbox has no ${inbox.channel_type} settings yet`);
      let result: { ok: boolean; message: string };
      try {
        result = await adapter.testConnection(settings, deps.config.privateTargets);
      } catch (err) {
        // An adapter that throws instead of answering still gets its reason shown to the admin.
        result = { ok: false, message: err instanceof Error ? err.message : String(err) };
      }
      // A failed test stays in the inbox's error list beside the webhook and send problems.
      if (!result.ok) await recordChannelError(db, { tenantId: inbox.tenant_id, inboxId: inbox.id, kind: 'test-connection', message: result.message });
      return result;
    },
  );

  app.get('/inboxes/:id/errors', { schema: { tags: ['channels'], params: IdParams, response: responses({ 200: Items(ChannelErrorDto) }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const inbox = await getInboxOrThrow(db, principal.tenantId, request.params.id);
    const rows = await db
      .selectFrom('channel_errors')
      .select(['id', 'kind', 'message', 'created_at'])
      .where('tenant_id', '=', principal.tenantId)
      .where('inbox_id', '=', inbox.id)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(ERRORS_SHOWN)
      .execute();
    return { items: rows.map((r) => ({ id: r.id, kind: r.kind, message: r.message, createdAt: r.created_at.toISOString() })) };
  });

  app.get('/inboxes/:id/webhook-urls', { schema: { tags: ['channels'], params: IdParams, response: responses({ 200: Items(WebhookUrlDto) }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const inbox = await getInboxOrThrow(db, principal.tenantId, request.params.id);
    const base = (deps.config.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/$/, '');
    const key = channelSettingsKey[inbox.channel_type];
    // SMS providers post inbound messages and delivery reports to one URL; Meta sends both, and its verification handshake, to one URL.
    if (key === 'sms') return { items: [{ name: 'messages', url: `${base}/api/v1/channels/sms/${encodeURIComponent(inbox.public_id)}/webhook` }] };
    if (key === 'meta') return { items: [{ name: 'messages', url: `${base}/api/v1/channels/meta/${encodeURIComponent(inbox.public_id)}/webhook` }] };
    return { items: [] };
  });
}
