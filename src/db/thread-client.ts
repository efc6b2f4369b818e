/**
 * Request and answer between the main thread and a database thread (`pglite-thread.ts`,
 * `writer-thread.ts`): one message each way per request, matched by id. The thread side is
 * `serveRequests`.
 */
import type { MessagePort, Worker } from 'node:worker_threads';

export type Answer =
  | { id: number; result: unknown }
  | { id: number; error: { message: string } & Record<string, unknown> };

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type Pending = { resolve(value: unknown): void; reject(error: unknown): void };

export class ThreadClient<Request extends object> {
  readonly #thread: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #exited: Error | undefined;
  #closing = false;

  /** `onLost` is told when the thread dies other than by `terminate()`. */
  constructor(thread: Worker, name: string, onLost: (error: Error) => void = () => {}) {
    this.#thread = thread;
    thread.on('message', (answer: Answer) => this.#settle(answer));
    const lost = (error: Error) => {
      const first = this.#exited === undefined;
      this.#fail(error);
      if (first && !this.#closing) onLost(error);
    };
    thread.on('error', lost);
    thread.on('exit', (code) => lost(new Error(`the ${name} thread exited (code ${code})`)));
  }

  call(request: Request): Promise<unknown> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#thread.postMessage({ ...request, id });
      this.#pending.set(id, { resolve, reject });
    });
  }

  /**
   * Sends `closeRequest` (if given) and waits for its answer at most `timeoutMs`, then stops
   * the thread whatever it was doing.
   */
  async terminate(closeRequest?: Request, timeoutMs = 10_000): Promise<void> {
    this.#closing = true;
    if (closeRequest && !this.#exited) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([this.call(closeRequest).catch(() => {}), timeout]);
      clearTimeout(timer);
    }
    await this.#thread.terminate();
  }

  #settle(answer: Answer): void {
    const pending = this.#pending.get(answer.id);
    if (!pending) return;
    this.#pending.delete(answer.id);
    if ('error' in answer)
      pending.reject(Object.assign(new Error(answer.error.message), answer.error));
    else pending.resolve(answer.result);
  }

  #fail(error: Error): void {
    this.#exited ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/**
 * The thread side: answers every request `handle` settles, in the order they settle. A
 * result that cannot cross threads becomes an error for its caller.
 */
export function serveRequests<Request extends { id: number }>(
  port: MessagePort,
  handle: (request: Request) => Promise<unknown>,
): void {
  const reply = (answer: Answer) => {
    try {
      port.postMessage(answer);
    } catch (error) {
      port.postMessage({ id: answer.id, error: describeError(error) } satisfies Answer);
    }
  };
  port.on('message', (request: Request) => {
    void handle(request).then(
      (result) => reply({ id: request.id, result }),
      (error: unknown) => reply({ id: request.id, error: plainError(error) }),
    );
  });
}

/** Errors thrown as plain data (a `WriteFailure`) pass as they are; others are described. */
function plainError(error: unknown): { message: string } & Record<string, unknown> {
  if (
    typeof error === 'object' &&
    error !== null &&
    !(error instanceof Error) &&
    'message' in error
  )
    return error as { message: string } & Record<string, unknown>;
  return describeError(error);
}

/** An error as plain data that can cross threads, keeping Postgres's fields (code, detail…). */
export function describeError(error: unknown): { message: string } & Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    // The statement and its parameters can be large; the rest is what callers match on.
    if (key === 'query' || key === 'params' || typeof value === 'function') continue;
    if (value === undefined || (typeof value === 'object' && value !== null)) continue;
    fields[key] = value;
  }
  return { ...fields, message: error.message, name: error.name };
}
