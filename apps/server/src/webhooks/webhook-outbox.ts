import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { PendingEvent } from '../realtime/event-log.ts';
import { newId } from '../ids.ts';
import { jobRow } from '../jobs/job-queue.ts';

export const webhookEventTypes = ['conversation.created', 'conversation.updated', 'message.created', 'conversation.read'] as const;

export const WEBHOOK_JOB = 'webhook.deliver';

/** Records one delivery (and its job) per subscribed endpoint, in the transaction of the events. */
export async function enqueueWebhookDeliveries(trx: Transaction<Database>, tenantId: string, events: PendingEvent[]): Promise<void> {
  const relevant = events.filter((e) => (webhookEventTypes as readonly string[]).includes(e.type));
  if (relevant.length === 0) return;
  const endpoints = await subscribedEndpoints(trx, tenantId);
  const deliveries = endpoints.flatMap((endpoint) =>
    relevant
      .filter((event) => endpoint.events.includes(event.type))
      .map((event) => {
        const id = newId('whd');
        const body = JSON.stringify({ id, event: event.type, tenantId, createdAt: new Date().toISOString(), data: event.payload });
        return { id, tenant_id: tenantId, endpoint_id: endpoint.id, event: event.type, body, status: 'pending' as const, attempts: 0, last_status_code: null, last_error: null, delivered_at: null };
      }),
  );
  if (deliveries.length === 0) return;
  // The deliveries and their send jobs in one statement, however many events the transaction had.
  await trx
    .with('deliveries', (db) => db.insertInto('webhook_deliveries').values(deliveries))
    .insertInto('jobs')
    .values(deliveries.map((d) => jobRow({ tenantId, kind: WEBHOOK_JOB, payload: { deliveryId: d.id } })))
    .execute();
}

/**
 * Endpoints per tenant, remembered for a few seconds: most transactions emit events and most
 * tenants change their webhooks rarely. This node forgets at once on a change it makes; other
 * nodes see it within CACHE_MS.
 */
const CACHE_MS = 5000;
const cache = new Map<string, { at: number; endpoints: { id: string; events: string[] }[] }>();

async function subscribedEndpoints(trx: Transaction<Database>, tenantId: string) {
  const hit = cache.get(tenantId);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.endpoints;
  const endpoints = await trx.selectFrom('webhook_endpoints').select(['id', 'events']).where('tenant_id', '=', tenantId).execute();
  cache.set(tenantId, { at: Date.now(), endpoints });
  return endpoints;
}

export function forgetWebhookEndpoints(tenantId: string): void {
  cache.delete(tenantId);
}
