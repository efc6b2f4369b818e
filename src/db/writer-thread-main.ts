/**
 * The Postgres writer thread (see `writer-thread.ts`): one connection of its own, on which it
 * runs the event batches the main thread sends, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { orderedWrites, type OrderedWrite } from './ordered-writes.ts';
import { serveRequests } from './thread-client.ts';

export type Request = { id: number } & (({ op: 'write' } & OrderedWrite) | { op: 'close' });

if (!parentPort) throw new Error('writer-thread-main.ts runs only as a worker thread');
const { databaseUrl } = workerData as { databaseUrl: string };

// A pool of one: a connection the server dropped is replaced at the next batch.
const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
// An idle connection that loses its server emits 'error'; the next batch reports the failure.
pool.on('error', () => {});

/** A name per statement text: the server parses and plans each once per connection. */
const names = new Map<string, string>();

const write = orderedWrites(async (sql, params) => {
  let name = names.get(sql);
  if (!name) names.set(sql, (name = `parley_writer_${names.size + 1}`));
  await pool.query({ name, text: sql, values: params });
});

serveRequests(parentPort, async (request: Request) => {
  switch (request.op) {
    case 'write':
      await write(request);
      return null;
    case 'close':
      await pool.end();
      return null;
  }
});
