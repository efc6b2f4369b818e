/**
 * The PGlite thread (see `pglite-thread.ts`): owns the PGlite instance and runs the statements
 * the main thread sends, one at a time in arrival order, as PGlite itself would.
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { parentPort, workerData } from 'node:worker_threads';

export type Request = { id: number } & (
  | {
      op: 'query';
      sql: string;
      params: unknown[];
      rowMode: 'array' | 'object';
      /** Type OIDs to return as text, as Drizzle asks. */
      rawTypes: number[];
      tx?: number;
    }
  | { op: 'exec'; sql: string; tx?: number }
  | { op: 'begin' }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'close' }
);

export type Response =
  | { id: number; result: unknown }
  | { id: number; error: { message: string } & Record<string, unknown> };

if (!parentPort) throw new Error('pglite-thread-main.ts runs only as a worker thread');
const port = parentPort;
const { dataDir } = workerData as { dataDir: string | undefined };
const pglite = await PGlite.create(dataDir);

/** Open transactions: the handle to query through, and how to end it. */
const transactions = new Map<
  number,
  { tx: Transaction; end(commit: boolean): void; done: Promise<void> }
>();
let nextTx = 1;
const asText = (value: string) => value;

port.on('message', (request: Request) => {
  void handle(request).then(
    (result) => reply({ id: request.id, result }),
    (error: unknown) => reply({ id: request.id, error: describe(error) }),
  );
});

/** Answers a request; a result that cannot cross threads becomes an error for its caller. */
function reply(response: Response): void {
  try {
    port.postMessage(response);
  } catch (error) {
    port.postMessage({ id: response.id, error: describe(error) } satisfies Response);
  }
}

async function handle(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'query': {
      const target = request.tx ? openTransaction(request.tx).tx : pglite;
      const parsers = Object.fromEntries(request.rawTypes.map((oid) => [oid, asText]));
      const { rows, fields, affectedRows } = await target.query(request.sql, request.params, {
        rowMode: request.rowMode,
        parsers,
      });
      return { rows, fields, affectedRows };
    }
    case 'exec': {
      const target = request.tx ? openTransaction(request.tx).tx : pglite;
      const results = await target.exec(request.sql);
      return results.map(({ rows, fields, affectedRows }) => ({ rows, fields, affectedRows }));
    }
    case 'begin':
      return begin();
    case 'end': {
      const open = openTransaction(request.tx);
      transactions.delete(request.tx);
      open.end(request.commit);
      await open.done;
      return null;
    }
    case 'close':
      await pglite.close();
      return null;
  }
}

/** Starts a PGlite transaction held open until the main thread ends it. */
function begin(): Promise<number> {
  const id = nextTx++;
  return new Promise((resolve, reject) => {
    let started = false;
    const done = pglite
      .transaction(
        (tx) =>
          new Promise<void>((commit, rollback) => {
            started = true;
            transactions.set(id, {
              tx,
              end: (ok) => (ok ? commit() : rollback(new Error('rolled back'))),
              done,
            });
            resolve(id);
          }),
      )
      .catch((error: unknown) => {
        if (!started) reject(error);
        else if (!(error instanceof Error && error.message === 'rolled back')) throw error;
      });
  });
}

function openTransaction(id: number) {
  const open = transactions.get(id);
  if (!open) throw new Error(`transaction ${id} is not open`);
  return open;
}

/** An error as plain data, keeping Postgres's fields (code, detail, constraint…). */
function describe(error: unknown): { message: string } & Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    // The statement and its parameters can be large; the rest is what callers match on.
    if (key === 'query' || key === 'params' || typeof value === 'function') continue;
    if (value === undefined || (typeof value === 'object' && value !== null)) continue;
    fields[key] = value;
  }
  return { ...fields, message: error.message, name: error.name };
}
