import type { StoredEvent, Transcript } from '../chat/history.ts';
import type { EventWriter } from '../db/event-writer.ts';
import {
  connectionEventTypes,
  storedEventTypes,
  type EventBody,
  type ServerEvent,
} from '../protocol/index.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import type { SeqCounter } from './seq-counter.ts';
import { Subscriber } from './subscriber.ts';
import type { Connection } from './transport.ts';

interface PendingFrame {
  frame: string;
  seq: number;
  delta: string | undefined;
  written: boolean;
}

interface Outgoing {
  body: EventBody | undefined;
  stored:
    { eventType: string; content: string | null; metadata: Record<string, unknown> } | undefined;
}

export interface SessionOutboxOptions {
  sessionId: string;
  seq: SeqCounter;
  writer: EventWriter;
  transcript: Transcript;
  bufferFrames: number;
  bufferBytes: number;
  maxBufferedBytes: number;
  /** Told of each text delta as it goes out (what a client that saw them all has). */
  onDeltaDelivered(delta: string): void;
}

/**
 * Where a live session's events go out: numbering, storage, the order they reach each socket,
 * and the buffer kept for exact replay. A session event is numbered, kept for replay, sent to
 * every socket, and queued for storage when it is one of the stored types; a stored event
 * reaches clients only once committed, and later events wait behind it to keep seq order.
 * An event for one socket (ready, error, pong…) takes no number.
 */
export class SessionOutbox {
  readonly recent: ReplayBuffer;
  readonly #options: SessionOutboxOptions;
  readonly #subscribers = new Map<Connection, Subscriber>();
  readonly #outbox: Outgoing[] = [];
  /** Frames waiting, in seq order, for a stored event ahead of them to be committed. */
  readonly #sending: PendingFrame[] = [];
  #lastDelivered: number;
  #discarded = false;

  constructor(options: SessionOutboxOptions) {
    this.#options = options;
    // Everything numbered before this process took the session is in the database only.
    this.#lastDelivered = options.seq.last;
    this.recent = new ReplayBuffer({
      maxFrames: options.bufferFrames,
      maxBytes: options.bufferBytes,
      startAfter: this.#lastDelivered,
    });
  }

  /** The newest session event sent to clients. */
  get lastDelivered(): number {
    return this.#lastDelivered;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  subscribers(): IterableIterator<Subscriber> {
    return this.#subscribers.values();
  }

  connections(): IterableIterator<Connection> {
    return this.#subscribers.keys();
  }

  get(connection: Connection): Subscriber | undefined {
    return this.#subscribers.get(connection);
  }

  /** A new socket, positioned at the newest session event. */
  subscribe(connection: Connection): Subscriber {
    const subscriber = new Subscriber(connection, {
      sessionId: this.#options.sessionId,
      maxBufferedBytes: this.#options.maxBufferedBytes,
    });
    subscriber.position = this.#lastDelivered;
    this.#subscribers.set(connection, subscriber);
    return subscriber;
  }

  unsubscribe(connection: Connection): number {
    const subscriber = this.#subscribers.get(connection);
    if (subscriber) clearTimeout(subscriber.holdTimer);
    this.#subscribers.delete(connection);
    return this.#subscribers.size;
  }

  emit(body: EventBody, target?: Connection): void {
    if (connectionEventTypes.has(body.type)) {
      if (target) this.#subscribers.get(target)?.own(body);
      else for (const subscriber of this.#subscribers.values()) subscriber.own(body);
      return;
    }
    const storedType = (storedEventTypes as Record<string, string | undefined>)[body.type];
    let stored: Outgoing['stored'];
    if (storedType) {
      const { type: _type, text, ...metadata } = body as EventBody & { text?: string };
      stored = { eventType: storedType, content: text ?? null, metadata };
    }
    this.#outbox.push({ body, stored });
    this.drain();
  }

  /** Stores an event that clients do not receive live (session lifecycle). */
  record(eventType: string, metadata: Record<string, unknown>): void {
    this.#outbox.push({ body: undefined, stored: { eventType, content: null, metadata } });
    this.drain();
  }

  /** Numbers and sends what waits; resumes by itself once a seq block is reserved. */
  drain(): void {
    if (this.#discarded) {
      this.#outbox.length = 0;
      return;
    }
    const { seq: counter, writer, transcript, sessionId } = this.#options;
    while (this.#outbox.length > 0) {
      const seq = counter.take();
      if (seq === undefined) {
        void counter.available().then(() => this.drain());
        return;
      }
      const { body, stored } = this.#outbox.shift()!;
      if (stored) {
        const event: StoredEvent = { seq, ...stored };
        transcript.add(event);
        if (!body) {
          writer.enqueue(sessionId, event);
          continue;
        }
      }
      if (!body) continue;
      const pending: PendingFrame = {
        frame: JSON.stringify({ ...body, session_id: sessionId, seq } as ServerEvent),
        seq,
        delta: body.type === 'response.text.delta' ? body.delta : undefined,
        written: stored === undefined,
      };
      if (stored) {
        writer.enqueue(sessionId, { seq, ...stored }, () => {
          pending.written = true;
          this.#flushSending();
        });
      }
      if (this.#sending.length > 0 || !pending.written) this.#sending.push(pending);
      else this.#deliver(pending);
    }
  }

  /** Stops everything at once: nothing more is numbered, written or sent. */
  discard(): void {
    this.#discarded = true;
    this.#outbox.length = 0;
    this.#sending.length = 0;
    this.#options.writer.forget(this.#options.sessionId);
    this.#subscribers.clear();
  }

  #flushSending(): void {
    while (this.#sending.length > 0 && this.#sending[0]!.written) {
      const pending = this.#sending.shift()!;
      if (!this.#discarded) this.#deliver(pending);
    }
  }

  #deliver({ frame, seq, delta }: PendingFrame): void {
    const entry = { seq, frame };
    this.recent.push(entry);
    this.#lastDelivered = seq;
    if (delta !== undefined) this.#options.onDeltaDelivered(delta);
    for (const subscriber of this.#subscribers.values()) subscriber.sessionEvent(entry);
  }
}
