import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { hostOf, requireAllowedTarget } from '../net/private-targets.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { notFound } from '../errors.ts';
import { requireRole } from '../auth/principal.ts';
import { newId, newToken } from '../ids.ts';
import { forgetWebhookEndpoints, webhookEventTypes } from './webhook-outbox.ts';

const EndpointDto = Type.Object({ id: Type.String(), url: Type.String(), events: Type.Array(Type.String()), secret: Type.Optional(Type.String()), createdAt: Type.String() });
const DeliveryDto = Type.Object({
  id: Type.String(),
  event: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
});

export function webhookRoutes(app: App, deps: Deps) {
  const db = deps.db;

  app.get('/webhooks', { schema: { tags: ['webhooks'], response: responses({ 200: Items(EndpointDto) }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const rows = await db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', principal.tenantId).orderBy('created_at').execute();
    return { items: rows.map((r) => ({ id: r.id, url: r.url, events: r.events, createdAt: r.created_at.toISOString() })) };
  });

  app.post(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        body: Type.Object(
          {
            url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 }),
            events: Type.Array(Type.Union(webhookEventTypes.map((e) => Type.Literal(e))), { minItems: 1, uniqueItems: true }),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: EndpointDto }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      await requireAllowedTarget(hostOf(new URL(request.body.url)), deps.config.privateTargets, 'webhook URL');
      const row = await db
        .insertInto('webhook_endpoints')
        .values({ id: newId('whk'), tenant_id: principal.tenantId, url: request.body.url, events: JSON.stringify(request.body.events), secret: newToken('whsec', 24) })
        .returningAll()
        .executeTakeFirstOrThrow();
      forgetWebhookEndpoints(principal.tenantId);
      return reply.status(201).send({ id: row.id, url: row.url, events: row.events, secret: row.secret, createdAt: row.created_at.toISOString() });
    },
  );

  app.delete('/webhooks/:id', { schema: { tags: ['webhooks'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const res = await db.deleteFrom('webhook_endpoints').where('tenant_id', '=', principal.tenantId).where('id', '=', request.params.id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound('webhook');
    forgetWebhookEndpoints(principal.tenantId);
    return reply.status(204).send(null);
  });

  app.get('/webhooks/:id/deliveries', { schema: { tags: ['webhooks'], params: IdParams, response: responses({ 200: Items(DeliveryDto) }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const endpoint = await db.selectFrom('webhook_endpoints').select('id').where('tenant_id', '=', principal.tenantId).where('id', '=', request.params.id).executeTakeFirst();
    if (!endpoint) throw notFound('webhook');
    const rows = await db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', principal.tenantId).where('endpoint_id', '=', endpoint.id).orderBy('created_at', 'desc').limit(50).execute();
    return {
      items: rows.map((r) => ({
        id: r.id,
        event: r.event,
        status: r.status,
        attempts: r.attempts,
        lastStatusCode: r.last_status_code,
        lastError: r.last_error,
        createdAt: r.created_at.toISOString(),
        deliveredAt: r.delivered_at?.toISOString() ?? null,
      })),
    };
  });
}
