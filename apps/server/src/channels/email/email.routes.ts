import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import { IdParams, principalOf, responses, type App } from '../../http.ts';
import { requireRole } from '../../auth/principal.ts';
import { ParleyError, notFound } from '../../errors.ts';
import { forgetInbox, getInboxOrThrow } from '../../inboxes/inboxes.repository.ts';
import { DkimSelector, emailSettingsOf } from './settings.ts';
import { DEFAULT_DKIM_SELECTOR, dkimRecordOf, newDkimKey } from './dkim.ts';

const DkimRecordDto = Type.Object(
  {
    selector: Type.String(),
    domain: Type.String(),
    name: Type.String({ description: 'The DNS name to publish the TXT record under' }),
    value: Type.String({ description: 'The TXT record: v=DKIM1; k=rsa; p=…' }),
  },
);

/**
 * DKIM for an email inbox's replies: Parley makes the signing key (it never leaves the server)
 * and shows the DNS record to publish. Admins only.
 */
export function emailRoutes(app: App, deps: Deps) {
  const db = deps.db;
  /** Email inbox `id` of the tenant of the admin asking (else 403, 404 or 422). */
  const emailInbox = async (request: FastifyRequest, id: string) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const inbox = await getInboxOrThrow(db, principal.tenantId, id);
    const settings = inbox.channel_type === 'email' ? emailSettingsOf(inbox.settings) : null;
    if (!settings) throw new ParleyError('PARLEY_ERR_NOT_SUPPORTED', 'only an email inbox signs with DKIM');
    return { inbox, settings };
  };

  app.get('/inboxes/:id/email/dkim', { schema: { tags: ['channels'], params: IdParams, response: responses({ 200: DkimRecordDto }) } }, async (request) => {
    const { settings } = await emailInbox(request, request.params.id);
    const record = dkimRecordOf(settings);
    if (!record) throw notFound('DKIM key');
    return record;
  });

  app.post(
    '/inboxes/:id/email/dkim',
    {
      schema: {
        tags: ['channels'],
        summary: 'Make a new DKIM signing key (replacing any) and return the DNS record to publish',
        params: IdParams,
        body: Type.Optional(Type.Object({ selector: Type.Optional(DkimSelector) }, { additionalProperties: false })),
        response: responses({ 201: DkimRecordDto }),
      },
    },
    async (request, reply) => {
      const { inbox, settings } = await emailInbox(request, request.params.id);
      // A new key under a new selector lets the old record stay published until mail signed with it has arrived.
      const dkim = { selector: request.body?.selector ?? settings.dkim?.selector ?? DEFAULT_DKIM_SELECTOR, privateKey: await newDkimKey() };
      const row = await db
        .updateTable('inboxes')
        .set({ settings: JSON.stringify({ ...inbox.settings, email: { ...settings, dkim } }) })
        .where('tenant_id', '=', inbox.tenant_id)
        .where('id', '=', inbox.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      forgetInbox(db, row);
      return reply.status(201).send(dkimRecordOf({ ...settings, dkim })!);
    },
  );
}
