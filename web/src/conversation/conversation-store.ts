/**
 * One open conversation: its history (from the history API), its live connection (the typed
 * protocol client, with reconnect and resume) and the messages the user typed that the server
 * has not acknowledged yet. React reads it through `subscribe` / `getSnapshot`; changes are
 * published at most once per animation frame, however fast tokens arrive.
 */
import {
  HistoryError,
  ParleyClient,
  type ConnectionState,
  type ModelInfo,
  type ParleyHistory,
  type ServerEvent,
  type WebSocketLike,
} from '../../../src/client/index.ts';
import { CloseCode, type ServerEventOf } from '../../../src/protocol/index.ts';
import {
  addLocalMessage,
  applyEvent,
  emptyConversation,
  setDelivery,
  settleHistory,
  streamingResponse,
  type ConversationState,
} from './conversation-state.ts';

/** `idle`: no socket is needed yet (a new conversation, or one read from history). */
export type ConnectionView = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConversationSnapshot {
  conversation: ConversationState;
  sessionId: string | undefined;
  connection: ConnectionView;
  loading: boolean;
  /** Why the conversation cannot be shown or continued; undefined when all is well. */
  problem: string | undefined;
  /** A passing notice, e.g. a protocol error the server reported. */
  notice: string | undefined;
  model: ModelInfo | undefined;
  streaming: boolean;
}

export interface ConversationStoreOptions {
  /** The server's base URL, e.g. `location.origin`. */
  url: string;
  userId: string;
  /** An existing session to show; without it a new one starts with the first message. */
  sessionId?: string;
  history: ParleyHistory;
  /** A new session got its id from the server (the URL can show it now). */
  onSessionStarted?(sessionId: string): void;
  /** Another session of the user was summarized. */
  onSummary?(event: ServerEventOf<'session.summary'>): void;
  /** Something the session list shows changed (a response ended). */
  onActivity?(): void;
  WebSocket?: new (url: string) => WebSocketLike;
  /** Defers a publish to the next frame; tests pass a synchronous one. */
  scheduleFrame?: (callback: () => void) => () => void;
}

/** Server refusals of a user message: the message they answer was not accepted. */
const refusalCodes = new Set(['empty_message', 'message_too_large', 'queue_full', 'rate_limited']);

const closeProblems: Record<number, string> = {
  [CloseCode.forbidden]: 'This conversation belongs to another user name.',
  [CloseCode.sessionDeleted]: 'This conversation was deleted.',
  [CloseCode.badRequest]: 'The server refused this conversation (bad session id or user name).',
};

function nextFrame(callback: () => void): () => void {
  if (typeof requestAnimationFrame === 'function') {
    const id = requestAnimationFrame(callback);
    return () => cancelAnimationFrame(id);
  }
  const timer = setTimeout(callback, 16);
  return () => clearTimeout(timer);
}

let localKeys = 0;

export class ConversationStore {
  readonly #options: ConversationStoreOptions;
  #state: ConversationState = emptyConversation;
  #sessionId: string | undefined;
  #connection: ConnectionView = 'idle';
  #loading = false;
  #problem: string | undefined;
  #notice: string | undefined;
  #model: ModelInfo | undefined;
  #published: ConversationSnapshot;
  readonly #listeners = new Set<() => void>();
  #cancelFrame: (() => void) | undefined;
  #client: ParleyClient | undefined;
  /** Typed here, not yet handed to a socket. */
  #outbox: { key: string; text: string }[] = [];
  /** Handed to a socket, not yet acknowledged by `message.created`. */
  readonly #awaiting = new Set<string>();
  /** After a reconnect: the seq up to which the server replays what we missed. */
  #replayUntil: number | undefined;
  #ready = false;
  #disposed = false;

  constructor(options: ConversationStoreOptions) {
    this.#options = options;
    this.#sessionId = options.sessionId;
    this.#published = this.#snapshot();
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): ConversationSnapshot => this.#published;

