import type { Generated } from 'kysely';
import type { Db } from '../../../db/database.ts';

/** The tables of schema v8 (db/migrations.ts) that only the SMPP channel uses. */
export type SmppTables = {
  /** Every part of a long message Parley sent → the part whose id is the message's provider id. */
  smpp_part_ids: { tenant_id: string; inbox_id: string; part_message_id: string; first_message_id: string; created_at: Generated<Date> };
};

export const smppDb = (db: Db) => db.withTables<SmppTables>();
