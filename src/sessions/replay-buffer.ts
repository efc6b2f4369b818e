/** One session event as it was sent, kept for exact replay. */
export interface BufferedFrame {
  seq: number;
  frame: string;
}

/**
 * The newest session events of a live session, bounded in count and bytes, so a client that
 * drops for a moment gets exactly what it missed, token deltas included, without a database
 * read. Older events fall out; a resume from before them is served from the database instead.
 */
export class ReplayBuffer {
  readonly #frames: (BufferedFrame | undefined)[];
  readonly #maxBytes: number;
  #start = 0;
  #length = 0;
  #bytes = 0;
  /** The newest seq that fell out (0 when nothing has). */
  #evictedUpTo = 0;

  /** `startAfter`: the newest seq of events that exist only in the database (0 for none). */
  constructor({ maxFrames, maxBytes, startAfter = 0 }: { maxFrames: number; maxBytes: number; startAfter?: number }) {
    this.#frames = new Array<BufferedFrame | undefined>(maxFrames);
    this.#maxBytes = maxBytes;
    this.#evictedUpTo = startAfter;
  }

  push(entry: BufferedFrame): void {
    const capacity = this.#frames.length;
    if (this.#length === capacity) this.#evictOldest();
    this.#frames[(this.#start + this.#length) % capacity] = entry;
    this.#length += 1;
    this.#bytes += entry.frame.length;
    while (this.#bytes > this.#maxBytes && this.#length > 1) this.#evictOldest();
  }

  /** True when every session event after `afterSeq` is still here. */
  covers(afterSeq: number): boolean {
    return afterSeq >= this.#evictedUpTo;
  }

  /** The buffered events with seq > afterSeq, oldest first. */
  since(afterSeq: number): BufferedFrame[] {
    const result: BufferedFrame[] = [];
    for (let index = 0; index < this.#length; index += 1) {
      const entry = this.#frames[(this.#start + index) % this.#frames.length]!;
      if (entry.seq > afterSeq) result.push(entry);
    }
    return result;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #evictOldest(): void {
    const entry = this.#frames[this.#start]!;
    this.#frames[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.#frames.length;
    this.#length -= 1;
    this.#bytes -= entry.frame.length;
    this.#evictedUpTo = entry.seq;
  }
}
