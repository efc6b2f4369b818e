/**
 * The event writer's statements, run on a database thread (the PGlite thread, or the Postgres
 * writer thread) strictly one after another in the order they arrive. The main thread sends a
 * batch as soon as it has one, without waiting for the previous batch's answer, so the
 * database works while the main thread's event loop is busy relaying tokens.
 *
 * Sending ahead must not let a batch commit after an earlier one failed: events are stored in
 * `seq` order, and what is stored must always be a prefix of what was sent. So every write
 * carries the *generation* its sender knew; a failure starts a new generation, and every write
 * of an older generation still queued is skipped, not run. The sender learns the new
 * generation from the failure and sends the retried batches with it.
 */
import { describeError } from './thread-client.ts';

export interface OrderedWrite {
  sql: string;
  params: unknown[];
  generation: number;
}

/** Why a write failed: its own error, or `skipped` because an earlier write failed. */
export interface WriteFailure {
  message: string;
  skipped: boolean;
  /** The generation to send retried writes with. */
  generation: number;
}

export function orderedWrites(
  run: (sql: string, params: unknown[]) => Promise<void>,
): (write: OrderedWrite) => Promise<void> {
  let generation = 0;
  let tail: Promise<void> = Promise.resolve();
  return (write) => {
    const result = tail.then(async () => {
      if (write.generation !== generation) {
        throw {
          message: 'not written: an earlier event batch failed',
          skipped: true,
          generation,
        } satisfies WriteFailure;
      }
      try {
        await run(write.sql, write.params);
      } catch (error) {
        generation += 1;
        throw {
          ...describeError(error),
          skipped: false,
          generation,
        } satisfies WriteFailure;
      }
    });
    tail = result.catch(() => {});
    return result;
  };
}

/**
 * The sending side: numbers each write with the generation it last learned of, so that after
 * a failure its retries run while the writes sent before it learned are skipped.
 */
export function orderedSender(
  send: (write: OrderedWrite) => Promise<void>,
): (sql: string, params: unknown[]) => Promise<void> {
  let generation = 0;
  return async (sql, params) => {
    try {
      await send({ sql, params, generation });
    } catch (error) {
      const next = (error as Partial<WriteFailure> | null)?.generation;
      if (typeof next === 'number') generation = Math.max(generation, next);
      throw error;
    }
  };
}
