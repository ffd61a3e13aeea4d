/**
 * A bearer token's liveness check (its user still active, or its tenant still there: http/bearer.ts) without a D1
 * round trip of its own. The middleware hands the request a D1 binding that runs the check in the same batch as the
 * request's first read, so Get User Details or a registration begin costs one round trip, not two (issue 11).
 *
 * What keeps it as strict as a check before the handler:
 * - no statement that may write runs before the check has passed: a first call that is not read-only (a write, a
 *   `raw()` or `exec`) runs the check on its own first, and every later call waits for the check's outcome;
 * - a failed check fails every D1 call of the request with the same 401, so a service that swallows one failure still
 *   reads or writes nothing further;
 * - the middleware settles the check after the handler (running it then if the handler never touched D1) and answers
 *   401 whatever the handler answered, so a dead token learns nothing. The only work that can precede a failed check
 *   is KV work of a handler that reads no D1 before it (none of the bearer routes does).
 */
import { ApiError } from "../errors";

const REAL = Symbol("real statement");
type Statement = D1PreparedStatement & { [REAL]?: D1PreparedStatement; readonly sqlText?: string };

const READ_ONLY = /^\s*select\b/i;

/** The D1 binding of one request whose first read also runs `check` (a statement returning a row iff the token is live). */
export class LivenessGuard {
  /** Undefined until the check runs; then resolves (live) or rejects (dead, or storage failed). */
  private outcome: Promise<void> | undefined;

  constructor(
    private readonly real: D1Database,
    private readonly check: (d1: D1Database) => D1PreparedStatement,
    private readonly dead: () => ApiError,
  ) {}

  /** The check's outcome, running it on its own if nothing ran it yet. */
  settle(): Promise<void> {
    this.outcome ??= this.real
      .batch([this.check(this.real)])
      .then(([r]) => this.verdict(r))
      .catch((e: unknown) => this.retryable(e));
    return this.outcome;
  }

  private verdict(r: D1Result | undefined): void {
    if (!r?.results?.length) throw this.dead();
  }

  /** A storage failure of the check itself leaves it unrun, so a later call may run it again. */
  private retryable(e: unknown): never {
    if (!(e instanceof ApiError)) this.outcome = undefined;
    throw e;
  }

  /** Runs statements in one batch, folding the check into it when it has not run yet and they are read-only. */
  private async batched(stmts: Statement[]): Promise<D1Result[]> {
    const reals = stmts.map((s) => s[REAL] ?? s);
    if (this.outcome || !stmts.every((s) => s.sqlText !== undefined && READ_ONLY.test(s.sqlText))) {
      await this.settle();
      return this.real.batch(reals);
    }
    const batch = this.real.batch([this.check(this.real), ...reals]);
    const outcome = batch.then(([r]) => this.verdict(r)).catch((e: unknown) => this.retryable(e));
    outcome.catch(() => undefined); // awaited below when the batch succeeds; never an unhandled rejection otherwise
    this.outcome = outcome;
    const [, ...results] = await batch;
    await outcome;
    return results;
  }

  private statement(real: D1PreparedStatement, sqlText: string): Statement {
    const s = {
      [REAL]: real,
      sqlText,
      bind: (...values: unknown[]) => this.statement(real.bind(...values), sqlText),
      first: async (column?: string) => {
        const row = (await this.batched([s as unknown as Statement]))[0]?.results?.[0] as Record<string, unknown> | undefined;
        if (row === undefined) return null;
        return column === undefined ? row : (row[column] ?? null);
      },
      all: async () => (await this.batched([s as unknown as Statement]))[0],
      run: async () => {
        await this.settle();
        return real.run();
      },
      raw: async (options?: { columnNames?: boolean }) => {
        await this.settle();
        return options?.columnNames ? real.raw({ columnNames: true }) : real.raw();
      },
    };
    return s as unknown as Statement;
  }

  /** The guarded binding. */
  binding(): D1Database {
    const db = {
      prepare: (sql: string) => this.statement(this.real.prepare(sql), sql),
      batch: (stmts: D1PreparedStatement[]) => this.batched(stmts as Statement[]),
      exec: async (sql: string) => {
        await this.settle();
        return this.real.exec(sql);
      },
      dump: async () => {
        await this.settle();
        return this.real.dump();
      },
      withSession: () => db,
    };
    return db as unknown as D1Database;
  }
}
