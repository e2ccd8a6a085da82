import type { Kysely, Transaction } from 'kysely';
import type { ContactRow, Database } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { notFound } from '../errors.ts';

type Q = Kysely<Database> | Transaction<Database>;

export interface ContactInput {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  /** Only a verified identifier (HMAC, API key) may merge into an existing contact. */
  verifiedIdentifier?: string | null;
}

export async function getContactOrThrow(db: Q, tenantId: string, id: string): Promise<ContactRow> {
  const row = await db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('contact');
  return row;
}

/**
 * A verified identifier finds (or creates) the one contact that carries it. Anything else is a
 * new contact: an email typed into a form proves nothing, so it never joins a known contact.
 */
export async function resolveContact(db: Q, tenantId: string, input: ContactInput): Promise<ContactRow> {
  const base = { name: input.name?.trim() || null, email: input.email?.trim().toLowerCase() || null, phone: input.phone?.trim() || null };
  if (input.verifiedIdentifier) {
    const row = await db
      .insertInto('contacts')
      .values({ id: newId('ctc'), tenant_id: tenantId, ...base, identifier: input.verifiedIdentifier, verified: true, custom_attributes: '{}' })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'identifier']).where('identifier', 'is not', null).doUpdateSet((eb) => ({
          name: eb.fn.coalesce(eb.val(base.name), eb.ref('contacts.name')),
          email: eb.fn.coalesce(eb.val(base.email), eb.ref('contacts.email')),
          updated_at: new Date(),
        })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return row;
  }
  return db
    .insertInto('contacts')
    .values({ id: newId('ctc'), tenant_id: tenantId, ...base, identifier: null, verified: false, custom_attributes: '{}' })
    .returningAll()
    .executeTakeFirstOrThrow();
}
