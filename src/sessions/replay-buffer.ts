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
  /**
   * A ring that grows up to `#capacity` as events arrive: most sessions sit idle or hold a few
   * events, and a preallocated ring of thousands of slots per session was most of an idle
   * session's memory.
   */
  #frames: (BufferedFrame | undefined)[] = [];
  readonly #capacity: number;
  readonly #maxBytes: number;
  #start = 0;
  #length = 0;
  #bytes = 0;
  /** The newest seq that fell out (0 when nothing has). */
  #evictedUpTo = 0;

  /** `startAfter`: the newest seq of events that exist only in the database (0 for none). */
  constructor({
    maxFrames,
    maxBytes,
    startAfter = 0,
  }: {
    maxFrames: number;
    maxBytes: number;
    startAfter?: number;
  }) {
    this.#capacity = maxFrames;
    this.#maxBytes = maxBytes;
    this.#evictedUpTo = startAfter;
  }

  push(entry: BufferedFrame): void {
    if (this.#length === this.#capacity) this.#evictOldest();
    if (this.#length === this.#frames.length) this.#grow();
    this.#frames[(this.#start + this.#length) % this.#frames.length] = entry;
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

  #grow(): void {
    const size = Math.min(this.#capacity, Math.max(16, this.#frames.length * 2));
    const frames = new Array<BufferedFrame | undefined>(size);
    for (let index = 0; index < this.#length; index += 1) {
      frames[index] = this.#frames[(this.#start + index) % this.#frames.length];
    }
    this.#frames = frames;
    this.#start = 0;
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
