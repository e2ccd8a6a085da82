import { createHash } from 'node:crypto';
import { sql, type ColumnType, type Generated } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { InboxRow } from '../../db/schema.ts';
import type { Deps } from '../../deps.ts';
import { enqueueJob, type JobHandler } from '../../jobs/job-queue.ts';
import { ingestInbound, type IngestDeps } from '../ingest.ts';
import { storableStrings } from '../../conversations/storable-text.ts';
import { adapter as smsAdapter } from './adapter.ts';

/** How long the parts of a long text wait for the rest before what arrived is stored with a mark for each missing part. */
export const PARTS_WAIT_MS = 10 * 60_000;

/** One part of a long (concatenated) text, as the provider numbers it. */
export interface PartNumbering {
  /** The sender's reference, the same on every part of one text. */
  reference: string | number;
  total: number;
  /** 1 … total */
  sequence: number;
}

type PartsTables = {
  /** Parts of a concatenated inbound SMS, kept until the last one arrives (or they time out), then for as long again. */
  sms_inbound_parts: {
    tenant_id: string;
    inbox_id: string;
    concat_key: string;
    part_no: number;
    total: number;
    text: string;
    /** jsonb: written as JSON text, read as the object. */
    details: ColumnType<Record<string, unknown>, string, string>;
    received_at: Generated<Date>;
    /** Set when the whole text was stored: the rows stay a while so a late redelivered part is recognized, not kept as a new message. */
    assembled_at: Date | null;
  };
};
const partsDb = (db: Db) => db.withTables<PartsTables>();

export interface InboundPart {
  from: string;
  to: string;
  part: PartNumbering;
  text: string;
  details: Record<string, unknown>;
  /** Names the provider in the assembled text's exactly-once key (`<prefix>:<hash of the parts>`). */
  idPrefix: string;
}

/** A whole inbound text to the shared path (normalized by the SMS adapter, then stored and routed once). */
export async function ingestSmsText(deps: IngestDeps, inbox: InboxRow, sms: { providerId: string; from: string; to: string; text: string; details: Record<string, unknown> }): Promise<void> {
  const message = await smsAdapter.parseInbound({ ...sms, media: [] });
  await ingestInbound(deps, inbox, message);
}

const concatKey = (p: InboundPart) => `${p.from}|${p.to}|${p.part.reference}|${p.part.total}|${p.idPrefix}`;

/**
 * Keeps one part of a long text in the database (so parts may arrive at any node, and an
 * acknowledged part survives a restart); the part that completes the set has the whole text
 * ingested. The parts stay, marked assembled, for PARTS_WAIT_MS: a part the provider delivers
 * again after that is recognized and acknowledged, not kept as a new text.
 *
 * Returns true when this part began a set (no other part of it was there): the caller then
 * schedules the set's flush. Two first parts stored at once may both say so; never neither, as
 * each sees every part committed before its statement began.
 */
export async function storePart(deps: IngestDeps, inbox: InboxRow, received: InboundPart): Promise<boolean> {
  // Parts wait in the database before the shared ingest path sees their text: made storable here as it would be there.
  const part = storableStrings(received);
  const key = concatKey(part);
  const stored = await partsDb(deps.db)
    .insertInto('sms_inbound_parts')
    .values({ tenant_id: inbox.tenant_id, inbox_id: inbox.id, concat_key: key, part_no: part.part.sequence, total: part.part.total, text: part.text, details: JSON.stringify(part.details), assembled_at: null })
    .onConflict((oc) => oc.columns(['tenant_id', 'inbox_id', 'concat_key', 'part_no']).doNothing())
    .returning(
      sql<boolean>`NOT EXISTS (SELECT 1 FROM sms_inbound_parts o WHERE o.tenant_id = ${inbox.tenant_id} AND o.inbox_id = ${inbox.id} AND o.concat_key = ${key} AND o.part_no <> ${part.part.sequence})`.as('first'),
    )
    .executeTakeFirst();
  await assembleParts(deps, inbox, key, false);
  return stored?.first === true;
}

/**
 * Ingests the parts of one long text when all are there, or, when `timedOut`, what arrived
 * with a mark for each missing part; then marks them assembled. Ingest is keyed by the parts'
 * content, so two nodes assembling the same set at once store it once.
 */
