import { CloseCode, ErrorCode } from '../protocol/index.ts';
import type { BufferedFrame } from './replay-buffer.ts';
import type { Connection } from './transport.ts';

/**
 * One socket's view of a live session: where it is in the session's seq order, and what waits
 * for it while it catches up (resume) or has not said yet whether it wants to (held).
 * A client that falls too far behind is cut off with `slow_consumer` instead of growing the
 * server's memory.
 */
export class Subscriber {
  readonly connection: Connection;
  /** `held`: waiting for a possible `session.resume`; `replaying`: catching up. */
  mode: 'live' | 'held' | 'replaying' = 'live';
  /** The seq of the last session event sent to this socket. */
  position = 0;
  holdTimer: NodeJS.Timeout | undefined;
  #backlog: BufferedFrame[] = [];
  #backlogBytes = 0;
  #cut = false;
  readonly #maxBufferedBytes: number;
  readonly #sessionId: string;

  constructor(
    connection: Connection,
    { sessionId, maxBufferedBytes }: { sessionId: string; maxBufferedBytes: number },
  ) {
    this.connection = connection;
    this.#sessionId = sessionId;
    this.#maxBufferedBytes = maxBufferedBytes;
  }

  get cut(): boolean {
    return this.#cut;
  }

  /** A session event, live: sent now, or kept until the socket has caught up. */
  sessionEvent(entry: BufferedFrame): void {
    if (this.#cut) return;
    if (this.mode === 'live') {
      this.write(entry);
      return;
    }
    this.#backlog.push(entry);
    this.#backlogBytes += entry.frame.length;
    if (this.#backlogBytes > this.#maxBufferedBytes) this.cutOff();
  }

  /** Sends a session event unless this socket has it already (seq at or below its position). */
  write(entry: BufferedFrame): void {
    if (this.#cut || entry.seq <= this.position) return;
    if (this.connection.bufferedAmount > this.#maxBufferedBytes) {
      this.cutOff();
      return;
    }
    this.connection.send(entry.frame);
    this.position = entry.seq;
  }

  /** Sends an event meant for this socket alone; it carries the socket's position as its seq. */
  own(body: Record<string, unknown>): void {
    if (this.#cut) return;
    this.connection.send(
      JSON.stringify({ ...body, session_id: this.#sessionId, seq: this.position }),
    );
  }

  /** Sends what waited while catching up, and from now on everything at once. */
  goLive(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const backlog = this.#backlog;
    this.#backlog = [];
    this.#backlogBytes = 0;
    this.mode = 'live';
    for (const entry of backlog) this.write(entry);
  }

  cutOff(): void {
    if (this.#cut) return;
    this.own({
      type: 'error',
      code: ErrorCode.slowConsumer,
      message:
        'This connection fell too far behind the session and is closed; reconnect with after_seq to resume.',
    });
    this.#cut = true;
    this.#backlog = [];
    this.#backlogBytes = 0;
    this.connection.close(CloseCode.slowConsumer, 'slow consumer');
  }
}
