import type { SeqBlock } from './store.ts';

/**
 * Hands out a session's seq numbers from blocks reserved in the database, like a Postgres
 * sequence cache: the next block is reserved while half of the current one is still left, so
 * the token path never waits on the database. A crash loses at most the unused rest of a block
 * (a gap), never hands a number out twice.
 */
export class SeqCounter {
  #next: number;
  #end: number;
  #queued: SeqBlock | undefined;
  #reserving: Promise<void> | undefined;
  readonly #blockSize: number;
  readonly #reserve: (size: number) => Promise<SeqBlock>;
  readonly #onError: (error: unknown) => void;

  constructor(options: {
    first: SeqBlock;
    blockSize: number;
    reserve: (size: number) => Promise<SeqBlock>;
    onError: (error: unknown) => void;
  }) {
    this.#next = options.first.start;
    this.#end = options.first.end;
    this.#blockSize = options.blockSize;
    this.#reserve = options.reserve;
    this.#onError = options.onError;
  }

  /** The next seq, or undefined while the next block is still being reserved. */
  take(): number | undefined {
    if (this.#next > this.#end && this.#queued) {
      this.#next = this.#queued.start;
      this.#end = this.#queued.end;
      this.#queued = undefined;
    }
    if (this.#next > this.#end) {
      this.#prefetch();
      return undefined;
    }
    const seq = this.#next;
    this.#next += 1;
    if (this.#end - this.#next < this.#blockSize / 2) this.#prefetch();
    return seq;
  }

  /** The last seq handed out (before the first: the seq below the first block). */
  get last(): number {
    return this.#next - 1;
  }

  /** Resolves when a number can be taken again. */
  async available(): Promise<void> {
    if (this.#next <= this.#end || this.#queued) return;
    this.#prefetch();
    await this.#reserving;
  }

  #prefetch(): void {
    if (this.#reserving || this.#queued) return;
    this.#reserving = this.#reserve(this.#blockSize)
      .then((block) => {
        this.#queued = block;
      })
      .catch((error: unknown) => {
        this.#onError(error);
        // Let a later take() try again.
        return new Promise<void>((resolve) => setTimeout(resolve, 200));
      })
      .finally(() => {
        this.#reserving = undefined;
      });
  }
}
