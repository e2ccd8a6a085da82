import { sql, type RawBuilder } from 'kysely';

/**
 * The `FROM … WHERE` of an UPDATE of many rows by id, each with its own values (`v.<column>`,
 * typed by `columns`, e.g. sql`id text, status text`). The ids drive the plan: unnest is
 * estimated small, so PostgreSQL reaches each row by primary key, also in a prepared
 * statement's generic plan, which sizes a tenant by the average one and, joining the values
 * alone, read a big tenant's every row by its tenant_id index (decision 0005,
 * db/tenant-plans.test.ts). The caller adds its tenant condition after it (`AND c.tenant_id = …`).
 */
export function rowsById(alias: string, rows: { id: string }[], columns: RawBuilder<unknown>) {
  return sql`FROM unnest(${rows.map((r) => r.id)}::text[]) AS k(id)
    JOIN jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(${columns}) ON v.id = k.id
    WHERE ${sql.ref(`${alias}.id`)} = k.id`;
}
