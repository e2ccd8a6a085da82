import { afterAll, describe, expect, it } from 'vitest';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { startTwoNodes } from '../../test/test-parley.ts';

// Two servers on one PostgreSQL whose transactions lock the same rows in opposite orders: the
// deadlock detector aborts one of them, and that use case runs again instead of failing.

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('a use case aborted by a deadlock', () => {
  it('runs again, and both use cases commit', async () => {
    const { a, b, stop } = await startTwoNodes({ workers: false });
    cleanup.push(stop);
    const one = await a.createTenant('One');
    const two = await a.createTenant('Two');

    let attempts = 0;
    const locked: Record<string, () => void> = {};
    const lockedBoth = { one: new Promise<void>((r) => (locked.one = r)), two: new Promise<void>((r) => (locked.two = r)) };
    // Each locks its own tenant's row, waits (first try only) until the other has locked its own, then locks the other's.
    const crossing = (mine: 'one' | 'two', first: string, then: string) => async (trx: Transaction<Database>) => {
      attempts++;
      await sql`SELECT 1 FROM tenants WHERE id = ${first} FOR UPDATE`.execute(trx);
      locked[mine]!();
      await lockedBoth[mine === 'one' ? 'two' : 'one'];
      await sql`SELECT 1 FROM tenants WHERE id = ${then} FOR UPDATE`.execute(trx);
      await sql`UPDATE tenants SET name = name || ${` +${mine}`} WHERE id = ${first}`.execute(trx);
      return mine;
    };
    const results = await Promise.all([
      a.parley.deps.committer.run(one.tenantId, crossing('one', one.tenantId, two.tenantId)),
      b.parley.deps.committer.run(two.tenantId, crossing('two', two.tenantId, one.tenantId)),
    ]);
    expect(results).toEqual(['one', 'two']);
    // One of the two was aborted once and ran again.
    expect(attempts).toBe(3);
    const names = await a.db.selectFrom('tenants').select('name').where('id', 'in', [one.tenantId, two.tenantId]).orderBy('name').execute();
    expect(names.map((n) => n.name)).toEqual(['One +one', 'Two +two']);
  });
});
