import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';

export interface JobContext {
  id: string;
  tenantId: string | null;
  attempts: number;
  /** The worker's attempt limit: when attempts reaches it, a failure is final. */
  maxAttempts: number;
  payload: Record<string, unknown>;
}

/** Thrown by a handler when trying again cannot help (a definitive 4xx, a deleted target). */
export class PermanentJobError extends Error {}

/** Thrown by a handler that may not run yet (no send slot left in this second): the job runs again at `runAt`, and the attempt does not count. */
export class RetryJobAt extends Error {
  constructor(readonly runAt: Date) {
    super(`postponed until ${runAt.toISOString()}`);
  }
}

export type JobHandler = (job: JobContext) => Promise<void>;

export type NewJob = { tenantId: string | null; kind: string; payload: Record<string, unknown>; runAt?: Date };

export async function enqueueJob(db: Kysely<Database> | Transaction<Database>, job: NewJob): Promise<void> {
  await db.insertInto('jobs').values(jobRow(job)).execute();
}

/** The jobs row of a new job, for callers that insert several at once. */
function jobRow(job: NewJob) {
  return { tenant_id: job.tenantId, kind: job.kind, payload: JSON.stringify(job.payload), run_at: job.runAt ?? new Date(), attempts: 0, status: 'queued' as const, locked_until: null, last_error: null };
}

export interface JobWorkerOptions {
  pollMs?: number;
  batchSize?: number;
  /** Attempts of every kind of job (tests); when unset, each kind's own (see register), else 8. */
  maxAttempts?: number;
  /** First retry delay; it doubles with each attempt (with jitter), capped at one hour. */
  backoffBaseMs?: number;
  lockSeconds?: number;
}

/** Attempts of a job whose kind sets none: 8 span ~21 minutes (10 s, doubling, with jitter). */
const DEFAULT_ATTEMPTS = 8;

/**
 * A durable job queue in PostgreSQL. Workers on any number of nodes claim due jobs with
 * FOR UPDATE SKIP LOCKED; a job whose worker died is claimed again once its lock expires.
 */
export class JobWorker {
  private handlers = new Map<string, { handler: JobHandler; maxAttempts: number }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private readonly opts: Required<Omit<JobWorkerOptions, 'maxAttempts'>> & Pick<JobWorkerOptions, 'maxAttempts'>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    opts: JobWorkerOptions = {},
  ) {
    this.opts = { pollMs: 500, batchSize: 20, backoffBaseMs: 10_000, lockSeconds: 60, ...opts };
  }

  /** Runs jobs of `kind` with `handler`, each tried up to `maxAttempts` times (default 8) unless the worker's options set them all. */
  register(kind: string, handler: JobHandler, policy: { maxAttempts?: number } = {}): void {
    this.handlers.set(kind, { handler, maxAttempts: this.opts.maxAttempts ?? policy.maxAttempts ?? DEFAULT_ATTEMPTS });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs due jobs now instead of at the next poll (after an enqueue on this node). */
  poke(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((err) => this.log.error({ err }, 'job worker pass failed'))
        .then((count) => {
          this.running = null;
          if (!this.stopped) this.schedule(count === this.opts.batchSize ? 0 : this.opts.pollMs);
        });
    }, ms);
  }

  /** Claims and runs one batch of due jobs; returns how many it ran. */
  async runOnce(): Promise<number> {
    const claimed = await sql<{ id: string; tenant_id: string | null; kind: string; payload: Record<string, unknown>; attempts: number }>`
      UPDATE jobs SET status = 'running', attempts = attempts + 1,
        locked_until = now() + make_interval(secs => ${this.opts.lockSeconds})
      WHERE id IN (
        SELECT id FROM jobs
        WHERE (status = 'queued' AND run_at <= now()) OR (status = 'running' AND locked_until < now())
        ORDER BY run_at LIMIT ${this.opts.batchSize}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, tenant_id, kind, payload, attempts`.execute(this.db);
    await Promise.all(claimed.rows.map((row) => this.runJob(row)));
    return claimed.rows.length;
  }

  private async runJob(row: { id: string; tenant_id: string | null; kind: string; payload: Record<string, unknown>; attempts: number }) {
    const registered = this.handlers.get(row.kind);
    const maxAttempts = registered?.maxAttempts ?? DEFAULT_ATTEMPTS;
    try {
      if (!registered) throw new PermanentJobError(`no handler for job kind ${row.kind}`);
      await registered.handler({ id: String(row.id), tenantId: row.tenant_id, attempts: row.attempts, maxAttempts, payload: row.payload });
      await this.db.deleteFrom('jobs').where('id', '=', row.id).execute();
    } catch (err) {
      if (err instanceof RetryJobAt) {
        await this.db.updateTable('jobs').set((eb) => ({ status: 'queued', attempts: eb('attempts', '-', 1), locked_until: null, run_at: err.runAt })).where('id', '=', row.id).execute();
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      const final = err instanceof PermanentJobError || row.attempts >= maxAttempts;
      const delay = Math.min(3_600_000, this.opts.backoffBaseMs * 2 ** (row.attempts - 1)) * (0.8 + Math.random() * 0.4);
      this.log.warn({ jobId: row.id, kind: row.kind, attempts: row.attempts, final, err: message }, 'job failed');
      await this.db
        .updateTable('jobs')
        .set({
          status: final ? 'failed' : 'queued',
          last_error: message.slice(0, 1000),
          locked_until: null,
          run_at: new Date(Date.now() + delay),
        })
        .where('id', '=', row.id)
        .execute();
    }
  }
}
