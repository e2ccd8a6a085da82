import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { PendingEvent } from '../realtime/event-log.ts';
import { newId } from '../ids.ts';

export const webhookEventTypes = ['conversation.created', 'conversation.updated', 'message.created', 'conversation.read'] as const;

export const WEBHOOK_JOB = 'webhook.deliver';
/**
 * Attempts of a webhook delivery: retries after 10 s doubling up to an hour, then hourly, ~15 hours
 * in all, so a receiver down overnight still gets its deliveries (after that an admin sends them again).
 */
export const WEBHOOK_ATTEMPTS = 24;

/**
 * One delivery (and its send job) per subscribed endpoint and event, as writes for the statement
 * that stores the transaction's events: they commit with them, at no round trip of their own.
 * One statement text for any number of deliveries (they travel as JSON), so it is prepared once.
 */
export async function webhookDeliveryWrites(trx: Transaction<Database>, tenantId: string, events: PendingEvent[]): Promise<RawBuilder<unknown>[]> {
  const relevant = events.filter((e) => (webhookEventTypes as readonly string[]).includes(e.type));
  if (relevant.length === 0) return [];
  const endpoints = await subscribedEndpoints(trx, tenantId);
  const deliveries = endpoints.flatMap((endpoint) =>
    relevant
      .filter((event) => endpoint.events.includes(event.type))
      .map((event) => {
        const id = newId('whd');
        const body = JSON.stringify({ id, event: event.type, tenantId, createdAt: new Date().toISOString(), data: event.payload });
        return { id, endpoint_id: endpoint.id, event: event.type, body };
      }),
  );
  if (deliveries.length === 0) return [];
  // The endpoints may be a few seconds old (see the cache below): both writes keep only those that
  // still exist and are not paused, as the statement sees them, so an endpoint another node deleted
  // or paused meanwhile gets nothing, and costs no transaction its foreign key.
  return [
    sql`INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event, body, status, attempts)
      SELECT v.id, ${tenantId}, v.endpoint_id, v.event, v.body, 'pending', 0
      FROM jsonb_to_recordset(${JSON.stringify(deliveries)}::jsonb) AS v(id text, endpoint_id text, event text, body text)
      JOIN webhook_endpoints e ON e.id = v.endpoint_id AND e.tenant_id = ${tenantId} AND e.disabled_at IS NULL`,
    sql`INSERT INTO jobs (tenant_id, kind, payload, run_at, attempts, status)
      SELECT ${tenantId}, ${WEBHOOK_JOB}, jsonb_build_object('deliveryId', k.id), now(), 0, 'queued'
      FROM unnest(${deliveries.map((d) => d.id)}::text[], ${deliveries.map((d) => d.endpoint_id)}::text[]) AS k(id, endpoint_id)
      JOIN webhook_endpoints e ON e.id = k.endpoint_id AND e.tenant_id = ${tenantId} AND e.disabled_at IS NULL`,
  ];
}

/** Most deliveries one call sends again. */
export const REDELIVER_AT_ONCE = 1000;

/**
 * Sends deliveries of an endpoint again: the one named (unless it is still being tried), or its
 * failed ones, oldest first. Each keeps its id and body (receivers dedupe on the id), starts its
 * attempts over, and gets a new job; the rows and jobs change in one statement. Answers the ids.
 */
export async function redeliver(db: Kysely<Database>, tenantId: string, endpointId: string, deliveryId: string | null): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    WITH picked AS (
      SELECT id FROM webhook_deliveries
      WHERE tenant_id = ${tenantId} AND endpoint_id = ${endpointId}
        AND ${deliveryId === null ? sql`status = 'failed'` : sql`id = ${deliveryId} AND status <> 'pending'`}
      ORDER BY created_at LIMIT ${REDELIVER_AT_ONCE} FOR UPDATE
    ), reset AS (
      UPDATE webhook_deliveries AS d SET status = 'pending', attempts = 0, delivered_at = NULL
      FROM picked WHERE d.id = picked.id RETURNING d.id
    ), queued AS (
      INSERT INTO jobs (tenant_id, kind, payload, run_at, attempts, status)
      SELECT ${tenantId}, ${WEBHOOK_JOB}, jsonb_build_object('deliveryId', reset.id), now(), 0, 'queued' FROM reset
    )
    SELECT id FROM reset`.execute(db);
  return rows.map((r) => r.id);
}

/**
 * Endpoints per tenant, remembered for a second like the other rows every request reads
 * (db/short-cache.ts): most transactions emit events and most tenants change their webhooks
 * rarely. This node forgets at once on a change it makes; other nodes see it within CACHE_MS
 * (until then they may skip a new or resumed endpoint's first events; a deleted or paused one
 * gets nothing, as the writes above join the endpoints).
 */
const CACHE_MS = 1000;
const cache = new Map<string, { at: number; endpoints: { id: string; events: string[] }[] }>();

async function subscribedEndpoints(trx: Transaction<Database>, tenantId: string) {
  const hit = cache.get(tenantId);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.endpoints;
  const endpoints = await trx.selectFrom('webhook_endpoints').select(['id', 'events']).where('tenant_id', '=', tenantId).where('disabled_at', 'is', null).execute();
  cache.set(tenantId, { at: Date.now(), endpoints });
  return endpoints;
}

export function forgetWebhookEndpoints(tenantId: string): void {
  cache.delete(tenantId);
}