async function assembleParts(deps: IngestDeps, inbox: InboxRow, key: string, timedOut: boolean): Promise<boolean> {
  const db = partsDb(deps.db);
  const parts = await db
    .selectFrom('sms_inbound_parts')
    .select(['part_no', 'total', 'text', 'details', 'assembled_at'])
    .where('tenant_id', '=', inbox.tenant_id)
    .where('inbox_id', '=', inbox.id)
    .where('concat_key', '=', key)
    .orderBy('part_no')
    .execute();
  const markAssembled = () =>
    db.updateTable('sms_inbound_parts').set({ assembled_at: new Date() }).where('tenant_id', '=', inbox.tenant_id).where('inbox_id', '=', inbox.id).where('concat_key', '=', key).where('assembled_at', 'is', null).execute();
  if (parts.some((p) => p.assembled_at)) {
    // Stored already: this was a late copy of a part.
    await markAssembled();
    return false;
  }
  const total = parts[0]?.total ?? 0;
  if (parts.length === 0 || (!timedOut && parts.length < total)) return false;
  const byNo = new Map(parts.map((p) => [p.part_no, p.text]));
  const missing: number[] = [];
  let text = '';
  for (let n = 1; n <= total; n++) {
    const piece = byNo.get(n);
    if (piece === undefined) missing.push(n);
    text += piece ?? ' […] ';
  }
  const fields = key.split('|');
  const [from, to] = [fields[0]!, fields[1]!];
  // Keys stored before Vonage's parts joined had no prefix field: they were SMPP's.
  const prefix = fields[4] ?? 'smpp-c';
  const providerId = `${prefix}:${createHash('sha256').update(`${fields.slice(0, 4).join('|')}\u0000${parts.map((p) => `${p.part_no}:${p.text}`).join('\u0000')}`).digest('hex').slice(0, 40)}`;
  const details = { ...parts[0]!.details, parts: total, ...(missing.length ? { missingParts: missing } : {}) };
  await ingestSmsText(deps, inbox, { providerId, from, to, text, details });
  await markAssembled();
  return true;
}

/**
 * Long texts of this inbox whose first part came longer than maxAgeMs ago and never completed:
 * stored with what arrived. Assembled parts older than that are forgotten.
 */
export async function flushStaleParts(deps: IngestDeps, inbox: InboxRow, maxAgeMs: number): Promise<number> {
  const db = partsDb(deps.db);
  const cutoff = new Date(Date.now() - maxAgeMs);
  const stale = await db
    .selectFrom('sms_inbound_parts')
    .select('concat_key')
    .where('tenant_id', '=', inbox.tenant_id)
    .where('inbox_id', '=', inbox.id)
    .groupBy('concat_key')
    .having(sql<Date>`min(received_at)`, '<', cutoff)
    .having(sql<number>`count(assembled_at)`, '=', 0)
    .execute();
  let flushed = 0;
  for (const { concat_key } of stale) if (await assembleParts(deps, inbox, concat_key, true)) flushed++;
  await db.deleteFrom('sms_inbound_parts').where('tenant_id', '=', inbox.tenant_id).where('inbox_id', '=', inbox.id).where('assembled_at', '<', cutoff).execute();
  return flushed;
}

export const FLUSH_PARTS_JOB = 'sms.flush-parts';

/** After the first part of a set came by HTTP (no bind runs a timer for those inboxes): the inbox's incomplete texts are flushed once their wait is over. */
export function scheduleFlush(db: Db, inbox: InboxRow): Promise<void> {
  return enqueueJob(db, { tenantId: inbox.tenant_id, kind: FLUSH_PARTS_JOB, payload: { inboxId: inbox.id }, runAt: new Date(Date.now() + PARTS_WAIT_MS + 1_000) });
}

export function flushPartsJob(deps: Deps): JobHandler {
  return async (job) => {
    const inbox = await deps.db.selectFrom('inboxes').selectAll().where('tenant_id', '=', job.tenantId!).where('id', '=', String(job.payload.inboxId)).executeTakeFirst();
    if (inbox) await flushStaleParts(deps, inbox, PARTS_WAIT_MS);
  };
}
