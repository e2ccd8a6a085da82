import { sql, type Kysely, type Transaction } from 'kysely';
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

/** A new contact's whole row, its id and times chosen here (it can then be inserted alongside other writes, see insertContactsSql). */
export function newContactRow(tenantId: string, c: { id?: string; name: string | null; email: string | null; phone: string | null; identifier?: string | null; verified?: boolean }, at = new Date()): ContactRow {
  return { id: c.id ?? newId('ctc'), tenant_id: tenantId, name: c.name, email: c.email, phone: c.phone, identifier: c.identifier ?? null, verified: c.verified ?? false, custom_attributes: {}, created_at: at, updated_at: at };
}

/** Inserts new contacts (newContactRow): one statement text for any number (they travel as JSON), so it is prepared once. */
export function insertContactsSql(rows: ContactRow[]) {
  return sql`INSERT INTO contacts (id, tenant_id, name, email, phone, identifier, verified, custom_attributes, created_at, updated_at)
    SELECT v.id, v.tenant_id, v.name, v.email, v.phone, v.identifier, v.verified, v.custom_attributes, v.created_at, v.updated_at
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(id text, tenant_id text, name text, email text, phone text, identifier text,
      verified boolean, custom_attributes jsonb, created_at timestamptz, updated_at timestamptz)`;
}

/** A new contact's name, email and phone as a form or API gave them. */
export const contactFields = (input: ContactInput) => ({ name: input.name?.trim() || null, email: input.email?.trim().toLowerCase() || null, phone: input.phone?.trim() || null });

/** Inputs that can only make new contacts (no id named, no verified identifier): their rows can be written without a read. */
export function onlyNewContacts(inputs: (ContactInput | { id: string })[]): inputs is ContactInput[] {
  return inputs.every((input) => !('id' in input) && !input.verifiedIdentifier);
}

export async function getContactOrThrow(db: Q, tenantId: string, id: string): Promise<ContactRow> {
  const row = await db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('contact');
  return row;
}

/**
 * The contacts of new conversations, in order: a contact named by id (of this tenant, else
 * 404), or found or created from what the channel knows. A verified identifier finds (or
 * creates) the one contact that carries it. Anything else is a new contact: an email typed into
 * a form proves nothing, so it never joins a known contact.
 */
export async function resolveContacts(db: Q, tenantId: string, inputs: (ContactInput | { id: string })[]): Promise<ContactRow[]> {
  // Each input finds its row by a key: its verified identifier, or its id — named, or chosen here
  // for a new contact (so the order RETURNING gives does not matter).
  const keyOf = inputs.map((input) => ('id' in input ? input.id : input.verifiedIdentifier ? `identifier:${input.verifiedIdentifier}` : newId('ctc')));
  const fresh = inputs.flatMap((input, i) => ('id' in input || input.verifiedIdentifier ? [] : [newContactRow(tenantId, { id: keyOf[i]!, ...contactFields(input) })]));
  // Several inputs with one identifier act in order on one contact: the last name or email given wins.
  const byIdentifier = new Map<string, ReturnType<typeof contactFields>>();
  for (const input of inputs) {
    if ('id' in input || !input.verifiedIdentifier) continue;
    const b = contactFields(input);
    const seen = byIdentifier.get(input.verifiedIdentifier);
    byIdentifier.set(input.verifiedIdentifier, seen ? { name: b.name ?? seen.name, email: b.email ?? seen.email, phone: seen.phone } : b);
  }
  const verified = byIdentifier.size === 0 ? [] : await db
    .insertInto('contacts')
    .values([...byIdentifier].map(([identifier, b]) => ({ id: newId('ctc'), tenant_id: tenantId, ...b, identifier, verified: true, custom_attributes: '{}' })))
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'identifier']).where('identifier', 'is not', null).doUpdateSet((eb) => ({
        name: eb.fn.coalesce(eb.ref('excluded.name'), eb.ref('contacts.name')),
        email: eb.fn.coalesce(eb.ref('excluded.email'), eb.ref('contacts.email')),
        updated_at: new Date(),
      })),
    )
    .returningAll()
    .execute();
  if (fresh.length > 0) await insertContactsSql(fresh).execute(db);
  const named = inputs.flatMap((input) => ('id' in input ? [input.id] : []));
  const known = named.length === 0 ? [] : await db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', named).execute();
  const byKey = new Map([...fresh, ...known].map((c) => [c.id, c]));
  for (const c of verified) byKey.set(`identifier:${c.identifier}`, c);
  return keyOf.map((key) => {
    const contact = byKey.get(key);
    if (!contact) throw notFound('contact');
    return contact;
  });
}
