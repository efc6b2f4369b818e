/**
 * The PGlite thread (see `pglite-thread.ts`): owns the PGlite instance and runs the statements
 * the main thread sends, one at a time in arrival order, as PGlite itself would.
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { parentPort, workerData } from 'node:worker_threads';
import { orderedWrites, type OrderedWrite } from './ordered-writes.ts';
import { preparedStatements } from './pglite-prepared.ts';
import { serveRequests } from './thread-client.ts';

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
  /** An event batch: run in order after every earlier write (see `ordered-writes.ts`). */
  | ({ op: 'write' } & OrderedWrite)
  | { op: 'begin' }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'close' }
);

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

// Event batches: one statement text, parsed and planned once.
const write = orderedWrites(preparedStatements(pglite));

serveRequests(port, handle);

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
    case 'write':
      await write(request);
      return null;
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
