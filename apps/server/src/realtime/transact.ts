import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { appendEvents, type PendingEvent, type RealtimeEvent } from './event-log.ts';
import { enqueueWebhookDeliveries } from '../webhooks/webhook-outbox.ts';

export interface Outbox {
  emit(event: PendingEvent): void;
}

/**
 * Runs a use case in one transaction together with the events it emits: the rows, their
 * realtime events and their webhook deliveries commit together or not at all. Sockets hear of
 * the events only after the commit.
 */
export async function transact<T>(
  deps: Pick<Deps, 'db' | 'hub'>,
  tenantId: string,
  work: (trx: Transaction<Database>, outbox: Outbox) => Promise<T>,
): Promise<T> {
  let committed: RealtimeEvent[] = [];
  const result = await deps.db.transaction().execute(async (trx) => {
    const pending: PendingEvent[] = [];
    const value = await work(trx, { emit: (e) => pending.push(e) });
    await enqueueWebhookDeliveries(trx, tenantId, pending);
    committed = await appendEvents(trx, tenantId, pending);
    return value;
  });
  deps.hub.publish(tenantId, committed);
  return result;
}
