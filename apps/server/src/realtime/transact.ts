import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { RealtimeHub } from './hub.ts';
import { appendEvents, type PendingEvent, type RealtimeEvent } from './event-log.ts';
import { enqueueWebhookDeliveries } from '../webhooks/webhook-outbox.ts';

export interface Outbox {
  emit(event: PendingEvent): void;
}

export type Work<T> = (trx: Transaction<Database>, outbox: Outbox) => Promise<T>;

interface Queued {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** Most use cases a batch holds; beyond it, the next batch follows at once. */
const MAX_BATCH = 100;

/**
 * Runs a tenant's use cases in transactions together with the events they emit: rows, realtime
 * events and webhook deliveries commit together or not at all, and sockets hear of the events
 * only after the commit.
 *
 * Group commit: a tenant's event numbers come from one counter row that stays locked until
 * commit (see event-log.ts), so one tenant commits one transaction at a time. Rather than queue
 * on that lock and pay one disk flush per message, this node runs the use cases that arrived
 * meanwhile in one transaction. If any of them fails, the batch is rolled back and each runs
 * again alone, so one bad request never takes others down and never leaves half its rows.
 */
export class GroupCommitter {
  private queues = new Map<string, Queued[]>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly hub: RealtimeHub,
    private readonly log: Logger,
  ) {}

  run<T>(tenantId: string, work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = this.queues.get(tenantId);
      const item = { work, resolve, reject } as Queued;
      if (queue) {
        queue.push(item);
        return;
      }
      this.queues.set(tenantId, [item]);
      queueMicrotask(() => void this.drain(tenantId));
    });
  }

  private async drain(tenantId: string): Promise<void> {
    const queue = this.queues.get(tenantId)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      if (batch.length === 1) await this.runAlone(tenantId, batch[0]!);
      else await this.runBatch(tenantId, batch);
    }
    this.queues.delete(tenantId);
  }

  private async runBatch(tenantId: string, batch: Queued[]): Promise<void> {
    let results: unknown[];
    let events: RealtimeEvent[];
    try {
      ({ results, events } = await this.commit(tenantId, batch.map((b) => b.work)));
    } catch (err) {
      this.log.warn({ err, size: batch.length }, 'batch failed; running its use cases one by one');
      for (const item of batch) await this.runAlone(tenantId, item);
      return;
    }
    this.hub.publish(tenantId, events);
    batch.forEach((item, i) => item.resolve(results[i]));
  }

  private async runAlone(tenantId: string, item: Queued): Promise<void> {
    try {
      const { results, events } = await this.commit(tenantId, [item.work]);
      this.hub.publish(tenantId, events);
      item.resolve(results[0]);
    } catch (err) {
      item.reject(err);
    }
  }

  private commit(tenantId: string, works: Work<unknown>[]) {
    return this.db.transaction().execute(async (trx) => {
      const pending: PendingEvent[] = [];
      const outbox: Outbox = { emit: (e) => pending.push(e) };
      const results: unknown[] = [];
      for (const work of works) results.push(await work(trx, outbox));
      await enqueueWebhookDeliveries(trx, tenantId, pending);
      const events = await appendEvents(trx, tenantId, pending);
      return { results, events };
    });
  }
}

/** Runs one use case of a tenant in its (possibly shared) transaction; see GroupCommitter. */
export function transact<T>(deps: { committer: GroupCommitter }, tenantId: string, work: Work<T>): Promise<T> {
  return deps.committer.run(tenantId, work);
}
