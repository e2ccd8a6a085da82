import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../test/test-database.ts';
import type { OpenedDatabase } from './database.ts';
import { holdLeases, releaseLeases } from './leases.ts';

let database: OpenedDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database?.close());

describe('leases', () => {
  it('one node holds a resource until it lets the lease run out or gives it back', async () => {
    const { db } = database;
    expect(await holdLeases(db, 'a', ['mailbox-1', 'mailbox-2'], 60_000)).toEqual(new Set(['mailbox-1', 'mailbox-2']));
    // Held by a: b gets only what nobody holds.
    expect(await holdLeases(db, 'b', ['mailbox-1', 'mailbox-3'], 60_000)).toEqual(new Set(['mailbox-3']));
    // a renews what it holds.
    expect(await holdLeases(db, 'a', ['mailbox-1', 'mailbox-3'], 50)).toEqual(new Set(['mailbox-1']));
    // a stops renewing (a crash): once the lease ran out, b takes it, and a cannot take it back.
    await new Promise((r) => setTimeout(r, 100));
    expect(await holdLeases(db, 'b', ['mailbox-1'], 60_000)).toEqual(new Set(['mailbox-1']));
    expect(await holdLeases(db, 'a', ['mailbox-1'], 60_000)).toEqual(new Set());
    // Given back, it is free at once; giving back what another node holds changes nothing.
    await releaseLeases(db, 'a', ['mailbox-1', 'mailbox-2']);
    expect(await holdLeases(db, 'c', ['mailbox-1', 'mailbox-2'], 60_000)).toEqual(new Set(['mailbox-2']));
    expect(await holdLeases(db, 'c', [], 60_000)).toEqual(new Set());
  });
});
