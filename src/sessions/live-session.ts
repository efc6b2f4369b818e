import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LlmConfig } from '../config.ts';
import type { Database } from '../db/connect.ts';
import type { EventWriter } from '../db/event-writer.ts';
import { buildModelMessages, Transcript, type StoredEvent } from '../chat/history.ts';
import type { ChatModel } from '../chat/models.ts';
import { runResponse, type ResponseOutcome } from '../chat/run-response.ts';
import { createToolSet } from '../chat/tool-set.ts';
import { errorMessage } from '../errors.ts';
import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  storedEventTypes,
  type ClientFrame,
  type EventBody,
  type ServerEvent,
} from '../protocol/index.ts';
import type { ParleyTool, ServerStats } from '../tools/types.ts';
import { SeqCounter } from './seq-counter.ts';
import { loadTranscriptEvents, openSessionRow, reserveSeqBlock } from './store.ts';
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
}

const SEQ_BLOCK = 1_000;
/** How many stored events are read back to rebuild what the model remembers. */
const TRANSCRIPT_LOAD_LIMIT = 2_000;

type CancelReason = 'client' | 'session_ended' | 'shutdown';

interface ActiveResponse {
  responseId: string;
  controller: AbortController;
  cancelReason: CancelReason | undefined;
}

interface PendingFrame {
  frame: string;
  target: Connection | undefined;
  written: boolean;
}

interface Outgoing {
  body: EventBody | undefined;
  stored: { eventType: string; content: string | null; metadata: Record<string, unknown> } | undefined;
  target: Connection | undefined;
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
  readonly #connections = new Set<Connection>();
  readonly #seq: SeqCounter;
  readonly #transcript: Transcript;
  readonly #outbox: Outgoing[] = [];
  /** Frames waiting, in seq order, for a stored event ahead of them to be committed. */
  readonly #sending: PendingFrame[] = [];
  #queue: { messageId: string; text: string }[] = [];
  #current: ActiveResponse | undefined;
  #loop: Promise<void> | undefined;
  #ending: Promise<void> | undefined;
  #discarded = false;
  readonly #resumed: boolean;

  private constructor(
    deps: SessionDeps,
    init: { sessionId: string; userId: string; resumed: boolean; seq: SeqCounter; transcript: Transcript },
  ) {
    this.#deps = deps;
    this.id = init.sessionId;
    this.userId = init.userId;
    this.#resumed = init.resumed;
    this.#seq = init.seq;
    this.#transcript = init.transcript;
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
    const events = opened.resumed
      ? await loadTranscriptEvents(deps.db, sessionId, TRANSCRIPT_LOAD_LIMIT)
      : [];
    const seq = new SeqCounter({
      first: opened.block,
      blockSize: SEQ_BLOCK,
      reserve: (size) => reserveSeqBlock(deps.db, sessionId, size),
      onError: (error) => deps.logger.error({ err: error, sessionId }, 'seq reservation failed'),
    });
    const session = new LiveSession(deps, {
      sessionId,
      userId,
      resumed: opened.resumed,
      seq,
      transcript: new Transcript(events),
    });
    session.#record('session_started', { resumed: opened.resumed });
    return session;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** True while a response streams or messages wait. */
  get busy(): boolean {
    return this.#current !== undefined || this.#queue.length > 0;
  }

  get ending(): boolean {
    return this.#ending !== undefined;
  }

  /** Adds a socket and greets it with `session.ready`. */
  attach(connection: Connection): void {
    this.#connections.add(connection);
    this.#emit(
      {
        type: 'session.ready',
        protocol: PROTOCOL_VERSION,
        user_id: this.userId,
        resumed: this.#resumed,
        model: this.#deps.chatModel.modelId,
        provider: this.#deps.chatModel.provider,
        demo: this.#deps.chatModel.demo,
      },
      { target: connection },
    );
  }

  /** Removes a socket; returns how many remain. */
  detach(connection: Connection): number {
    this.#connections.delete(connection);
    return this.#connections.size;
  }

