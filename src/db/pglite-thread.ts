/**
 * The embedded database on a thread of its own. PGlite runs Postgres as WebAssembly on the
 * thread that calls it, so on the main thread every statement — an event batch, a session
 * opening, a job poll — holds up the relay of every token for as long as it runs (the
 * benchmark's profiles put PGlite at ≈ 20 % of the server's CPU at 300 sessions). Here PGlite
 * lives in a `worker_threads` worker; the main thread keeps a small client with the part of
 * PGlite's interface that Drizzle and pg-boss use (`query`, `exec`, `transaction`), one message
 * each way per statement.
 *
 * PGlite's own `PGliteWorker` does the same for browsers, but it parses the wire protocol on
 * the calling thread and makes several round trips per statement over a BroadcastChannel; on
 * small statements it cost the main thread more than running PGlite there (measured: 1.3 ms
 * against 0.8 ms for a one-row batch).
 */
import { Worker } from 'node:worker_threads';
import type { Request, Response } from './pglite-thread-main.ts';

/** What a query returns, as PGlite returns it. */
export interface ThreadResults {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

interface QueryOptions {
  rowMode?: 'array' | 'object';
  /** Only parsers that return the text unchanged (what Drizzle passes) are supported. */
  parsers?: Record<number, unknown>;
}

/** The statements of one connection or one transaction. */
export interface ThreadQueries {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<ThreadResults>;
  exec(sql: string): Promise<ThreadResults[]>;
}

type Pending = { resolve(value: unknown): void; reject(error: unknown): void };

/** PGlite on a worker thread; create it with `startPgliteThread`. */
export class PgliteThread implements ThreadQueries {
  readonly #thread: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #exited: Error | undefined;
  #closing = false;

  /** `onLost` is told when the thread dies other than by `close()`. */
  constructor(thread: Worker, onLost: (error: Error) => void = () => {}) {
    this.#thread = thread;
    thread.on('message', (response: Response) => this.#settle(response));
    const lost = (error: Error) => {
      const first = this.#exited === undefined;
      this.#fail(error);
      if (first && !this.#closing) onLost(error);
    };
    thread.on('error', lost);
    thread.on('exit', (code) => lost(new Error(`the PGlite thread exited (code ${code})`)));
  }

  query(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<ThreadResults> {
    return this.#call({
      op: 'query',
      sql,
      params,
      ...queryOptions(options),
    }) as Promise<ThreadResults>;
  }

  exec(sql: string): Promise<ThreadResults[]> {
    return this.#call({ op: 'exec', sql }) as Promise<ThreadResults[]>;
  }

  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(fn: (tx: ThreadQueries) => Promise<T>): Promise<T> {
    const tx = (await this.#call({ op: 'begin' })) as number;
    const queries: ThreadQueries = {
      query: (sql, params = [], options = {}) =>
        this.#call({
          op: 'query',
          sql,
          params,
          tx,
          ...queryOptions(options),
        }) as Promise<ThreadResults>,
      exec: (sql) => this.#call({ op: 'exec', sql, tx }) as Promise<ThreadResults[]>,
    };
    let result: T;
    try {
      result = await fn(queries);
    } catch (error) {
      await this.#call({ op: 'end', tx, commit: false }).catch(() => {});
      throw error;
    }
    await this.#call({ op: 'end', tx, commit: true });
    return result;
  }

  /** Closes the database cleanly (checkpoint, files closed), then stops the thread. */
  async close(): Promise<void> {
    this.#closing = true;
    if (!this.#exited) {
      // PGlite's close waits for a transaction still open; the thread is stopped regardless.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      });
      await Promise.race([this.#call({ op: 'close' }).catch(() => {}), timeout]);
      clearTimeout(timer);
    }
    await this.#thread.terminate();
  }

  #call(request: DistributiveOmit<Request, 'id'>): Promise<unknown> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#thread.postMessage({ ...request, id });
      this.#pending.set(id, { resolve, reject });
    });
  }

  #settle(response: Response): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return;
    this.#pending.delete(response.id);
    if ('error' in response)
      pending.reject(Object.assign(new Error(response.error.message), response.error));
    else pending.resolve(response.result);
  }

  #fail(error: Error): void {
    this.#exited ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function queryOptions({ rowMode, parsers }: QueryOptions) {
  return {
    rowMode: rowMode ?? 'object',
    rawTypes: parsers ? Object.keys(parsers).map(Number) : [],
  };
}

const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Starts PGlite on a worker thread, on `dataDir` or in memory when it is undefined. `onLost`
 * is told if the thread dies while in use: from then on every statement fails.
 */
export async function startPgliteThread(
  dataDir: string | undefined,
  onLost?: (error: Error) => void,
): Promise<PgliteThread> {
  const thread = new Worker(new URL('./pglite-thread-main.ts', import.meta.url), {
    workerData: { dataDir },
  });
  const database = new PgliteThread(thread, onLost);
  try {
    await database.query('select 1');
  } catch (error) {
    await thread.terminate();
    throw error;
  }
  return database;
}
