import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LlmConfig } from '../config.ts';
import type { Database } from '../db/connect.ts';
import type { EventWriter } from '../db/event-writer.ts';
import { buildModelMessages, Transcript } from '../chat/history.ts';
import type { ChatModel } from '../chat/models.ts';
import { runResponse, type ResponseOutcome } from '../chat/run-response.ts';
import { createToolSet } from '../chat/tool-set.ts';
import { errorMessage } from '../errors.ts';
import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  type ClientFrame,
  type EventBody,
} from '../protocol/index.ts';
import { resumeSubscriber } from './resume.ts';
import { SessionOutbox } from './session-outbox.ts';
import type { Subscriber } from './subscriber.ts';
import type { ParleyTool, ServerStats } from '../tools/types.ts';
import { SeqCounter } from './seq-counter.ts';
import { interruptDrafts, loadTranscriptEvents, openSessionRow, reserveSeqBlock } from './store.ts';
import type { Connection } from './transport.ts';

/** Everything a live session needs from the rest of the server. */
export interface SessionDeps {
  db: Database;
  writer: EventWriter;
  chatModel: ChatModel;
  llm: LlmConfig;
  tools: readonly ParleyTool[];
  stats: ServerStats;
  logger: Logger;
  instructions: string;
  maxQueuedMessages: number;
  maxMessageBytes: number;
  /** This server process, recorded on the sessions it holds open. */
  instanceId: string;
  /** Marks the session ended and queues its summary (one transaction). */
  endSession(sessionId: string): Promise<unknown>;
  resume: ResumeLimits;
}

export interface ResumeLimits {
  /** Newest session events kept per session for exact replay (count and bytes). */
  bufferFrames: number;
  bufferBytes: number;
  /** A socket further behind than this (unsent bytes) is cut off as a slow consumer. */
  maxBufferedBytes: number;
  /** How long a reconnecting socket may take to send `session.resume` as its first frame. */
  holdMs: number;
}

/** Partial text of a streaming response is saved at most this often (crash → `interrupted`). */
const DRAFT_INTERVAL_MS = 1_000;

const SEQ_BLOCK = 1_000;
/** How many stored events are read back to rebuild what the model remembers. */
const TRANSCRIPT_LOAD_LIMIT = 2_000;

type CancelReason = 'client' | 'session_ended' | 'shutdown';

interface ActiveResponse {
  responseId: string;
  controller: AbortController;
  cancelReason: CancelReason | undefined;
  /** The text of the deltas sent so far (what a client that saw them all has). */
  deliveredText: string;
  /** Text generated so far, and when it was last saved as a draft. */
  text: string;
  draftSavedAt: number;
}

/**
 * One open conversation in this process: its sockets, its seq counter, its queue of user
 * messages and the response being streamed. Failures inside it become events; nothing thrown
 * here reaches a socket handler.
 */
export class LiveSession {
  readonly id: string;
  readonly userId: string;
  readonly #deps: SessionDeps;
  readonly #outbox: SessionOutbox;
  readonly #seq: SeqCounter;
  readonly #transcript: Transcript;
  #queue: { messageId: string; text: string }[] = [];
  #current: ActiveResponse | undefined;
  #loop: Promise<void> | undefined;
  #ending: Promise<void> | undefined;
  #discarded = false;
  readonly #resumed: boolean;

