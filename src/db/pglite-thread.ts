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
import { orderedSender } from './ordered-writes.ts';
import type { Request } from './pglite-thread-main.ts';
import { ThreadClient, type DistributiveOmit } from './thread-client.ts';

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

/** PGlite on a worker thread; create it with `startPgliteThread`. */
export class PgliteThread implements ThreadQueries {
  readonly #client: ThreadClient<DistributiveOmit<Request, 'id'>>;

  /** `onLost` is told when the thread dies other than by `close()`. */
  constructor(thread: Worker, onLost: (error: Error) => void = () => {}) {
    this.#client = new ThreadClient(thread, 'PGlite', onLost);
  }

  /**
   * Runs an event batch after every batch sent before it, without waiting for their answers;
   * see `ordered-writes.ts`.
   */
  readonly write = orderedSender(async (write) => {
    await this.#call({ op: 'write', ...write });
  });

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
    // PGlite's close waits for a transaction still open; the thread is stopped regardless.
    await this.#client.terminate({ op: 'close' }, CLOSE_TIMEOUT_MS);
  }

  #call(request: DistributiveOmit<Request, 'id'>): Promise<unknown> {
    return this.#client.call(request);
  }
}

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
