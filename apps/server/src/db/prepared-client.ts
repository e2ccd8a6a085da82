import pg from 'pg';

/** Distinct statements a connection keeps prepared; past it, new ones run unnamed. */
const MAX_PREPARED_PER_CONNECTION = 300;
/** A statement is prepared from its second use on: one-off texts (odd batch sizes, admin reads) stay unnamed. */
const USES_BEFORE_PREPARING = 2;
const MAX_TRACKED_TEXTS = 5_000;

const query = pg.Client.prototype.query as unknown as (this: pg.Client, ...args: unknown[]) => never;
const handleParseComplete = (pg.Client.prototype as unknown as { _handleParseComplete(this: pg.Client): void })._handleParseComplete;

/**
 * Starts the text of a statement that must be its transaction's last: the client sends COMMIT
 * right behind it, in the same write, and answers the transaction's own COMMIT without a round
 * trip. If the statement fails, PostgreSQL skips the COMMIT and the transaction rolls back as usual.
 */
export const COMMIT_ALONG = '/* commit along */ ';

/** What Kysely reads of a result, for the BEGIN and COMMIT answered without a round trip. */
const done = (command: string) => Promise.resolve({ command, rowCount: null, rows: [], fields: [] });

/** The parts of pg's connection and Query that FusedQuery uses (pg-cursor builds on the same hooks). */
interface PgConnection {
  stream: { cork?(): void; uncork?(): void };
  parse(q: { text: string; name?: string }): void;
  bind(c?: object): void;
  execute(c?: { portal?: string; rows?: number }): void;
  sync(): void;
}
interface PgQuery {
  portal: string;
  submit(connection: PgConnection): Error | null;
  _getRows(connection: PgConnection, rows?: number): void;
  handleCommandComplete(msg: unknown, connection: PgConnection): void;
}
const Query = (pg as unknown as { Query: new (config: object) => PgQuery }).Query;

/**
 * One statement with the transaction's BEGIN written before it and/or its COMMIT after it, in
 * one write and one Sync: PostgreSQL runs them in order and answers once, so a transaction saves
 * a round trip at each end. The extra command completions are not part of the result.
 */
class FusedQuery extends Query {
  private completions = 0;
  private beginParsed = false;

  constructor(
    config: object,
    private readonly withBegin: boolean,
    private readonly withCommit: boolean,
  ) {
    super(config);
  }

  override submit(connection: PgConnection): Error | null {
    connection.stream.cork?.();
    try {
      if (this.withBegin) writeStatement(connection, 'begin');
      return super.submit(connection);
    } finally {
      connection.stream.uncork?.();
    }
  }

  // pg writes Execute and Sync here; the COMMIT goes between them.
  override _getRows(connection: PgConnection, rows?: number): void {
    if (!this.withCommit || rows) return super._getRows(connection, rows);
    connection.execute({ portal: this.portal });
    writeStatement(connection, 'commit');
    connection.sync();
  }

  override handleCommandComplete(msg: unknown, connection: PgConnection): void {
    const n = this.completions++;
    if (this.withBegin && n === 0) return;
    if (this.withCommit && n === (this.withBegin ? 2 : 1)) return;
    super.handleCommandComplete(msg, connection);
  }

  /** BEGIN's ParseComplete arrives first and must not mark this statement as prepared (its own Parse may still fail). */
  isBeginParseComplete(): boolean {
    if (!this.withBegin || this.beginParsed) return false;
    this.beginParsed = true;
    return true;
  }
}

function writeStatement(connection: PgConnection, text: string): void {
  connection.parse({ text });
  connection.bind();
  connection.execute();
}

/** Statement texts seen by this process: how often, and the name they are prepared under. */
const seen = new Map<string, { uses: number; name: string }>();

/**
 * A pg client that runs the statements an application repeats as named prepared statements, so
 * PostgreSQL parses them once per connection and can reuse their plan: Kysely sends every query
 * as text, and parse + plan cost the server more than executing our short statements.
 *
 * It also spares each transaction the round trip of its BEGIN: Kysely's `begin` is answered at
 * once and sent in the same write as the transaction's first statement (a COMMIT or ROLLBACK of
 * a transaction that ran nothing is answered without a round trip as well); a statement starting
 * with COMMIT_ALONG carries the COMMIT. Both ride only on statements with parameters, which pg
 * sends in the extended protocol; anything else first sends the BEGIN on its own, as before.
 *
 * Statements without parameters (begin, commit, DDL) keep the simple protocol. Preparing waits
 * until the pool's `preparing.on` is set after the migrations: a statement prepared before an
 * ALTER TABLE of its table would fail on its next use.
 */
export class PreparingClient extends pg.Client {
  private readonly preparing: { on: boolean };
  private prepared = 0;
  /** 'begin': a BEGIN was answered but not sent yet; 'committed': a COMMIT_ALONG statement ended the transaction. */
  private pending: 'begin' | 'committed' | null = null;

  constructor(config: pg.ClientConfig & { preparing: { on: boolean } }) {
    super(config);
    this.preparing = config.preparing;
  }

  // pg's query has many overloads; only (text, values) with values is rewritten.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const plain = typeof text === 'string' && Array.isArray(values) && args.length === 2;
    if (plain && this.pending === null && text === 'begin' && values.length === 0) {
      this.pending = 'begin';
      return done('BEGIN') as never;
    }
    if (this.pending !== null) {
      const ending = plain && (text === 'commit' || text === 'rollback');
      if (this.pending === 'committed') {
        // Nothing may run between a COMMIT_ALONG statement and the transaction's end: it would run outside the transaction.
        if (!ending) return Promise.reject(new Error('statement after a COMMIT_ALONG statement, which ended the transaction')) as never;
        this.pending = null;
        return done('COMMIT') as never;
      }
      this.pending = null;
      if (ending) return done(text.toUpperCase()) as never;
      if (plain && values.length > 0) return this.fused(text, values, true);
      // Not in the extended protocol (no parameters, a cursor, a callback): BEGIN goes first on its own.
      (query.call(this, 'begin') as Promise<unknown>).catch(() => undefined); // its failure reaches the statement queued behind it
    }
    if (plain && values.length > 0 && text.startsWith(COMMIT_ALONG)) return this.fused(text, values, false);
    if (this.preparing.on && typeof text === 'string' && Array.isArray(values) && values.length > 0 && args.length === 2) {
      const name = this.nameFor(text);
      if (name) return query.call(this, { name, text, values });
    }
    return query.apply(this, args);
  }

  private fused(text: string, values: unknown[], withBegin: boolean): never {
    const withCommit = text.startsWith(COMMIT_ALONG);
    const name = this.preparing.on ? this.nameFor(text) : null;
    return new Promise((resolve, reject) => {
      const callback = (err: Error | null, result: unknown) => {
        if (err) return reject(err);
        if (withCommit) this.pending = 'committed';
        resolve(result);
      };
      query.call(this, new FusedQuery({ text, values, callback, ...(name ? { name } : {}) }, withBegin, withCommit));
    }) as never;
  }

  // Overrides pg's handler (bound when the connection is set up) for BEGIN's ParseComplete.
  _handleParseComplete(): void {
    const active = (this as unknown as { _getActiveQuery(): unknown })._getActiveQuery();
    if (active instanceof FusedQuery && active.isBeginParseComplete()) return;
    handleParseComplete.call(this);
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
