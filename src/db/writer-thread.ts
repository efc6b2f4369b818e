/**
 * The event writer's Postgres connection, on a thread of its own. On the main thread a batch
 * could only follow the previous one once the main thread's event loop came round to read its
 * answer, which under load (a thousand streams) takes tens of milliseconds a turn, and every
 * stored event a client waits for (the user's message before the reply's first token) waited
 * for one or two such turns. Here batches are sent as soon as they are formed and run back to
 * back, in order (`ordered-writes.ts`); the protocol work for them is off the main thread too.
 */
import { Worker } from 'node:worker_threads';
import { orderedSender } from './ordered-writes.ts';
import { ThreadClient, type DistributiveOmit } from './thread-client.ts';
import type { Request } from './writer-thread-main.ts';

export class WriterThread {
  readonly #client: ThreadClient<DistributiveOmit<Request, 'id'>>;

  constructor(databaseUrl: string, onLost?: (error: Error) => void) {
    const thread = new Worker(new URL('./writer-thread-main.ts', import.meta.url), {
      workerData: { databaseUrl },
    });
    this.#client = new ThreadClient(thread, 'event writer', onLost);
  }

  /** Runs an event batch after every batch sent before it (see `ordered-writes.ts`). */
  readonly write = orderedSender(async (write) => {
    await this.#client.call({ op: 'write', ...write });
  });

  /** Closes the connection (at most 10 s), then stops the thread. */
  async close(): Promise<void> {
    await this.#client.terminate({ op: 'close' });
  }
}
