import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { RealtimeHub } from './hub.ts';
import { appendEvents, runWrites, type PendingEvent, type RealtimeEvent } from './event-log.ts';
import { webhookDeliveryWrites } from '../webhooks/webhook-outbox.ts';

export interface Outbox {
  emit(event: PendingEvent): void;
  /**
   * Runs `prepare` once, just before the commit, however many use cases of the batch ask for the
   * same `key`: state that several use cases change (a tenant's routing engine) is written once
   * per transaction instead of once per use case. `prepare` returns its writes (Kysely queries,
   * not executed): they go in the statement that stores the transaction's events.
   */
  beforeCommit(key: string, prepare: () => Promise<FinalWrite[]>): void;
  /**
   * A write whose outcome the use case already knows (it computed the row from rows it holds
   * locked): it rides in the events' statement instead of a round trip of its own. Whatever
   * runs later in the transaction and reads those tables calls `flush` first; the committer
   * flushes before the batch's next use case.
   */
  defer(write: FinalWrite): void;
  /** Sends the deferred writes now (nothing when there are none), ahead of the next statement, which sees them. */
  flush(): Promise<void>;
  /** Runs `done` once the transaction has committed (never when it rolls back), after its events are published. */
  afterCommit(done: () => void): void;
}

/** A data-modifying query (a Kysely builder or `sql` fragment) run as a CTE of the events' statement. */
export type FinalWrite = unknown;

export type Work<T> = (trx: Transaction<Database>, outbox: Outbox) => Promise<T>;

/** Does many use cases of one kind in set-based statements: one result per input, in order. */
export type BatchWork<I, R> = (trx: Transaction<Database>, outbox: Outbox, inputs: I[]) => Promise<R[]>;

type Task = { work: Work<unknown> } | { batch: BatchWork<unknown, unknown>; input: unknown };

type Queued = Task & {
  resolve(value: unknown): void;
  reject(err: unknown): void;
};

/** How often a use case runs when PostgreSQL aborts it to break a deadlock. */
const DEADLOCK_ATTEMPTS = 3;
const isDeadlock = (err: unknown) => (err as { code?: string } | null)?.code === '40P01';

