/**
 * Storage fault injection: wraps the D1 and KV bindings so that chosen calls throw what real transient failures
 * throw ("D1_ERROR: Network connection lost.", "KV GET failed: 503 Service Unavailable"), which the service must map
 * to 503 (src/http/errors.ts TRANSIENT). Every storage call is logged with a running index over D1 and KV together;
 * a plan says which calls fail and whether before the call reaches storage or after it took effect (the answer is
 * lost on the way back, the write is committed).
 *
 * Calls that reach storage are counted: D1 batch and exec, and first/all/run/raw of a prepared statement (prepare
 * and bind only build the statement); KV get, getWithMetadata, put, delete, list.
 */

export type StorageKind = "d1" | "kv";

export interface StorageCall {
  index: number;
  kind: StorageKind;
  op: string;
  /** SQL of a D1 statement (the first one of a batch), or the KV key. */
  detail: string;
  /** D1 statements the call runs (a batch runs several); 0 for KV. */
  statements: number;
}

export type FaultMode = "before" | "after";

export class FaultPlan {
  readonly calls: StorageCall[] = [];
  readonly injected: StorageCall[] = [];

  constructor(
    readonly failAt: (c: StorageCall) => boolean = () => false,
    readonly mode: FaultMode = "before",
    /** Waits before a call reaches storage (e.g. to let a parallel request commit first); no fault. */
    readonly holdAt: (c: StorageCall) => Promise<unknown> | undefined = () => undefined,
  ) {}

  /** Holds the n-th call of one kind (0-based) until `release` settles, then runs it: a chosen interleaving of a race. */
  static holdNth(kind: StorageKind, n: number, op: string | undefined, release: Promise<unknown>) {
    let seen = 0;
    return new FaultPlan(undefined, "before", (c) =>
      c.kind === kind && (op === undefined || c.op === op) && seen++ === n ? release : undefined,
    );
  }

  /** Fails the call with this running index. */
  static at(index: number, mode: FaultMode = "before") {
    return new FaultPlan((c) => c.index === index, mode);
  }

  /** Fails the n-th call of one kind (0-based), e.g. the 2nd KV call, or the n-th D1 batch with op "batch". */
  static nth(kind: StorageKind, n: number, op?: string, mode: FaultMode = "before") {
    let seen = 0;
    return new FaultPlan((c) => c.kind === kind && (op === undefined || c.op === op) && seen++ === n, mode);
  }

  async call<T>(kind: StorageKind, op: string, detail: string, run: () => Promise<T>, statements = kind === "d1" ? 1 : 0): Promise<T> {
    const c: StorageCall = { index: this.calls.length, kind, op, detail, statements };
    this.calls.push(c);
    await this.holdAt(c);
    const fail = this.failAt(c);
    if (fail && this.mode === "before") throw this.fault(c);
    const result = await run();
    if (fail) throw this.fault(c);
    return result;
  }

  private fault(c: StorageCall): Error {
    this.injected.push(c);
    return c.kind === "d1"
      ? new Error("D1_ERROR: Network connection lost.")
      : new Error(`KV ${c.op === "getWithMetadata" ? "GET" : c.op.toUpperCase()} failed: 503 Service Unavailable`);
  }
}

const REAL = Symbol("real statement");
type Wrapped = D1PreparedStatement & { [REAL]: D1PreparedStatement };
const unwrap = (s: D1PreparedStatement): D1PreparedStatement => (s as Partial<Wrapped>)[REAL] ?? s;

function statement(real: D1PreparedStatement, sql: string, plan: FaultPlan): D1PreparedStatement {
  const wrapped = {
    [REAL]: real,
    bind: (...values: unknown[]) => statement(real.bind(...values), sql, plan),
    first: (column?: string) => plan.call("d1", "first", sql, () => (column === undefined ? real.first() : real.first(column))),
    all: () => plan.call("d1", "all", sql, () => real.all()),
    run: () => plan.call("d1", "run", sql, () => real.run()),
    raw: (options?: { columnNames?: boolean }) =>
      plan.call("d1", "raw", sql, () => (options?.columnNames ? real.raw({ columnNames: true }) : real.raw())),
  };
  return wrapped as unknown as D1PreparedStatement;
}

/** A D1 binding whose calls go through the plan. */
export function faultyD1(real: D1Database, plan: FaultPlan): D1Database {
  const db = {
    prepare: (sql: string) => statement(real.prepare(sql), sql, plan),
    batch: (stmts: D1PreparedStatement[]) =>
      plan.call("d1", "batch", `${stmts.length} statements`, () => real.batch(stmts.map(unwrap)), stmts.length),
    exec: (sql: string) => plan.call("d1", "exec", sql, () => real.exec(sql)),
    dump: () => plan.call("d1", "dump", "", () => real.dump()),
    withSession: () => db,
  };
  return db as unknown as D1Database;
}

type AnyFn = (...args: unknown[]) => Promise<unknown>;

/** A KV binding whose calls go through the plan. */
export function faultyKv(real: KVNamespace, plan: FaultPlan): KVNamespace {
  const through =
    (op: "get" | "getWithMetadata" | "put" | "delete" | "list") =>
    (...args: unknown[]) =>
      plan.call("kv", op, typeof args[0] === "string" ? args[0] : JSON.stringify(args[0] ?? null), () =>
        (real[op] as unknown as AnyFn).apply(real, args),
      );
  return {
    get: through("get"),
    getWithMetadata: through("getWithMetadata"),
    put: through("put"),
    delete: through("delete"),
    list: through("list"),
  } as unknown as KVNamespace;
}

/** The bindings with DB and CHALLENGES wrapped by the plan. */
export function faultyEnv(base: Cloudflare.Env, plan: FaultPlan): Cloudflare.Env {
  return { ...base, DB: faultyD1(base.DB, plan), CHALLENGES: faultyKv(base.CHALLENGES, plan) };
}

/** What a list of calls adds up to (issue 11's budgets; test/helpers/storage-use.ts, the bench's census worker). */
export interface StorageUse {
  d1RoundTrips: number;
  d1Statements: number;
  kvReads: number;
  kvWrites: number;
  kvDeletes: number;
  kvLists: number;
  /** Every call, in order: SQL (first statement of a batch) or KV key, for a failing budget's message. */
  calls: StorageCall[];
}

export function storageUse(calls: StorageCall[]): StorageUse {
  const d1 = calls.filter((c) => c.kind === "d1");
  const kv = (...ops: string[]) => calls.filter((c) => c.kind === "kv" && ops.includes(c.op)).length;
  return {
    d1RoundTrips: d1.length,
    d1Statements: d1.reduce((n, c) => n + c.statements, 0),
    kvReads: kv("get", "getWithMetadata"),
    kvWrites: kv("put"),
    kvDeletes: kv("delete"),
    kvLists: kv("list"),
    calls,
  };
}
