import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from '../src/db/migrations.ts';
import { pgliteDatabase } from '../src/db/database.ts';

/** Makes the migrated PGlite template that every test's in-memory database starts from. */
export default async function setup() {
  if (process.env.TEST_DATABASE_URL) return;
  const lite = await PGlite.create('memory://');
  const { db } = pgliteDatabase(lite);
  await migrate(db);
  const file = join(tmpdir(), `parley-pglite-template-${process.pid}.tar`);
  await writeFile(file, Buffer.from(await (await lite.dumpDataDir('none')).arrayBuffer()));
  await db.destroy();
  process.env.PARLEY_TEST_PGLITE_TEMPLATE = file;
}