  private constructor(
    deps: SessionDeps,
    init: {
      sessionId: string;
      userId: string;
      resumed: boolean;
      seq: SeqCounter;
      transcript: Transcript;
    },
  ) {
    this.#deps = deps;
    this.id = init.sessionId;
    this.userId = init.userId;
    this.#resumed = init.resumed;
    this.#seq = init.seq;
    this.#transcript = init.transcript;
    this.#outbox = new SessionOutbox({
      sessionId: init.sessionId,
      seq: init.seq,
      writer: deps.writer,
      transcript: init.transcript,
      bufferFrames: deps.resume.bufferFrames,
      bufferBytes: deps.resume.bufferBytes,
      maxBufferedBytes: deps.resume.maxBufferedBytes,
      onDeltaDelivered: (delta) => {
        if (this.#current) this.#current.deliveredText += delta;
      },
    });
  }

  /** Creates or reopens the session in the database; `forbidden` if it is another user's. */
  static async open(
    deps: SessionDeps,
    { sessionId, userId }: { sessionId: string; userId: string },
  ): Promise<LiveSession | 'forbidden'> {
    const opened = await openSessionRow(deps.db, {
      sessionId,
      userId,
      provider: deps.chatModel.provider,
      model: deps.chatModel.modelId,
      seqBlock: SEQ_BLOCK,
      instanceId: deps.instanceId,
    });
    if (opened.status === 'forbidden') return 'forbidden';
    const seq = new SeqCounter({
      first: opened.block,
      blockSize: SEQ_BLOCK,
      reserve: (size) => reserveSeqBlock(deps.db, sessionId, size),
      onError: (error) => deps.logger.error({ err: error, sessionId }, 'seq reservation failed'),
    });
    // A response cut off by a crash of the process that held this session is kept, with the
    // text saved so far, as interrupted; its seq comes from the block just reserved.
    const events = opened.resumed
      ? (await interruptDrafts(deps.db, sessionId, () => seq.take()!),
        await loadTranscriptEvents(deps.db, sessionId, TRANSCRIPT_LOAD_LIMIT))
      : [];
    const session = new LiveSession(deps, {
      sessionId,
      userId,
      resumed: opened.resumed,
      seq,
      transcript: new Transcript(events),
    });
    session.#outbox.record('session_started', { resumed: opened.resumed });
    return session;
  }

  get connectionCount(): number {
    return this.#outbox.size;
  }

  /** True while a response streams or messages wait. */
  get busy(): boolean {
    return this.#current !== undefined || this.#queue.length > 0;
  }

  get ending(): boolean {
    return this.#ending !== undefined;
  }

  /**
   * Adds a socket. With `afterSeq` it first gets every session event it missed; with
   * `holdForResume` it is held briefly in case its first frame is `session.resume`; otherwise
   * it is greeted with `session.ready` and gets events live from now on.
   */
  attach(
    connection: Connection,
    { afterSeq, holdForResume = false }: { afterSeq?: number; holdForResume?: boolean } = {},
  ): void {
    const subscriber = this.#outbox.subscribe(connection);
    if (afterSeq !== undefined) {
      void this.#resume(subscriber, afterSeq);
    } else if (holdForResume && this.#outbox.lastDelivered > 0) {
      subscriber.mode = 'held';
      subscriber.holdTimer = setTimeout(() => this.#greet(subscriber), this.#deps.resume.holdMs);
    } else {
      this.#greet(subscriber);
    }
  }

  /** Removes a socket; returns how many remain. */
  detach(connection: Connection): number {
    return this.#outbox.unsubscribe(connection);
  }

  /** Handles one parsed client frame. */
  handle(connection: Connection, frame: ClientFrame): void {
    const subscriber = this.#outbox.get(connection);
    if (!subscriber) return;
    if (frame.type === 'session.resume') {
      if (subscriber.mode === 'held') {
        clearTimeout(subscriber.holdTimer);
        void this.#resume(subscriber, frame.after_seq);
      } else {
        this.sendError(
          connection,
          ErrorCode.resumeNotFirst,
          'session.resume must be the first frame; or connect with ?after_seq=N.',
        );
      }
      return;
    }
    if (subscriber.mode === 'held') this.#greet(subscriber);
    switch (frame.type) {
      case 'ping':
        this.#emit({ type: 'pong' }, { target: connection });
        return;
      case 'response.cancel':
        if (!this.#current) {
          this.sendError(connection, ErrorCode.nothingToCancel, 'No response is streaming.');
          return;
        }
        this.#cancelCurrent('client');
        return;
      case 'user.message':
        this.#acceptUserMessage(connection, frame.text);
        return;
    }
  }

  /** Sends an event meant for each socket (not a session event) to every socket. */
  broadcast(body: EventBody): void {
    for (const subscriber of this.#outbox.subscribers()) subscriber.own(body);
  }

  /** Sends an `error` event to one connection (protocol errors are not stored). */
  sendError(connection: Connection, code: string, message: string): void {
    this.#emit({ type: 'error', code, message }, { target: connection });
  }

  /** Resolves when no response is streaming and no message waits. */
  async idle(): Promise<void> {
    while (this.#loop) await this.#loop;
  }

  /**
   * Ends the session: stops the response in flight (its partial text is kept), writes every
   * event, then marks the row ended. Idempotent.
   */
  end(reason: Exclude<CancelReason, 'client'> = 'session_ended'): Promise<void> {
    this.#ending ??= (async () => {
      this.#queue = [];
      this.#cancelCurrent(reason);
      await this.idle();
      this.#outbox.record('session_ended', { reason });
      await this.#seq.available();
      this.#outbox.drain();
      await this.#deps.writer.flush();
      await this.#deps.endSession(this.id);
      if (reason === 'shutdown') {
        for (const connection of this.#outbox.connections()) {
          connection.close(CloseCode.goingAway, 'server shutting down');
        }
      }
    })();
    return this.#ending;
  }

  /** The session's row is gone: stop at once, write nothing more, close the sockets. */
  discard(): void {
    if (this.#discarded) return;
    this.#discarded = true;
    this.#ending ??= Promise.resolve();
    this.#queue = [];
    const connections = [...this.#outbox.connections()];
    this.#outbox.discard();
    this.#cancelCurrent('session_ended');
    for (const connection of connections)
      connection.close(CloseCode.sessionDeleted, 'session deleted');
  }

  #acceptUserMessage(connection: Connection, text: string): void {
    if (this.#ending) {
      this.sendError(
        connection,
        ErrorCode.sessionEnding,
        'The session is ending; reconnect to reopen it.',
      );
      return;
    }
    if (text.trim().length === 0) {
      this.sendError(connection, ErrorCode.emptyMessage, 'A message needs some text.');
      return;
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.#deps.maxMessageBytes) {
      this.sendError(
        connection,
        ErrorCode.messageTooLarge,
        `The message has ${bytes} bytes; the limit is ${this.#deps.maxMessageBytes}.`,
      );
      return;
    }
    if (this.#queue.length >= this.#deps.maxQueuedMessages) {
      this.sendError(
        connection,
        ErrorCode.queueFull,
        `${this.#queue.length} messages already wait for an answer; send this one later.`,
      );
      return;
    }
    const messageId = randomUUID();
    const queued = this.busy;
    this.#emit({ type: 'message.created', message_id: messageId, role: 'user', text, queued });
    this.#deps.writer.count(this.id, { messages: 1 });
    this.#queue.push({ messageId, text });
    this.#loop ??= this.#answerQueue().finally(() => {
      this.#loop = undefined;
    });
  }

  async #answerQueue(): Promise<void> {
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      try {
        await this.#respond(next.messageId);
      } catch (error) {
        this.#deps.logger.error({ err: error, sessionId: this.id }, 'response loop failed');
      }
    }
  }

  async #respond(messageId: string): Promise<void> {
    const responseId = randomUUID();
    const active: ActiveResponse = {
      responseId,
      controller: new AbortController(),
      cancelReason: undefined,
      deliveredText: '',
      text: '',
      draftSavedAt: performance.now(),
    };
    this.#current = active;
    this.#deps.writer.draft(this.id, responseId, '');
    const durations = new Map<string, number>();
    this.#emit({ type: 'response.started', response_id: responseId, message_id: messageId });
    const messages = buildModelMessages(this.#transcript.entries, this.#deps.llm.historyTokens);

    let outcome: ResponseOutcome;
    try {
      outcome = await runResponse({
        chatModel: this.#deps.chatModel,
        instructions: this.#deps.instructions,
        messages,
        tools: createToolSet({
          tools: this.#deps.tools,
          context: {
            userId: this.userId,
            sessionId: this.id,
            db: this.#deps.db,
            stats: this.#deps.stats,
          },
          timeoutMs: this.#deps.llm.toolTimeoutMs,
          onDuration: (callId, ms) => durations.set(callId, ms),
        }),
        maxSteps: this.#deps.llm.maxSteps,
        maxRetries: this.#deps.llm.maxRetries,
        stallTimeoutMs: this.#deps.llm.stallTimeoutMs,
        signal: active.controller.signal,
        sink: {
          textDelta: (delta) => {
            active.text += delta;
            this.#emit({ type: 'response.text.delta', response_id: responseId, delta });
            const now = performance.now();
            if (now - active.draftSavedAt >= DRAFT_INTERVAL_MS) {
              active.draftSavedAt = now;
              this.#deps.writer.draft(this.id, responseId, active.text);
            }
          },
          toolCall: ({ callId, name, input }) =>
            this.#emit({
              type: 'tool.call',
              response_id: responseId,
              call_id: callId,
              name,
              arguments: input,
            }),
          toolResult: ({ callId, name, result, error }) =>
            this.#emit({
              type: 'tool.result',
              response_id: responseId,
              call_id: callId,
              name,
              ...(error ? { error } : { result }),
              duration_ms: Math.round(durations.get(callId) ?? 0),
            }),
        },
      });
    } catch (error) {
      outcome = {
        status: 'failed',
        text: '',
        error: { code: ErrorCode.internalError, message: errorMessage(error) },
        usage: { input_tokens: 0, output_tokens: 0 },
      };
    } finally {
      this.#current = undefined;
      // Written in the same batch as the event that ends the response.
      this.#deps.writer.draft(this.id, responseId, null);
    }

    this.#deps.writer.count(this.id, {
      inputTokens: outcome.usage.input_tokens,
      outputTokens: outcome.usage.output_tokens,
    });
    switch (outcome.status) {
      case 'completed':
        this.#emit({
          type: 'response.completed',
          response_id: responseId,
          text: outcome.text,
          finish_reason: outcome.finishReason,
          usage: outcome.usage,
        });
        break;
      case 'cancelled':
        this.#emit({
          type: 'response.cancelled',
          response_id: responseId,
          text: outcome.text,
          reason: active.cancelReason ?? 'client',
        });
        break;
      case 'failed':
        this.#deps.logger.warn(
          { sessionId: this.id, responseId, error: outcome.error },
          'response failed',
        );
        this.#emit({
          type: 'response.failed',
          response_id: responseId,
          text: outcome.text,
          error: outcome.error,
        });
        break;
    }
  }

  #cancelCurrent(reason: CancelReason): void {
    const current = this.#current;
    if (!current || current.controller.signal.aborted) return;
    current.cancelReason = reason;
    current.controller.abort();
  }

  #emit(body: EventBody, { target }: { target?: Connection } = {}): void {
    this.#outbox.emit(body, target);
  }

  #readyBody(resumed: boolean, lastSeq: number) {
    return {
      type: 'session.ready' as const,
      protocol: PROTOCOL_VERSION,
      user_id: this.userId,
      resumed,
      model: this.#deps.chatModel.modelId,
      provider: this.#deps.chatModel.provider,
      demo: this.#deps.chatModel.demo,
      last_seq: lastSeq,
      response_in_flight: this.#current !== undefined,
    };
  }

  /** `session.ready` for a socket that now follows the session live. */
  #greet(subscriber: Subscriber): void {
    subscriber.own(this.#readyBody(this.#resumed, this.#outbox.lastDelivered));
    subscriber.goLive();
  }

  #resume(subscriber: Subscriber, afterSeq: number): Promise<void> {
    const upTo = this.#outbox.lastDelivered;
    const inFlight = this.#current;
    return resumeSubscriber({
      db: this.#deps.db,
      sessionId: this.id,
      subscriber,
      afterSeq,
      upTo,
      recent: this.#outbox.recent,
      ready: this.#readyBody(true, upTo),
      inFlight: inFlight && { responseId: inFlight.responseId, text: inFlight.deliveredText },
      paceBytes: this.#deps.resume.maxBufferedBytes / 2,
      attached: () => this.#outbox.get(subscriber.connection) === subscriber,
      logger: this.#deps.logger,
    });
  }
}