/** Most use cases a batch holds; beyond it, the next batch follows at once. */
const MAX_BATCH = 250;

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

  private readonly announceAs?: string;
  private readonly genericPlans: boolean;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly hub: RealtimeHub,
    private readonly log: Logger,
    options: {
      /** This node's id, when other nodes on the database must hear of its commits (PostgreSQL server). */
      announceAs?: string;
      /** Plan the transactions' statements generically (prepared statements on a PostgreSQL server). */
      genericPlans?: boolean;
    } = {},
  ) {
    this.announceAs = options.announceAs;
    this.genericPlans = options.genericPlans ?? false;
  }

  run<T>(tenantId: string, work: Work<T>): Promise<T> {
    return this.enqueue<T>(tenantId, { work: work as Work<unknown> });
  }

  /** Like run, but inputs queued together for the same BatchWork are done in one call of it. */
  runBatched<I, R>(tenantId: string, batch: BatchWork<I, R>, input: I): Promise<R> {
    return this.enqueue<R>(tenantId, { batch: batch as BatchWork<unknown, unknown>, input });
  }

  private enqueue<T>(tenantId: string, task: Task): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = this.queues.get(tenantId);
      const item = { ...task, resolve, reject } as Queued;
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
    let committed: Awaited<ReturnType<GroupCommitter['commit']>>;
    try {
      committed = await this.commit(tenantId, batch);
    } catch (err) {
      this.log.warn({ err, size: batch.length }, 'batch failed; running its use cases one by one');
      for (const item of batch) await this.runAlone(tenantId, item);
      return;
    }
    this.committed(tenantId, committed);
    batch.forEach((item, i) => item.resolve(committed.results[i]));
  }

  private async runAlone(tenantId: string, item: Queued): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await this.commit(tenantId, [item]);
        this.committed(tenantId, committed);
        item.resolve(committed.results[0]);
        return;
      } catch (err) {
        // Another node's transaction locked the same rows in the other order (PostgreSQL chose this
        // one to abort): nothing was written, and the next try usually finds the other committed.
        if (isDeadlock(err) && attempt < DEADLOCK_ATTEMPTS) {
          this.log.warn({ err, attempt }, 'deadlock with another transaction; trying again');
          continue;
        }
        item.reject(err);
        return;
      }
    }
  }

  private committed(tenantId: string, { events, after }: { events: RealtimeEvent[]; after: (() => void)[] }): void {
    this.hub.publish(tenantId, events);
    for (const done of after) done();
  }

  private commit(tenantId: string, tasks: Task[]) {
    return this.db.transaction().execute(async (trx) => {
      // The batches' statements are set-based and reach rows by id (decision 0005), so one plan
      // suits every batch; otherwise PostgreSQL keeps planning them for each batch's values, which
      // cost it as much time as running them.
      if (this.genericPlans) await sql`set local plan_cache_mode = force_generic_plan`.execute(trx);
      const pending: PendingEvent[] = [];
      const after: (() => void)[] = [];
      const finalWrites = new Map<string, () => Promise<FinalWrite[]>>();
      let deferred: FinalWrite[] = [];
      const outbox: Outbox = {
        emit: (e) => pending.push(e),
        beforeCommit: (key, write) => {
          if (!finalWrites.has(key)) finalWrites.set(key, write);
        },
        defer: (write) => deferred.push(write),
        flush: async () => {
          if (deferred.length === 0) return;
          const writes = deferred;
          deferred = [];
          await runWrites(trx, writes, 'ahead');
        },
        afterCommit: (done) => after.push(done),
      };
      const results: unknown[] = new Array(tasks.length);
      for (let i = 0; i < tasks.length; ) {
        const task = tasks[i]!;
        if ('work' in task) {
          await outbox.flush();
          results[i] = await task.work(trx, outbox);
          i++;
          continue;
        }
        // The batched inputs up to the next plain work were all queued before any was answered, so
        // any order is one their callers could have seen: each BatchWork runs once for all of its
        // inputs (in their order), whichever way the kinds interleaved.
        let end = i;
        const byWork = new Map<BatchWork<unknown, unknown>, number[]>();
        for (; end < tasks.length && !('work' in tasks[end]!); end++) {
          const { batch } = tasks[end] as { batch: BatchWork<unknown, unknown> };
          const indexes = byWork.get(batch);
          if (indexes) indexes.push(end);
          else byWork.set(batch, [end]);
        }
        for (const [work, indexes] of byWork) {
          await outbox.flush();
          const out = await work(trx, outbox, indexes.map((k) => (tasks[k] as { input: unknown }).input));
          indexes.forEach((k, j) => (results[k] = out[j]));
        }
        i = end;
      }
      const alongside: FinalWrite[] = [...deferred];
      for (const prepare of finalWrites.values()) alongside.push(...(await prepare()));
      alongside.push(...(await webhookDeliveryWrites(trx, tenantId, pending)));
      const events = await appendEvents(trx, tenantId, pending, alongside, this.announceAs);
      return { results, events, after };
    });
  }
}

/**
 * A BatchWork that needs the server's dependencies, bound once per server (per committer): the
 * committer batches calls of the same function, so every call on one server must get the same.
 */
export function bindBatch<D extends { committer: GroupCommitter }, I, R>(work: (deps: D, trx: Transaction<Database>, outbox: Outbox, inputs: I[]) => Promise<R[]>): (deps: D) => BatchWork<I, R> {
  const bound = new WeakMap<GroupCommitter, BatchWork<I, R>>();
  return (deps) => {
    let b = bound.get(deps.committer);
    if (!b) bound.set(deps.committer, (b = (trx, outbox, inputs) => work(deps, trx, outbox, inputs)));
    return b;
  };
}

/** Runs one use case of a tenant in its (possibly shared) transaction; see GroupCommitter. */
export function transact<T>(deps: { committer: GroupCommitter }, tenantId: string, work: Work<T>): Promise<T> {
  return deps.committer.run(tenantId, work);
}
