import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * Takes or renews, for this node, each of the resources that no other node holds (or whose
 * holder let its lease run out) and answers those this node holds now. Times are the database's,
 * so the nodes' clocks do not matter. Call it again well before `ttlMs` passes to keep them.
 */
export async function holdLeases(db: Db, nodeId: string, resources: string[], ttlMs: number): Promise<Set<string>> {
  if (resources.length === 0) return new Set();
  const { rows } = await sql<{ resource: string }>`
    INSERT INTO leases (resource, node_id, until)
    SELECT r, ${nodeId}, now() + ${ttlMs} * interval '1 millisecond' FROM unnest(${resources}::text[]) AS r
    ON CONFLICT (resource) DO UPDATE SET node_id = excluded.node_id, until = excluded.until
      WHERE leases.node_id = excluded.node_id OR leases.until < now()
    RETURNING resource`.execute(db);
  return new Set(rows.map((r) => r.resource));
}

/** Gives the resources back at once (a node stopping), so another node need not wait for the leases to run out. */
export async function releaseLeases(db: Db, nodeId: string, resources: string[]): Promise<void> {
  if (resources.length > 0) await db.deleteFrom('leases').where('node_id', '=', nodeId).where('resource', 'in', resources).execute();
}
