import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import { enqueueJob, PermanentJobError, type JobHandler } from '../jobs/job-queue.ts';
import { postMessage } from '../conversations/post-message.ts';
import { ParleyError } from '../errors.ts';

export const CLOSING_MESSAGE_JOB = 'routing.closing_message';

/**
 * A queue's "close with message" exit (out of hours, full, waited too long) closes the
 * conversation in the routing transaction and queues the message, which then leaves like any
 * reply: into the widget, or through the conversation's channel (SMS, email …).
 */
export async function enqueueClosingMessage(trx: Transaction<Database>, tenantId: string, conversationId: string, content: string): Promise<void> {
  if (!content.trim()) return;
  await enqueueJob(trx, { tenantId, kind: CLOSING_MESSAGE_JOB, payload: { conversationId, content } });
}

export function closingMessageJob(deps: Pick<Deps, 'db' | 'committer' | 'routing'>): JobHandler {
  return async (job) => {
    try {
      await postMessage(deps, {
        tenantId: job.tenantId!,
        conversationId: String(job.payload.conversationId),
        direction: 'out',
        senderType: 'system',
        senderId: null,
        senderName: null,
        content: String(job.payload.content),
        // A retried job finds its message stored.
        clientMessageId: `closing:${job.id}`,
      });
    } catch (err) {
      // Refused for good (the contact opted out, the conversation is gone): nothing to retry.
      if (err instanceof ParleyError && err.statusCode < 500) throw new PermanentJobError(err.message);
      throw err;
    }
  };
}
