import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { openTestDatabase } from '../../test/test-database.ts';
import type { OpenedDatabase } from '../db/database.ts';
import { enqueueJob, JobWorker, PermanentJobError, type JobWorkerOptions } from './job-queue.ts';

// The durable job queue: how many times a failing job is tried, per kind of job.

let opened: OpenedDatabase;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  opened = await openTestDatabase();
});
afterAll(async () => {
  await opened?.close();
});

/** Registers kinds that always fail (counting their calls), enqueues one job of each, runs until all have failed. */
async function failEach(options: JobWorkerOptions, kinds: Record<string, { maxAttempts?: number }>) {
  const worker = new JobWorker(opened.db, log, { pollMs: 5, backoffBaseMs: 1, ...options });
  const calls: Record<string, number[]> = {};
  for (const [kind, policy] of Object.entries(kinds)) {
    calls[kind] = [];
    worker.register(kind, async (job) => {
      calls[kind]!.push(job.maxAttempts);
      throw new Error(`${kind} fails`);
    }, policy);
    await enqueueJob(opened.db, { tenantId: null, kind, payload: {} });
  }
  worker.start();
  try {
    for (;;) {
      const open = await opened.db.selectFrom('jobs').select('id').where('kind', 'in', Object.keys(kinds)).where('status', '!=', 'failed').execute();
      if (open.length === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await worker.stop();
  }
  return calls;
}

describe('job attempts', () => {
  it('are each kind\'s own, 8 for a kind that sets none', async () => {
    const calls = await failEach({}, { 'test.patient': { maxAttempts: 12 }, 'test.plain': {} });
    expect(calls['test.patient']).toHaveLength(12);
    expect(calls['test.plain']).toHaveLength(8);
    // The handler is told its kind's limit (a webhook delivery marks itself failed on its last).
    expect(new Set(calls['test.patient'])).toEqual(new Set([12]));
  });

  it('are the worker\'s for every kind when its options set them', async () => {
    const calls = await failEach({ maxAttempts: 2 }, { 'test.patient.capped': { maxAttempts: 12 }, 'test.plain.capped': {} });
    expect(calls['test.patient.capped']).toHaveLength(2);
    expect(calls['test.plain.capped']).toHaveLength(2);
  });

  it('stop at the first permanent failure', async () => {
    const worker = new JobWorker(opened.db, log, { pollMs: 5, backoffBaseMs: 1 });
    let calls = 0;
    worker.register('test.permanent', async () => {
      calls++;
      throw new PermanentJobError('never going to work');
    }, { maxAttempts: 12 });
    await enqueueJob(opened.db, { tenantId: null, kind: 'test.permanent', payload: {} });
    worker.start();
    try {
      await expect.poll(async () => (await opened.db.selectFrom('jobs').select(['status', 'last_error']).where('kind', '=', 'test.permanent').executeTakeFirst())).toEqual({ status: 'failed', last_error: 'never going to work' });
    } finally {
      await worker.stop();
    }
    expect(calls).toBe(1);
  });
});
