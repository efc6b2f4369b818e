import WebSocket from 'ws';
import {
  ServerEvent,
  type ClientFrame,
  type ServerEventOf,
  type ServerEventType,
} from '../../src/protocol/index.ts';

export interface Closed {
  code: number;
  reason: string;
}

/**
 * A WebSocket client for tests: records every event (validated against the protocol schema,
 * so a malformed event fails the test), and waits for events or the close.
 */
export class TestClient {
  readonly events: ServerEvent[] = [];
  readonly socket: WebSocket;
  readonly closed: Promise<Closed>;
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.#notify();
      });
    });
    socket.on('message', (data) => {
      const parsed = ServerEvent.safeParse(JSON.parse(data.toString()));
      if (!parsed.success) {
        throw new Error(`malformed event ${data.toString()}: ${parsed.error.message}`);
      }
      this.events.push(parsed.data);
      this.#notify();
    });
  }

  /** Opens `/ws/session[/:id]?user_id=…`; resolves once the socket is open. */
  static async connect(
    wsUrl: string,
    {
      sessionId,
      userId = 'alice',
      query = '',
    }: { sessionId?: string; userId?: string; query?: string } = {},
  ): Promise<TestClient> {
    const path = sessionId === undefined ? '/ws/session' : `/ws/session/${sessionId}`;
    const socket = new WebSocket(`${wsUrl}${path}?user_id=${encodeURIComponent(userId)}${query}`);
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Connects and waits for `session.ready`. */
  static async ready(wsUrl: string, options: Parameters<typeof TestClient.connect>[1] = {}) {
    const client = await TestClient.connect(wsUrl, options);
    const ready = await client.next('session.ready');
    return { client, ready, sessionId: ready.session_id };
  }

  send(frame: ClientFrame | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  say(text: string): void {
    this.send({ type: 'user.message', text });
  }

  /** Events of one type received so far. */
  all<T extends ServerEventType>(type: T): ServerEventOf<T>[] {
    return this.events.filter((event): event is ServerEventOf<T> => event.type === type);
  }

  /** Waits until `count` events of `type` have arrived in total; returns the last of them. */
  async next<T extends ServerEventType>(
    type: T,
    { count = 1, timeoutMs = 15_000 } = {},
  ): Promise<ServerEventOf<T>> {
    await this.until(() => this.all(type).length >= count, `${count} × ${type}`, timeoutMs);
    return this.all(type)[count - 1]!;
  }

  /** Waits for a response to end (completed, cancelled or failed), the `count`-th one. */
  async responseEnd({ count = 1, timeoutMs = 20_000 } = {}) {
    const ends = () =>
      this.events.filter((event) =>
        ['response.completed', 'response.cancelled', 'response.failed'].includes(event.type),
      );
    await this.until(() => ends().length >= count, `${count} response end(s)`, timeoutMs);
    return ends()[count - 1] as ServerEventOf<
      'response.completed' | 'response.cancelled' | 'response.failed'
    >;
  }

  async until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter.resolve !== done);
        reject(
          new Error(
            `timed out waiting for ${what}; got: ${this.events.map((e) => e.type).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push({ check, resolve: done });
    });
  }

  async close(): Promise<Closed> {
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    ) {
      this.socket.close(1000);
    }
    return this.closed;
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.check()) {
        this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
        waiter.resolve();
      }
    }
  }
}

/** The text a client rebuilds from the deltas of one response. */
export function deltasText(client: TestClient, responseId: string): string {
  return client
    .all('response.text.delta')
    .filter((event) => event.response_id === responseId)
    .map((event) => event.delta)
    .join('');
}