  /** Shows an existing session's history and follows it live if it is still active. */
  async load(): Promise<void> {
    const sessionId = this.#sessionId;
    if (sessionId === undefined) return;
    this.#loading = true;
    this.#changed();
    try {
      const { history } = this.#options;
      const [session, events] = await Promise.all([history.getSession(sessionId), history.loadEvents(sessionId)]);
      if (this.#disposed) return;
      for (const event of events) this.#state = applyEvent(this.#state, event);
      if (session.status === 'active') this.#connect();
      else this.#state = settleHistory(this.#state);
    } catch (error) {
      this.#problem =
        error instanceof HistoryError && error.status === 404
          ? 'No such conversation for this user name.'
          : `Could not load this conversation: ${(error as Error).message}`;
    } finally {
      this.#loading = false;
      this.#changed();
    }
  }

  /** Sends a message; it waits here until the connection is ready, and queues behind a reply. */
  send(text: string): void {
    if (this.#problem !== undefined) return;
    const key = `local-${++localKeys}`;
    this.#state = addLocalMessage(this.#state, { key, text });
    this.#outbox.push({ key, text });
    this.#notice = undefined;
    this.#connect();
    this.#flush();
    this.#changed();
  }

  /** Sends a message that failed again. */
  retry(key: string): void {
    const item = this.#state.items.find((entry) => entry.kind === 'user' && entry.key === key);
    if (item?.kind !== 'user' || item.delivery !== 'failed') return;
    this.#state = setDelivery(this.#state, key, 'sending');
    this.#outbox.push({ key, text: item.text });
    this.#connect();
    this.#flush();
    this.#changed();
  }

  /** Stops the reply that is streaming; false when there is none or no connection. */
  cancel(): boolean {
    if (!streamingResponse(this.#state)) return false;
    return this.#client?.cancel() ?? false;
  }

  /** After the browser comes back online: reconnect now rather than after the backoff. */
  reconnectNow(): void {
    this.#client?.reconnectNow();
  }

  dispose(): void {
    this.#disposed = true;
    this.#cancelFrame?.();
    this.#client?.close();
    this.#client = undefined;
    this.#listeners.clear();
  }

  // ---------------------------------------------------------------- connection

  #connect(): void {
    if (this.#client || this.#disposed) return;
    const { url, userId, WebSocket } = this.#options;
    const client = new ParleyClient({
      url,
      userId,
      ...(this.#sessionId !== undefined ? { sessionId: this.#sessionId, afterSeq: this.#state.lastSeq } : {}),
      ...(WebSocket ? { WebSocket } : {}),
    });
    this.#client = client;
    client.onState((state) => this.#onState(state));
    client.onEvent((event) => this.#onEvent(event));
    client.connect();
  }

  #onState(state: ConnectionState): void {
    if (state !== 'open') this.#ready = false;
    this.#connection = state === 'open' ? 'connected' : state;
    const closeInfo = this.#client?.closeInfo;
    if (state === 'closed' && closeInfo) {
      this.#problem = closeProblems[closeInfo.code] ?? `The server closed the conversation (${closeInfo.code}).`;
      for (const key of this.#awaiting) this.#state = setDelivery(this.#state, key, 'failed', this.#problem);
      this.#awaiting.clear();
    }
    this.#changed();
  }

  #onEvent(event: ServerEvent): void {
    switch (event.type) {
      case 'session.ready':
        this.#onReady(event);
        break;
      case 'session.summary':
        this.#options.onSummary?.(event);
        break;
      case 'error':
        this.#onError(event);
        break;
      case 'response.completed':
      case 'response.cancelled':
      case 'response.failed':
        this.#options.onActivity?.();
        break;
      default:
        break;
    }
    this.#state = applyEvent(this.#state, event);
    if (event.type === 'message.created') this.#acknowledged();
    if (this.#replayUntil !== undefined && this.#state.lastSeq >= this.#replayUntil) this.#replayDone();
    this.#changed();
  }

  #onReady(event: ServerEventOf<'session.ready'>): void {
    const isNew = this.#sessionId === undefined;
    this.#sessionId = event.session_id;
    this.#model = { provider: event.provider, model: event.model, demo: event.demo };
    if (isNew) this.#options.onSessionStarted?.(event.session_id);
    this.#ready = true;
    // Messages handed to the old socket: the replay shows whether the server got them.
    if (this.#awaiting.size > 0) this.#replayUntil = event.last_seq;
    if (this.#replayUntil !== undefined && this.#state.lastSeq >= this.#replayUntil) this.#replayDone();
    this.#flush();
  }

  #replayDone(): void {
    this.#replayUntil = undefined;
    for (const key of this.#awaiting) {
      this.#state = setDelivery(this.#state, key, 'failed', 'The connection dropped before the server got this message.');
    }
    this.#awaiting.clear();
  }

  #onError(event: ServerEventOf<'error'>): void {
    const [oldest] = this.#awaiting;
    if (refusalCodes.has(event.code) && oldest !== undefined) {
      this.#awaiting.delete(oldest);
      this.#state = setDelivery(this.#state, oldest, 'failed', event.message);
      return;
    }
    if (event.code !== 'nothing_to_cancel') this.#notice = event.message;
  }

  #acknowledged(): void {
    for (const key of this.#awaiting) {
      const item = this.#state.items.find((entry) => entry.kind === 'user' && entry.key === key);
      if (item?.kind === 'user' && item.messageId !== undefined) this.#awaiting.delete(key);
    }
  }

  #flush(): void {
    const client = this.#client;
    if (!client || !this.#ready) return;
    while (this.#outbox.length > 0) {
      const next = this.#outbox[0]!;
      if (!client.send(next.text)) return;
      this.#outbox.shift();
      this.#awaiting.add(next.key);
    }
  }

  // ---------------------------------------------------------------- publishing

  #snapshot(): ConversationSnapshot {
    return {
      conversation: this.#state,
      sessionId: this.#sessionId,
      connection: this.#connection,
      loading: this.#loading,
      problem: this.#problem,
      notice: this.#notice,
      model: this.#model,
      streaming: streamingResponse(this.#state) !== undefined,
    };
  }

  #changed(): void {
    if (this.#cancelFrame || this.#disposed) return;
    const schedule = this.#options.scheduleFrame ?? nextFrame;
    let ran = false;
    const cancel = schedule(() => {
      ran = true;
      this.#cancelFrame = undefined;
      this.#published = this.#snapshot();
      for (const listener of this.#listeners) listener();
    });
    if (!ran) this.#cancelFrame = cancel;
  }
}
