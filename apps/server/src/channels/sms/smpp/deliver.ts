import { createHash } from 'node:crypto';
import type { InboxRow } from '../../../db/schema.ts';
import type { IngestDeps } from '../../ingest.ts';
import { applyDeliveryReport } from '../../outbound.ts';
import { ingestSmsText, storePart } from '../long-sms.ts';
import { toE164 } from '../provider-http.ts';
import { decodeSms, type ConcatenationInfo } from './encoding.ts';
import { Status, Tag, tlvString, tlvValue, type ShortMessageBody, type Tlv } from './pdu.ts';
import { isDeliveryReceipt, parseReceipt, smppStatus } from './receipt.ts';
import { smppDb } from './smpp-tables.ts';

/** A receipt can overtake the send job's own bookkeeping (the SMSC answers fast): look again for this long before giving up. */
const RECEIPT_WAITS_MS = [200, 1_000, 3_000];

/**
 * One deliver_sm of an inbox's bind, handled to the end (stored and committed) before the
 * caller answers deliver_sm_resp: a delivery receipt updates the message it names, anything
 * else is a text from a handset (one part of it, maybe) for the shared inbound path.
 * Resolves with the deliver_sm_resp command_status.
 */
export async function handleDeliverSm(deps: IngestDeps, inbox: InboxRow, body: ShortMessageBody): Promise<number> {
  const payload = tlvValue(body.tlvs, Tag.message_payload);
  const bytes = body.shortMessage.length === 0 && payload ? payload : body.shortMessage;
  const decoded = decodeSms(body.dataCoding, body.esmClass, bytes);
  if (isDeliveryReceipt(body.esmClass)) {
    await applyReceipt(deps, inbox, body, decoded.text);
    return Status.ESME_ROK;
  }
  const concat = decoded.concat ?? sarConcatenation(body.tlvs);
  const from = toE164(body.sourceAddr);
  const to = toE164(body.destinationAddr);
  const details = { smpp: { dataCoding: body.dataCoding, esmClass: body.esmClass, serviceType: body.serviceType } };
  if (!concat || concat.total === 1) {
    await ingestSmsText(deps, inbox, { providerId: inboundProviderId(body, bytes), from, to, text: decoded.text, details });
    return Status.ESME_ROK;
  }
  await storePart(deps, inbox, { from, to, part: concat, text: decoded.text, details, idPrefix: 'smpp-c' });
  return Status.ESME_ROK;
}

/**
 * The exactly-once key of an inbound SMS: the SMSC's id when it gives one (receipted_message_id
 * on a deliver_sm), else a hash of what a redelivery repeats unchanged: addresses, coding and
 * bytes, and the time fields. Two identical texts from one phone with no time fields and no id
 * collapse into one; SMSCs that redeliver cannot be told apart from that case (docs/channels/sms.md).
 */
function inboundProviderId(body: ShortMessageBody, bytes: Buffer): string {
  const smscId = tlvString(body.tlvs, Tag.receipted_message_id);
  if (smscId) return `smpp:${smscId}`;
  const hash = createHash('sha256')
    .update([body.sourceAddr, body.destinationAddr, body.dataCoding, body.esmClass, body.scheduleDeliveryTime, body.validityPeriod, bytes.toString('hex')].join('\u0000'))
    .digest('hex');
  return `smpp-h:${hash.slice(0, 40)}`;
}

/** The SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum): concatenation without a UDH. */
function sarConcatenation(tlvs: Tlv[]): ConcatenationInfo | null {
  const ref = tlvValue(tlvs, Tag.sar_msg_ref_num);
  const total = tlvValue(tlvs, Tag.sar_total_segments);
  const seq = tlvValue(tlvs, Tag.sar_segment_seqnum);
  if (ref?.length !== 2 || total?.length !== 1 || seq?.length !== 1) return null;
  if (seq[0]! < 1 || seq[0]! > total[0]!) return null;
  return { reference: ref.readUInt16BE(0), total: total[0]!, sequence: seq[0]! };
}

/**
 * A delivery receipt → the status of the message it names, found by message id in the inbox
 * (whichever bind or node sent it): the id of a single SMS, or of any part of a long one
 * through smpp_part_ids.
 */
async function applyReceipt(deps: IngestDeps, inbox: InboxRow, body: ShortMessageBody, text: string): Promise<void> {
  const receipt = parseReceipt(body, text);
  const status = receipt.stat ? smppStatus(receipt.stat) : null;
  if (!status || receipt.messageIds.length === 0) {
    deps.log.debug({ inboxId: inbox.id, receipt }, 'smpp: a receipt that changes nothing');
    return;
  }
  const reason = status === 'failed' ? `${receipt.stat}${receipt.err ? ` (err ${receipt.err})` : ''}` : null;
  for (let attempt = 0; ; attempt++) {
    const providerIds = await correlatedIds(deps, inbox, receipt.messageIds);
    const known = await deps.db
      .selectFrom('channel_messages')
      .select('message_id')
      .where('tenant_id', '=', inbox.tenant_id)
      .where('inbox_id', '=', inbox.id)
      .where('direction', '=', 'out')
      .where('external_id', 'in', providerIds)
      .executeTakeFirst();
    if (known) {
      await applyDeliveryReport(deps, inbox.tenant_id, inbox.id, { providerIds, status, reason });
      return;
    }
    const wait = RECEIPT_WAITS_MS[attempt];
    if (wait === undefined) {
      deps.log.info({ inboxId: inbox.id, messageIds: receipt.messageIds }, 'smpp: a receipt for a message Parley does not know');
      return;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

async function correlatedIds(deps: IngestDeps, inbox: InboxRow, ids: string[]): Promise<string[]> {
  const firsts = await smppDb(deps.db)
    .selectFrom('smpp_part_ids')
    .select('first_message_id')
    .where('tenant_id', '=', inbox.tenant_id)
    .where('inbox_id', '=', inbox.id)
    .where('part_message_id', 'in', ids)
    .execute();
  return [...new Set([...ids, ...firsts.map((f) => f.first_message_id)])];
}
