import pg from 'pg';

/** Distinct statements a connection keeps prepared; past it, new ones run unnamed. */
const MAX_PREPARED_PER_CONNECTION = 300;
/** A statement is prepared from its second use on: one-off texts (odd batch sizes, admin reads) stay unnamed. */
const USES_BEFORE_PREPARING = 2;
const MAX_TRACKED_TEXTS = 5_000;

const query = pg.Client.prototype.query as unknown as (this: pg.Client, ...args: unknown[]) => never;

/** Statement texts seen by this process: how often, and the name they are prepared under. */
const seen = new Map<string, { uses: number; name: string }>();

/**
 * A pg client that runs the statements an application repeats as named prepared statements, so
 * PostgreSQL parses them once per connection and can reuse their plan: Kysely sends every query
 * as text, and parse + plan cost the server more than executing our short statements.
 *
 * Statements without parameters (begin, commit, DDL) keep the simple protocol. Preparing waits
 * until the pool's `preparing.on` is set after the migrations: a statement prepared before an
 * ALTER TABLE of its table would fail on its next use.
 */
export class PreparingClient extends pg.Client {
  private readonly preparing: { on: boolean };
  private prepared = 0;

  constructor(config: pg.ClientConfig & { preparing: { on: boolean } }) {
    super(config);
    this.preparing = config.preparing;
  }

  // pg's query has many overloads; only (text, values) with values is rewritten.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    if (this.preparing.on && typeof text === 'string' && Array.isArray(values) && values.length > 0 && args.length === 2) {
      const name = this.nameFor(text);
      if (name) return query.call(this, { name, text, values });
    }
    return query.apply(this, args);
  }

  private nameFor(text: string): string | null {
    let entry = seen.get(text);
    if (!entry) {
      if (seen.size >= MAX_TRACKED_TEXTS) return null;
      seen.set(text, (entry = { uses: 0, name: `s${seen.size}` }));
    }
    entry.uses += 1;
    if (entry.uses < USES_BEFORE_PREPARING) return null;
    const known = (this as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements;
    if (known[entry.name] !== undefined) return entry.name;
    if (this.prepared >= MAX_PREPARED_PER_CONNECTION) return null;
    this.prepared += 1;
    return entry.name;
  }
}
