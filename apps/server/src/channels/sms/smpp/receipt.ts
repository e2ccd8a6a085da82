import type { MessageStatus } from '../../../db/schema.ts';
import { Tag, tlvString, tlvValue, type ShortMessageBody } from './pdu.ts';

/** esm_class message type bits (2–5): SMSC delivery receipt, or an intermediate delivery notification. */
const RECEIPT_TYPES = new Set([0x04, 0x20]);

export function isDeliveryReceipt(esmClass: number): boolean {
  return RECEIPT_TYPES.has(esmClass & 0x3c);
}

/** message_state TLV values (§5.3.2.35) → the stat words of the receipt text (Appendix B). */
const MESSAGE_STATES: Record<number, string> = { 1: 'ENROUTE', 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV', 6: 'ACCEPTD', 7: 'UNKNOWN', 8: 'REJECTD' };

const STAT_STATUS: Record<string, MessageStatus | null> = {
  DELIVRD: 'delivered',
  DELIVERED: 'delivered',
  EXPIRED: 'failed',
  DELETED: 'failed',
  UNDELIV: 'failed',
  UNDELIVERABLE: 'failed',
  REJECTD: 'failed',
  REJECTED: 'failed',
  // Still on its way, or the SMSC does not know: nothing for Parley to change.
  ENROUTE: null,
  ACCEPTD: null,
  UNKNOWN: null,
};

/** A receipt's stat → Parley's status; null when it changes nothing. */
export function smppStatus(stat: string): MessageStatus | null {
  return STAT_STATUS[stat.toUpperCase()] ?? null;
}

export interface DeliveryReceipt {
  /** Ids this receipt may name the message by (TLV first, then the text's id, then its hex/decimal twin). */
  messageIds: string[];
  stat: string | null;
  err: string | null;
}

/**
 * A delivery receipt's facts, from the receipted_message_id / message_state TLVs when the
 * SMSC sends them, else from the text of Appendix B:
 * `id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:…`.
 * Some SMSCs answer submit_sm with a hex id and write it decimal in the receipt (or the other
 * way round), so both forms are candidates; the lookup is by id within the inbox either way.
 */
export function parseReceipt(body: ShortMessageBody, text: string): DeliveryReceipt {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S*)`, 'i').exec(text)?.[1] ?? null;
  const tlvId = tlvString(body.tlvs, Tag.receipted_message_id);
  const textId = field('id');
  const state = tlvValue(body.tlvs, Tag.message_state);
  const stat = (state && state.length === 1 ? MESSAGE_STATES[state[0]!] : undefined) ?? field('stat');
  const ids = new Set<string>();
  for (const id of [tlvId, textId]) {
    if (!id) continue;
    ids.add(id);
    if (/^[0-9]{1,20}$/.test(id)) ids.add(BigInt(id).toString(16));
    if (/^[0-9a-f]{1,16}$/i.test(id)) ids.add(BigInt(`0x${id}`).toString(10));
  }
  return { messageIds: [...ids], stat: stat ? stat.toUpperCase() : null, err: field('err') };
}
