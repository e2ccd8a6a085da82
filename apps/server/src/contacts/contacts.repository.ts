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
 * The contacts of new conversations, in order: a contact named by id (of this tenant, else
 * 404), or found or created from what the channel knows. A verified identifier finds (or
 * creates) the one contact that carries it. Anything else is a new contact: an email typed into
 * a form proves nothing, so it never joins a known contact.
 */
export async function resolveContacts(db: Q, tenantId: string, inputs: (ContactInput | { id: string })[]): Promise<ContactRow[]> {
  const base = (input: ContactInput) => ({ name: input.name?.trim() || null, email: input.email?.trim().toLowerCase() || null, phone: input.phone?.trim() || null });
  // Each input finds its row by a key: its verified identifier, or its id — named, or chosen here
  // for a new contact (so the order RETURNING gives does not matter).
  const keyOf = inputs.map((input) => ('id' in input ? input.id : input.verifiedIdentifier ? `identifier:${input.verifiedIdentifier}` : newId('ctc')));
  const fresh = inputs.flatMap((input, i) => ('id' in input || input.verifiedIdentifier ? [] : [{ id: keyOf[i]!, tenant_id: tenantId, ...base(input), identifier: null, verified: false, custom_attributes: '{}' }]));
  // Several inputs with one identifier act in order on one contact: the last name or email given wins.
  const byIdentifier = new Map<string, ReturnType<typeof base>>();
  for (const input of inputs) {
    if ('id' in input || !input.verifiedIdentifier) continue;
    const b = base(input);
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
  const created = fresh.length === 0 ? [] : await db.insertInto('contacts').values(fresh).returningAll().execute();
  const named = inputs.flatMap((input) => ('id' in input ? [input.id] : []));
  const known = named.length === 0 ? [] : await db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', named).execute();
  const byKey = new Map([...created, ...known].map((c) => [c.id, c]));
  for (const c of verified) byKey.set(`identifier:${c.identifier}`, c);
  return keyOf.map((key) => {
    const contact = byKey.get(key);
    if (!contact) throw notFound('contact');
    return contact;
  });
}
