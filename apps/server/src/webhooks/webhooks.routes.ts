import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { hostOf, requireAllowedTarget } from '../net/private-targets.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { notFound, ParleyError } from '../errors.ts';
import { requireRole } from '../auth/principal.ts';
import { newId, newToken } from '../ids.ts';
import { forgetWebhookEndpoints, redeliver, REDELIVER_AT_ONCE, webhookEventTypes } from './webhook-outbox.ts';
import type { Selectable } from 'kysely';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from '../db/schema.ts';

const EndpointDto = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  secret: Type.Optional(Type.String()),
  createdAt: Type.String(),
  enabled: Type.Boolean(),
  disabledAt: Type.Union([Type.String(), Type.Null()]),
  disabledReason: Type.Union([Type.Literal('admin'), Type.Literal('gone'), Type.Null()], { description: 'admin: paused by an admin; gone: its receiver answered 410 Gone' }),
});
const toEndpointDto = (r: Selectable<WebhookEndpointsTable>) => ({
  id: r.id,
  url: r.url,
  events: r.events,
  createdAt: r.created_at.toISOString(),
  enabled: r.disabled_at === null,
  disabledAt: r.disabled_at?.toISOString() ?? null,
  disabledReason: r.disabled_reason,
});
const DeliveryDto = Type.Object({
  id: Type.String(),
  event: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')], { description: 'pending: queued or being retried' }),
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
    return { items: rows.map(toEndpointDto) };
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
      return reply.status(201).send({ ...toEndpointDto(row), secret: row.secret });
    },
  );

  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        description: 'Pauses (`enabled: false`) or resumes an endpoint. A paused endpoint gets no deliveries; those queued before fail as paused, to be sent again once it is resumed.',
        params: IdParams,
        body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }),
        response: responses({ 200: EndpointDto }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const { enabled } = request.body;
      const row = await db
        .updateTable('webhook_endpoints')
        .set(enabled ? { disabled_at: null, disabled_reason: null } : { disabled_at: new Date(), disabled_reason: 'admin' })
        .where('tenant_id', '=', principal.tenantId)
        .where('id', '=', request.params.id)
        // Pausing a paused endpoint keeps when and why it was paused.
        .$if(!enabled, (q) => q.where('disabled_at', 'is', null))
        .returningAll()
        .executeTakeFirst();
      forgetWebhookEndpoints(principal.tenantId);
      if (row) return toEndpointDto(row);
      const unchanged = await db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', principal.tenantId).where('id', '=', request.params.id).executeTakeFirst();
      if (!unchanged) throw notFound('webhook');
      return toEndpointDto(unchanged);
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

  const endpointOf = async (tenantId: string, id: string) => {
    const endpoint = await db.selectFrom('webhook_endpoints').select(['id', 'disabled_at']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    if (!endpoint) throw notFound('webhook');
    return endpoint;
  };
  /** An endpoint that may be sent deliveries again: not paused. */
  const activeEndpointOf = async (tenantId: string, id: string) => {
    const endpoint = await endpointOf(tenantId, id);
    if (endpoint.disabled_at) throw new ParleyError('PARLEY_ERR_CONFLICT', 'the webhook is paused: resume it before sending deliveries again');
    return endpoint.id;
  };

  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        description: 'Sends a delivery again (a failed one, or a delivered one the receiver lost), with the same id and body, freshly signed, retried as a new one. 409 while it is still being tried.',
        params: Type.Object({ id: Type.String({ maxLength: 100 }), deliveryId: Type.String({ maxLength: 100 }) }),
        response: responses({ 200: DeliveryDto }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const endpointId = await activeEndpointOf(principal.tenantId, request.params.id);
      const [id] = await redeliver(db, principal.tenantId, endpointId, request.params.deliveryId);
      if (!id) {
        const delivery = await db.selectFrom('webhook_deliveries').select('status').where('tenant_id', '=', principal.tenantId).where('endpoint_id', '=', endpointId).where('id', '=', request.params.deliveryId).executeTakeFirst();
        if (!delivery) throw notFound('delivery');
        throw new ParleyError('PARLEY_ERR_CONFLICT', 'the delivery is still being tried; it can be sent again once it has failed or been delivered');
      }
      const row = await db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', principal.tenantId).where('id', '=', id).executeTakeFirstOrThrow();
      return toDeliveryDto(row);
    },
  );

  app.post(
    '/webhooks/:id/redeliver-failed',
    {
      schema: {
        tags: ['webhooks'],
        description: `Sends every failed delivery of the endpoint again, oldest first, up to ${REDELIVER_AT_ONCE} per call (after the receiver was down longer than the retries last).`,
        params: IdParams,
        response: responses({ 200: Type.Object({ redelivered: Type.Integer() }) }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const endpointId = await activeEndpointOf(principal.tenantId, request.params.id);
      return { redelivered: (await redeliver(db, principal.tenantId, endpointId, null)).length };
    },
  );

  app.get('/webhooks/:id/deliveries', { schema: { tags: ['webhooks'], params: IdParams, response: responses({ 200: Items(DeliveryDto) }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const { id: endpointId } = await endpointOf(principal.tenantId, request.params.id);
    const rows = await db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', principal.tenantId).where('endpoint_id', '=', endpointId).orderBy('created_at', 'desc').limit(50).execute();
    return { items: rows.map(toDeliveryDto) };
  });
}

const toDeliveryDto = (r: Selectable<WebhookDeliveriesTable>) => ({
  id: r.id,
  event: r.event,
  status: r.status,
  attempts: r.attempts,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at.toISOString(),
  deliveredAt: r.delivered_at?.toISOString() ?? null,
});
