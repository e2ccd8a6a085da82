import type { ColumnType, Generated } from 'kysely';
import type { Db } from '../../../db/database.ts';

/** The tables of schema v8 (db/migrations.ts) that only the SMPP channel uses. */
export type SmppTables = {
  /** Every part of a long message Parley sent → the part whose id is the message's provider id. */
  smpp_part_ids: { tenant_id: string; inbox_id: string; part_message_id: string; first_message_id: string; created_at: Generated<Date> };
  /** Parts of a concatenated inbound SMS, kept until the last one arrives (or they time out), then for as long again. */
  smpp_inbound_parts: {
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

export const smppDb = (db: Db) => db.withTables<SmppTables>();
