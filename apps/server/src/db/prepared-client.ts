import pg from 'pg';
import { CompiledQuery, type Compilable, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from './schema.ts';

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

/**
 * Starts the text of a statement whose answer the transaction need not wait for (a write whose
 * outcome the caller knows, a lock whose row it reads later): it is answered at once with no rows,
 * and with pipelining on the statements after it follow without waiting for PostgreSQL, so they
 * share a round trip. `sendAhead` gives its real rows when they are needed. If it fails, the
 * statements after it and the COMMIT fail with its error. Elsewhere (PGlite, outside a
 * transaction) it is an ordinary statement.
 */
export const AHEAD = '/* ahead */ ';

/** The rows of a statement answered AHEAD: none yet, and how to get its real ones. */
type AheadRows = unknown[] & { later?: () => Promise<unknown[]> };

interface OpenTransaction {
  /** 'begin': a BEGIN was answered but not sent yet; 'committed': a COMMIT_ALONG statement ended the transaction. */
  pending: 'begin' | 'committed' | null;
  /** SET LOCAL statements answered before the BEGIN was sent: they go right behind it. */
  settings: string[];
  /** The statements sent ahead, settled once their failure (if any) is recorded. */
  ahead: Promise<void>[];
  /** The first failure of a statement sent ahead. */
  failure: Error | null;
}

/** A statement's answer once the statements sent ahead of it are settled: failing, it fails with their failure, its cause. */
function afterAhead<T>(tx: OpenTransaction, answer: Promise<T>): Promise<T> {
  const ahead = Promise.all(tx.ahead);
  return answer.then(
    async (result) => {
      await ahead;
      if (tx.failure) throw tx.failure;
      return result;
    },
    async (err: unknown) => {
      await ahead;
      throw tx.failure ?? err;
    },
  );
}

/**
 * Sends a query AHEAD in the caller's transaction and returns how to get its rows: with
 * pipelining on, the statements run after it share its round trip. Without a PostgreSQL server's client the query
 * has already run.
 */
export async function sendAhead<R>(trx: Transaction<Database>, query: Compilable<R> | RawBuilder<R>): Promise<() => Promise<R[]>> {
  // A query builder compiles alone, a raw `sql` query with the executor it runs on.
  const compiled = (query as { compile(executor: Transaction<Database>): CompiledQuery<R> }).compile(trx);
  const result = await trx.executeQuery<R>(CompiledQuery.raw(AHEAD + compiled.sql, [...compiled.parameters]));
  const later = (result.rows as AheadRows).later as (() => Promise<R[]>) | undefined;
  return later ?? (() => Promise.resolve(result.rows));
}

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
  private openingParsed = 0;

  constructor(
    config: object,
    /** BEGIN and the transaction's SET LOCALs, when this is its first statement; else none. */
    private readonly opening: string[],
    private readonly withCommit: boolean,
  ) {
    super(config);
  }

  override submit(connection: PgConnection): Error | null {
    connection.stream.cork?.();
    try {
      for (const text of this.opening) writeStatement(connection, text);
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
    if (n < this.opening.length) return;
    if (this.withCommit && n === this.opening.length + 1) return;
    super.handleCommandComplete(msg, connection);
  }

  /** The opening statements' ParseCompletes arrive first and must not mark this statement as prepared (its own Parse may still fail). */
  isOpeningParseComplete(): boolean {
    if (this.openingParsed === this.opening.length) return false;
    this.openingParsed += 1;
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
 * with COMMIT_ALONG carries the COMMIT. A `SET LOCAL` run before the transaction's first statement
 * rides with its BEGIN too. They ride only on statements with parameters, which pg sends in the
 * extended protocol; anything else first sends the BEGIN (and settings) on its own, as before.
 * A statement starting with AHEAD is answered at once: the transaction goes on without waiting
 * for PostgreSQL's answer to it (written at once with pg's pipeline mode, else once the
 * statement before it is answered).
 *
 * Statements without parameters (begin, commit, DDL) keep the simple protocol. Preparing waits
 * until the pool's `preparing.on` is set after the migrations: a statement prepared before an
 * ALTER TABLE of its table would fail on its next use.
 */
export class PreparingClient extends pg.Client {
  private readonly preparing: { on: boolean };
  private prepared = 0;
  /** Between Kysely's `begin` and its `commit` or `rollback`. */
  private tx: OpenTransaction | null = null;
  /** pg's pipeline mode: statements are written without waiting for the answers before them. */
  private readonly pipelining: boolean;
  /** Writes are held back for the statement after one sent ahead (see holdWrites). */
  private holding = false;
  /** Without pipelining: settles when the last statement handed to pg is answered (null: none is awaited). */
  private answering: Promise<void> | null = null;

  constructor(config: pg.ClientConfig & { preparing: { on: boolean }; pipeline?: boolean }) {
    // Pipeline mode: a statement is written at once, even while an earlier one awaits its answer
    // (statements sent AHEAD; Kysely itself still sends one statement at a time). Without it a
    // statement sent ahead is still answered at once, and written when the one before is answered.
    super({ ...config, pipeline: config.pipeline === true } as pg.ClientConfig);
    this.preparing = config.preparing;
    this.pipelining = config.pipeline === true;
  }

  // pg's query has many overloads; only (text, values) with values is rewritten.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const plain = typeof text === 'string' && Array.isArray(values) && args.length === 2;
    if (plain && text === 'begin' && values.length === 0 && !this.tx) {
      this.tx = { pending: 'begin', settings: [], ahead: [], failure: null };
      return done('BEGIN') as never;
    }
    const tx = this.tx;
    if (!tx) return this.send(args);
    if (plain && values.length === 0 && tx.pending === 'begin' && /^set local /i.test(text)) {
      tx.settings.push(text);
      return done('SET') as never;
    }
    if (plain && (text === 'commit' || text === 'rollback')) {
      this.tx = null;
      if (tx.pending !== null) return done(tx.pending === 'committed' ? 'COMMIT' : text.toUpperCase()) as never;
      // The transaction failed at a statement sent ahead: PostgreSQL would answer the COMMIT with a ROLLBACK, quietly.
      if (text === 'commit' && tx.failure) return Promise.reject(tx.failure) as never;
      const ended = this.send(args) as unknown as Promise<unknown>;
      this.sendHeld();
      return (text === 'commit' && tx.ahead.length > 0 ? afterAhead(tx, ended) : ended) as never;
    }
    // Nothing may run between a COMMIT_ALONG statement and the transaction's end: it would run outside the transaction.
    if (tx.pending === 'committed') return Promise.reject(new Error('statement after a COMMIT_ALONG statement, which ended the transaction')) as never;
    if (tx.failure) return Promise.reject(tx.failure) as never;
    const ahead = plain && values.length > 0 && text.startsWith(AHEAD);
    // Without pipelining nothing is written behind it until it is answered: nothing to hold back for.
    if (ahead && this.pipelining) this.holdWrites();
    const sent = this.send(args) as unknown as Promise<pg.QueryResult>;
    if (!ahead) this.sendHeld();
    // A statement sent while one sent ahead was failing fails with "transaction aborted": the cause is the earlier failure.
    const answered = tx.ahead.length > 0 ? afterAhead(tx, sent) : sent;
    if (!ahead) return answered as never;
    tx.ahead.push(
      answered.then(
        () => undefined,
        (err: Error) => {
          tx.failure ??= err;
        },
      ),
    );
    const rows: AheadRows = [];
    rows.later = () => {
      this.sendHeld();
      return answered.then((r) => r.rows);
    };
    return Promise.resolve({ command: 'AHEAD', rowCount: null, rows, fields: [] }) as never;
  }

  /**
   * Keeps what is written from here in the socket's buffer, so that statements sent ahead leave
   * in one write with the statement after them (PostgreSQL is woken once for all). Released when
   * that statement is written, when a result sent ahead is awaited, or at the event loop's next
   * turn, whichever comes first.
   */
  private holdWrites(): void {
    if (this.holding) return;
    this.holding = true;
    this.connection.stream.cork?.();
    setImmediate(() => this.sendHeld());
  }

  private sendHeld(): void {
    if (!this.holding) return;
    this.holding = false;
    this.connection.stream.uncork?.();
  }

  /** Writes a statement: with the transaction's BEGIN when it is the first, with its COMMIT when it says so, prepared when repeated. */
  private send(args: unknown[]): never {
    const [text, values] = args;
    const plain = typeof text === 'string' && Array.isArray(values) && args.length === 2;
    if (this.tx?.pending === 'begin') {
      this.tx.pending = null;
      const opening = ['begin', ...this.tx.settings];
      if (plain && values.length > 0) return this.fused(text, values, opening);
      // Not in the extended protocol (no parameters, a cursor, a callback): BEGIN and its settings go first on their own.
      for (const statement of opening) this.submit(() => query.call(this, statement)).catch(() => undefined); // a failure reaches the statement queued behind
    }
    if (plain && values.length > 0 && text.startsWith(COMMIT_ALONG)) return this.fused(text, values, []);
    if (this.preparing.on && plain && values.length > 0) {
      const name = this.nameFor(text);
      if (name) return this.submit(() => query.call(this, { name, text, values })) as never;
    }
    return this.submit(() => query.apply(this, args)) as never;
  }

  /**
   * Hands a statement to pg, without pipelining only once the statement before it is answered:
   * pg 8 would queue it and warn that pg 9 takes one query at a time. Statements sent AHEAD are
   * the ones that find another still unanswered.
   */
  private submit(run: () => Promise<unknown> | undefined): Promise<unknown> {
    const before = this.answering;
    const answer = this.pipelining || !before ? run() : before.then(run, run);
    // A query given a callback (not from Kysely) answers through it: nothing to wait for here.
    if (!(answer instanceof Promise) || this.pipelining) return answer as Promise<unknown>;
    const settled = answer.then(
      () => undefined,
      () => undefined,
    );
    this.answering = settled;
    void settled.then(() => {
      if (this.answering === settled) this.answering = null;
    });
    return answer;
  }

  private fused(text: string, values: unknown[], opening: string[]): never {
    const withCommit = text.startsWith(COMMIT_ALONG);
    const name = this.preparing.on ? this.nameFor(text) : null;
    const tx = this.tx;
    return this.submit(
      () =>
        new Promise((resolve, reject) => {
          const callback = (err: Error | null, result: unknown) => {
            if (err) return reject(err);
            if (withCommit && tx) tx.pending = 'committed';
            resolve(result);
          };
          query.call(this, new FusedQuery({ text, values, callback, ...(name ? { name } : {}) }, opening, withCommit));
        }),
    ) as never;
  }

  // Overrides pg's handler (bound when the connection is set up) for the opening statements' ParseCompletes.
  _handleParseComplete(): void {
    const active = (this as unknown as { _getActiveQuery(): unknown })._getActiveQuery();
    if (active instanceof FusedQuery && active.isOpeningParseComplete()) return;
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
