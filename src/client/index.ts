/**
 * Parley's typed client for protocol v1, for browsers and Node (any WHATWG WebSocket). The web
 * UI, the tests and the benchmark use it. It keeps the highest seq it has seen and, when the
 * connection drops, reconnects with backoff and `after_seq`, so the server replays exactly what
 * was missed.
 */
import {
  CloseCode,
  ServerEvent,
  type ClientFrame,
  type ServerEventOf,
  type ServerEventType,
} from '../protocol/index.ts';

export { ResponseTexts } from './response-texts.ts';
export {
  HistoryError,
  ParleyHistory,
  SessionInfo,
  toWireEvent,
  type ModelInfo,
  type SessionPage,
} from './history.ts';
export type { ServerEvent, ClientFrame } from '../protocol/index.ts';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The part of the WHATWG WebSocket the client uses (browsers, Node 22+, `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  addEventListener(type: 'error', listener: () => void): void;
}

export interface ParleyClientOptions {
  /** Server base URL: `ws://127.0.0.1:8000` (or http(s)://, turned into ws(s)://). */
  url: string;
  userId: string;
  /** An existing session to open; without it the server creates one. */
  sessionId?: string;
  /**
   * The highest seq already known for `sessionId` (e.g. from the history API): the first
   * connect then replays only what came after it, as a reconnect does.
   */
  afterSeq?: number;
  /** WebSocket constructor; defaults to the global one. */
  WebSocket?: new (url: string) => WebSocketLike;
  /** Check every event against the protocol schema (default true; the benchmark turns it off). */
  validate?: boolean;
  /** Reconnect backoff: first delay, cap (ms). Defaults 250 and 10 000. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

type Listener<E> = (event: E) => void;

/** Close codes after which reconnecting cannot help. */
const finalCloseCodes = new Set<number>([
  CloseCode.badRequest,
  CloseCode.forbidden,
  CloseCode.sessionDeleted,
]);

export class ParleyClient {
  readonly userId: string;
  sessionId: string | undefined;
  /** The highest seq received: where a reconnect resumes from. */
  lastSeq = 0;
  state: ConnectionState = 'closed';
  /** Why the client stopped, when it stopped for good. */
  closeInfo: { code: number; reason: string } | undefined;

  readonly #options: ParleyClientOptions;
  readonly #WebSocket: new (url: string) => WebSocketLike;
  #socket: WebSocketLike | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #listeners = new Map<string, Set<Listener<never>>>();

  constructor(options: ParleyClientOptions) {
    this.#options = options;
    this.userId = options.userId;
    this.sessionId = options.sessionId;
    if (options.sessionId !== undefined && options.afterSeq !== undefined)
      this.lastSeq = options.afterSeq;
    const ctor =
      options.WebSocket ??
      (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
    if (!ctor) throw new Error('No WebSocket implementation: pass options.WebSocket');
    this.#WebSocket = ctor;
  }

  /** Opens the connection (and keeps it open until `close()`). */
  connect(): this {
    this.#stopped = false;
    this.#open();
    return this;
  }

  /** Sends a user message. Returns false when not connected (nothing was sent). */
  send(text: string): boolean {
    return this.#frame({ type: 'user.message', text });
  }

  cancel(): boolean {
    return this.#frame({ type: 'response.cancel' });
  }

  ping(): boolean {
    return this.#frame({ type: 'ping' });
  }

  /** Listens to one event type; returns a function that stops listening. */
  on<T extends ServerEventType>(type: T, listener: Listener<ServerEventOf<T>>): () => void {
    return this.#listen(type, listener as Listener<never>);
  }

  /** Listens to every event. */
  onEvent(listener: Listener<ServerEvent>): () => void {
    return this.#listen('*', listener as Listener<never>);
  }

  onState(listener: Listener<ConnectionState>): () => void {
    return this.#listen('state', listener as Listener<never>);
  }

  /** Resolves with the next event of a type. */
  next<T extends ServerEventType>(type: T): Promise<ServerEventOf<T>> {
    return new Promise((resolve) => {
      const stop = this.on(type, (event) => {
        stop();
        resolve(event);
      });
    });
  }

  /**
   * Reconnects at once instead of waiting out the backoff (e.g. when the browser says it is
   * online again). Does nothing unless the client is waiting to reconnect.
   */
  reconnectNow(): void {
    if (this.#stopped || this.state !== 'reconnecting' || this.#socket) return;
    clearTimeout(this.#timer);
    this.#open();
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket?.close(1000, 'client closed');
    this.#setState('closed');
  }

  #open(): void {
    const base = this.#options.url.replace(/^http/, 'ws').replace(/\/$/, '');
    const path = this.sessionId ? `/ws/session/${this.sessionId}` : '/ws/session';
    const query = new URLSearchParams({ user_id: this.userId });
    if (this.sessionId && this.lastSeq > 0) query.set('after_seq', String(this.lastSeq));
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    const socket = new this.#WebSocket(`${base}${path}?${query}`);
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#attempt = 0;
      this.#setState('open');
    });
    socket.addEventListener('message', ({ data }) => this.#receive(data));
    socket.addEventListener('error', () => {
      // 'close' follows and decides what to do.
    });
    socket.addEventListener('close', ({ code, reason }) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (this.#stopped) return;
      if (finalCloseCodes.has(code)) {
        this.closeInfo = { code, reason };
        this.#setState('closed');
        return;
      }
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    const first = this.#options.reconnectDelayMs ?? 250;
    const cap = this.#options.maxReconnectDelayMs ?? 10_000;
    const delay = Math.min(cap, first * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt += 1;
    this.#setState('reconnecting');
    this.#timer = setTimeout(() => this.#open(), delay);
  }

  #receive(data: unknown): void {
    let event: ServerEvent;
    try {
      const json: unknown = JSON.parse(String(data));
      event = this.#options.validate === false ? (json as ServerEvent) : ServerEvent.parse(json);
    } catch {
      return;
    }
    if (event.type === 'session.ready') this.sessionId = event.session_id;
    if (event.seq > this.lastSeq) this.lastSeq = event.seq;
    this.#emit(event.type, event);
    this.#emit('*', event);
  }

  #frame(frame: ClientFrame): boolean {
    if (!this.#socket || this.#socket.readyState !== 1) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  #setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.#emit('state', state);
  }

  #listen(key: string, listener: Listener<never>): () => void {
    let set = this.#listeners.get(key);
    if (!set) this.#listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  #emit(key: string, value: unknown): void {
    for (const listener of this.#listeners.get(key) ?? []) (listener as Listener<unknown>)(value);
  }
}