  /** Handles one parsed client frame. */
  handle(connection: Connection, frame: ClientFrame): void {
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

  /** Sends an event to every socket of the session without storing it. */
  broadcast(body: EventBody): void {
    this.#emit(body);
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
      this.#record('session_ended', { reason });
      await this.#seq.available();
      this.#drainOutbox();
      await this.#deps.writer.flush();
      await this.#deps.endSession(this.id);
      if (reason === 'shutdown') {
        for (const connection of this.#connections) {
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
    this.#outbox.length = 0;
    this.#sending.length = 0;
    this.#cancelCurrent('session_ended');
    this.#deps.writer.forget(this.id);
    for (const connection of this.#connections) {
      connection.close(CloseCode.sessionDeleted, 'session deleted');
    }
    this.#connections.clear();
  }

  #acceptUserMessage(connection: Connection, text: string): void {
    if (this.#ending) {
      this.sendError(connection, ErrorCode.internalError, 'The session is ending.');
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
    };
    this.#current = active;
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
          textDelta: (delta) => this.#emit({ type: 'response.text.delta', response_id: responseId, delta }),
          toolCall: ({ callId, name, input }) =>
            this.#emit({ type: 'tool.call', response_id: responseId, call_id: callId, name, arguments: input }),
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
        this.#deps.logger.warn({ sessionId: this.id, responseId, error: outcome.error }, 'response failed');
        this.#emit({ type: 'response.failed', response_id: responseId, text: outcome.text, error: outcome.error });
        break;
    }
  }

  #cancelCurrent(reason: CancelReason): void {
    const current = this.#current;
    if (!current || current.controller.signal.aborted) return;
    current.cancelReason = reason;
    current.controller.abort();
  }

  /** Stores an event that clients do not receive live (session lifecycle). */
  #record(eventType: string, metadata: Record<string, unknown>): void {
    this.#outbox.push({ body: undefined, stored: { eventType, content: null, metadata }, target: undefined });
    this.#drainOutbox();
  }

  /**
   * Numbers an event, sends it (to one connection or all), and queues it for storage when it is
   * one of the stored types. Serialized once, whatever the number of sockets.
   */
  #emit(body: EventBody, { target }: { target?: Connection } = {}): void {
    const storedType = (storedEventTypes as Record<string, string | undefined>)[body.type];
    let stored: Outgoing['stored'];
    if (storedType) {
      const { type: _type, text, ...metadata } = body as EventBody & { text?: string };
      stored = { eventType: storedType, content: text ?? null, metadata };
    }
    this.#outbox.push({ body, stored, target });
    this.#drainOutbox();
  }

  #drainOutbox(): void {
    if (this.#discarded) {
      this.#outbox.length = 0;
      return;
    }
    while (this.#outbox.length > 0) {
      const seq = this.#seq.take();
      if (seq === undefined) {
        void this.#seq.available().then(() => this.#drainOutbox());
        return;
      }
      const { body, stored, target } = this.#outbox.shift()!;
      const frame = body
        ? JSON.stringify({ ...body, session_id: this.id, seq } as ServerEvent)
        : undefined;
      if (stored) {
        const event: StoredEvent = { seq, ...stored };
        this.#transcript.add(event);
        if (frame) {
          // A stored event reaches clients only once it is committed, so whatever a client has
          // seen of it survives a crash; later frames wait behind it to keep seq order.
          const pending: PendingFrame = { frame, target, written: false };
          this.#sending.push(pending);
          this.#deps.writer.enqueue(this.id, event, () => {
            pending.written = true;
            this.#flushSending();
          });
        } else {
          this.#deps.writer.enqueue(this.id, event);
        }
        continue;
      }
      if (!frame) continue;
      if (this.#sending.length > 0) this.#sending.push({ frame, target, written: true });
      else this.#deliver(frame, target);
    }
  }

  #flushSending(): void {
    while (this.#sending.length > 0 && this.#sending[0]!.written) {
      const { frame, target } = this.#sending.shift()!;
      if (!this.#discarded) this.#deliver(frame, target);
    }
  }

  #deliver(frame: string, target: Connection | undefined): void {
    if (target) target.send(frame);
    else for (const connection of this.#connections) connection.send(frame);
  }
}
