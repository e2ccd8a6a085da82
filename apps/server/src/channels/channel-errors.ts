import type { Db } from '../db/database.ts';
import { newId } from '../ids.ts';
import { storableText } from '../conversations/storable-text.ts';

/** How many problems of one inbox are kept for the admin to see. */
const KEPT_PER_INBOX = 50;

/**
 * Notes a problem of an inbox's channel connection (a refused webhook signature, a lost SMPP
 * bind, a provider refusing a send) where the admin sees it, keeping the last few per inbox.
 * The message often quotes a provider, so it is made storable (a NUL would fail the insert).
 */
export async function recordChannelError(db: Db, error: { tenantId: string; inboxId: string; kind: string; message: string }): Promise<void> {
  await db
    .insertInto('channel_errors')
    .values({ id: newId('cer'), tenant_id: error.tenantId, inbox_id: error.inboxId, kind: storableText(error.kind).slice(0, 100), message: storableText(error.message).slice(0, 1000) })
    .execute();
  await db
    .deleteFrom('channel_errors')
    .where('tenant_id', '=', error.tenantId)
    .where('inbox_id', '=', error.inboxId)
    .where('id', 'not in', (qb) =>
      qb.selectFrom('channel_errors').select('id').where('tenant_id', '=', error.tenantId).where('inbox_id', '=', error.inboxId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(KEPT_PER_INBOX),
    )
    .execute();
}
