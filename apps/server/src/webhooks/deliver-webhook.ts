import type { Db } from '../db/database.ts';
import { PermanentJobError, type JobHandler } from '../jobs/job-queue.ts';
import { signWebhook } from './webhook-signature.ts';
import { guardedFetch } from '../net/guarded-fetch.ts';
import { forgetWebhookEndpoints } from './webhook-outbox.ts';
import type { PrivateTargets } from '../net/private-targets.ts';

/** The job that POSTs one webhook delivery; a failure is retried with backoff by the job queue. */
export function deliverWebhookJob(db: Db, privateTargets: PrivateTargets, timeoutMs = 10_000): JobHandler {
  return async (job) => {
    const deliveryId = String(job.payload.deliveryId);
    const delivery = await db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select(['d.id', 'd.tenant_id', 'd.body', 'd.event', 'd.endpoint_id', 'e.url', 'e.secret', 'e.disabled_at'])
      .where('d.id', '=', deliveryId)
      .where('d.tenant_id', '=', job.tenantId ?? '')
      .executeTakeFirst();
    if (!delivery) throw new PermanentJobError('delivery or endpoint deleted');
    if (delivery.disabled_at) {
      // Paused after this delivery was queued: it waits as failed, to be sent again once resumed.
      await db.updateTable('webhook_deliveries').set({ status: 'failed', last_error: 'webhook paused' }).where('id', '=', delivery.id).execute();
      throw new PermanentJobError('webhook paused');
    }
    const timestamp = Math.floor(Date.now() / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Parley-Webhooks/1',
        'x-parley-event': delivery.event,
        'x-parley-delivery': delivery.id,
        'x-parley-timestamp': String(timestamp),
        'x-parley-signature': signWebhook(delivery.secret, timestamp, delivery.body),
      };
      // Not followed: a receiver that moved is a failed delivery the admin sees.
      const res = await guardedFetch(delivery.url, { method: 'POST', headers, body: delivery.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), privateTargets });
      status = res.status;
      await res.body?.cancel();
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    // 410 Gone: the receiver says it wants no more (RFC 9110 §15.5.11). The endpoint is paused, with
    // that reason for the admin, and nothing is retried.
    const gone = status === 410;
    if (gone) {
      error = 'HTTP 410 Gone: webhook paused';
      // Paused before the delivery is marked, so whoever sees it failed sees the endpoint paused.
      await db.updateTable('webhook_endpoints').set({ disabled_at: new Date(), disabled_reason: 'gone' }).where('id', '=', delivery.endpoint_id).where('disabled_at', 'is', null).execute();
      forgetWebhookEndpoints(delivery.tenant_id);
    }
    await db
      .updateTable('webhook_deliveries')
      .set({
        attempts: job.attempts,
        last_status_code: status,
        last_error: error,
        status: error ? (gone || job.attempts >= job.maxAttempts ? 'failed' : 'pending') : 'delivered',
        delivered_at: error ? null : new Date(),
      })
      .where('id', '=', delivery.id)
      .execute();
    if (gone) throw new PermanentJobError(error!);
    if (error) throw new Error(error);
  };
}
