import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { StoredEvent } from '../chat/history.ts';

interface PendingEvent extends StoredEvent {
  sessionId: string;
  /** Called once the event's batch has committed. */
  written: (() => void) | undefined;
  /** performance.now() when it was enqueued. */
  enqueuedAt: number;
}

interface CounterDelta {
  messages: number;
  inputTokens: number;
  outputTokens: number;
}

/** The newest partial text of a streaming response; null: the response ended, drop its draft. */
interface Draft {
  sessionId: string;
  text: string | null;
  /** Orders drafts of one response when failed batches give theirs back. */
  version: number;
}

/** A batch sent to the database and not yet answered. */
interface Batch {
  events: PendingEvent[];
  counters: Map<string, CounterDelta>;
  drafts: Map<string, Draft>;
  /** Settles once the batch's answer is handled, which is after every earlier batch's. */
  handled: Promise<void>;
}

export interface EventWriterOptions {
  /**
   * Runs the batch statement (`DatabaseHandle.write`): in order after every batch sent before
   * it, and, once one fails, failing those sent after it unrun.
   */
  write(sql: string, params: unknown[]): Promise<void>;
  logger: Logger;
  /** Longest time an event nobody waits on (drafts, counters, lifecycle records) waits to be written. */
  flushIntervalMs: number;
  /** A batch this large is written at once instead of waiting for the interval. */
  maxBatch?: number;
}

/** Batches sent and not yet answered, at most; the next one gathers meanwhile. */
const MAX_IN_FLIGHT = 4;

/**
 * Writes session events in batches, off the token path. Events are written in the order they
 * were enqueued (so per-session `seq` order holds), one statement per batch, together
 * with the session counters and drafts they change. A failed batch is retried, not dropped: accepted
 * events survive a database hiccup as long as the process lives. Events and drafts of a
 * session deleted meanwhile are left out by the statement itself.
 *
 * An event someone waits for (a client, for a stored event to go out) is sent at the end of
 * the event loop's turn, even while earlier batches are still being written: the database runs
 * them in order (`DatabaseHandle.write`), so a busy main thread does not add a turn of its own
 * per batch. Drafts and counters alone wait for the interval and for no batch to be in flight.
 */
export class EventWriter {
  readonly #write: (sql: string, params: unknown[]) => Promise<void>;
  readonly #logger: Logger;
  readonly #flushIntervalMs: number;
  readonly #maxBatch: number;
  /** Events not yet sent, oldest first. */
  #queue: PendingEvent[] = [];
  /** Events of failed batches put back at the front of `#queue` since the last success. */
  #requeued = 0;
  #inFlight: Batch[] = [];
  #counters = new Map<string, CounterDelta>();
  /** Latest partial text per streaming response. */
  #drafts = new Map<string, Draft>();
  #draftVersion = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** Failed attempts in a row (batches skipped behind a failure not counted). */
  #failures = 0;
  /** After a failure: no batch is sent before this time (performance.now()). */
  #retryAt = 0;
  #closed = false;
  /**
   * Figures for `/metrics` and the benchmark: batches and rows written, batch sizes, and the
   * lag (enqueue of a batch's oldest event → its commit seen here) of the slowest batch.
   */
  readonly stats = {
    batches: 0,
    rows: 0,
    lastBatchSize: 0,
    maxBatchSize: 0,
    maxLagMs: 0,
    failures: 0,
  };
  /** Lag of every committed batch (microseconds), for percentiles; see `takeLagHistogram`. */
  #lags: RecordableHistogram = createHistogram();

  constructor({ write, logger, flushIntervalMs, maxBatch = 1_000 }: EventWriterOptions) {
    this.#write = write;
    this.#logger = logger;
    this.#flushIntervalMs = flushIntervalMs;
    this.#maxBatch = maxBatch;
  }

  /**
   * Queues one event for writing and returns at once; `written` is called when the batch that
   * holds it has committed.
   */
  enqueue(sessionId: string, event: StoredEvent, written?: () => void): void {
    if (this.#closed) throw new Error('EventWriter is closed');
    this.#queue.push({ sessionId, ...event, written, enqueuedAt: performance.now() });
    if (this.#queue.length >= this.#maxBatch) this.#send(true);
    else if (written) this.#soon();
    else this.#schedule();
  }

  /** Adds to a session's message and token totals, written with the next batch. */
  count(sessionId: string, delta: Partial<CounterDelta>): void {
    addCounts(this.#counters, sessionId, delta);
    this.#schedule();
  }

  /**
   * Saves (or, with null, removes) the partial text of a streaming response, with the next
   * batch. Only the newest text per response is written.
   */
  draft(sessionId: string, responseId: string, text: string | null): void {
    this.#drafts.set(responseId, { sessionId, text, version: ++this.#draftVersion });
    this.#schedule();
  }

  /** Drops what is still queued for a session that no longer exists. */
  forget(sessionId: string): void {
    const kept = (event: PendingEvent) => event.sessionId !== sessionId;
    this.#requeued = this.#queue.slice(0, this.#requeued).filter(kept).length;
    this.#queue = this.#queue.filter(kept);
    this.#counters.delete(sessionId);
    for (const [responseId, draft] of this.#drafts) {
      if (draft.sessionId === sessionId) this.#drafts.delete(responseId);
    }
  }

  /** The batch lags recorded since the previous call (and starts a new record). */
  takeLagHistogram(): RecordableHistogram {
    const lags = this.#lags;
    this.#lags = createHistogram();
    return lags;
  }

  /** Events waiting to be written. */
  get pending(): number {
    let sent = 0;
    for (const batch of this.#inFlight) sent += batch.events.length;
    return this.#queue.length + sent;
  }

  /** Resolves once everything enqueued so far is written (retrying failures meanwhile). */
  async flush(): Promise<void> {
    for (;;) {
      const last = this.#inFlight.at(-1);
      if (last) {
        await last.handled;
        continue;
      }
      if (!this.#hasWork()) return;
      if (this.#failures > 0) await sleep(Math.max(0, this.#retryAt - performance.now()));
      this.#send(true);
    }
  }

  /** Writes what is left and refuses new events. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#clearTimer();
  }

  #hasWork(): boolean {
    return this.#queue.length > 0 || this.#counters.size > 0 || this.#drafts.size > 0;
  }

  #schedule(): void {
    if (this.#timer) return;
    const delay =
      this.#failures === 0 ? this.#flushIntervalMs : Math.max(0, this.#retryAt - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#send(false);
    }, delay);
  }

  /**
   * Group commit for events someone waits on: the batch is sent once the current turn of the
   * event loop is done, so everything enqueued in the same turn shares it.
   */
  #soon(): void {
    if (this.#immediate) return;
    if (this.#failures > 0) {
      this.#schedule();
      return;
    }
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#send(true);
    });
  }

  #retryDelay(): number {
    return Math.min(5_000, 100 * 2 ** this.#failures);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }

  /**
   * Sends the next batch, unless it has to wait: after a failure, for the failed batches to
   * come back and for the back-off to pass; for a free place in flight; or (`urgent` false:
   * nobody waits on it) for the batches in flight. What waits is sent when a batch's answer
   * comes (`#next`) or its timer fires.
   */
  #send(urgent: boolean): void {
    if (this.#failures > 0) {
      if (this.#inFlight.length > 0) return;
      if (this.#retryAt > performance.now()) {
        this.#schedule();
        return;
      }
    } else if (this.#inFlight.length > 0 && !urgent) return;
    if (this.#inFlight.length >= MAX_IN_FLIGHT || !this.#hasWork()) return;
    this.#clearTimer();
    const events = this.#queue.splice(0, this.#maxBatch);
    // Whatever stays queued is newer than this batch: if it fails, it goes back in front.
    this.#requeued = 0;
    const counters = this.#counters;
    this.#counters = new Map();
    // Drafts go with the batch that empties the queue, so a draft is never removed before the
    // event that ends its response is written.
    const drafts = this.#queue.length === 0 ? this.#drafts : new Map<string, Draft>();
    if (drafts === this.#drafts) this.#drafts = new Map();
    let result: Promise<void>;
    try {
      result = this.#write(batchSql, batchParams(events, counters, drafts));
    } catch (error) {
      result = Promise.reject(error);
    }
    // Handled below once the batches before it are; until then a failure must not count as unhandled.
    result.catch(() => {});
    const previous = this.#inFlight.at(-1)?.handled ?? Promise.resolve();
    const batch: Batch = { events, counters, drafts, handled: previous };
    batch.handled = previous
      .then(() => result)
      .then(
        () => this.#committed(batch),
        (error: unknown) => this.#failed(batch, error),
      );
    this.#inFlight.push(batch);
  }

  #committed(batch: Batch): void {
    this.#inFlight.shift();
    this.#failures = 0;
    this.stats.batches += 1;
    this.stats.rows += batch.events.length;
    this.stats.lastBatchSize = batch.events.length;
    this.stats.maxBatchSize = Math.max(this.stats.maxBatchSize, batch.events.length);
    if (batch.events.length > 0) {
      const lagMs = performance.now() - batch.events[0]!.enqueuedAt;
      this.stats.maxLagMs = Math.max(this.stats.maxLagMs, lagMs);
      this.#lags.record(Math.max(1, Math.round(lagMs * 1000)));
    }
    for (const event of batch.events) {
      try {
        event.written?.();
      } catch (error) {
        this.#logger.error({ err: error }, 'a written-event callback threw');
      }
    }
    this.#next();
  }

  /**
   * Puts a failed batch's events back at the front of the queue (after those of earlier failed
   * batches), and its counters and drafts back where no newer ones came meanwhile.
   */
  #failed(batch: Batch, error: unknown): void {
    this.#inFlight.shift();
    this.#queue.splice(this.#requeued, 0, ...batch.events);
    this.#requeued += batch.events.length;
    for (const [sessionId, delta] of batch.counters) addCounts(this.#counters, sessionId, delta);
    for (const [responseId, draft] of batch.drafts) {
      const current = this.#drafts.get(responseId);
      if (!current || current.version < draft.version) this.#drafts.set(responseId, draft);
    }
    // A batch behind a failed one was not run; only the failure itself counts.
    if ((error as { skipped?: unknown } | null)?.skipped !== true) {
      this.#failures += 1;
      this.stats.failures += 1;
      this.#retryAt = performance.now() + this.#retryDelay();
      // The retry waits for its back-off (scheduled once every batch is back, in `#next`), not
      // for a flush timer set before the failure.
      this.#clearTimer();
      this.#logger.error(
        { err: error, rows: batch.events.length, attempt: this.#failures },
        'event batch write failed; will retry',
      );
    }
    this.#next();
  }

  /** After an answer: sends or schedules what waits, or the retry once every batch is back. */
  #next(): void {
    if (!this.#hasWork()) return;
    if (this.#failures > 0) {
      if (this.#inFlight.length === 0) this.#schedule();
    } else if (this.#queue.length >= this.#maxBatch) this.#send(true);
    else if (this.#queue.some((event) => event.written)) this.#soon();
    else this.#schedule();
  }
}

function addCounts(
  counters: Map<string, CounterDelta>,
  sessionId: string,
  delta: Partial<CounterDelta>,
): void {
  const current = counters.get(sessionId) ?? { messages: 0, inputTokens: 0, outputTokens: 0 };
  current.messages += whole(delta.messages);
  current.inputTokens += whole(delta.inputTokens);
  current.outputTokens += whole(delta.outputTokens);
  counters.set(sessionId, current);
}

/**
 * Everything a batch writes, as one statement: events, session counters and drafts in data-
 * modifying CTEs over array parameters. One statement is atomic by itself and costs one round
 * trip, where a transaction of four statements costs six; and its text never changes, so the
 * server builds no SQL per batch, only thirteen arrays (and Postgres plans it once per
 * connection, as a named statement).
 *
 * One bad value would fail every batch after it, for every session, so values are made safe
 * first: Postgres text cannot hold NUL (a model can write one), jsonb no lone surrogate either,
 * counters must be integers.
 */
const batchSql = `with inserted as (
    insert into session_events (session_id, seq, event_type, content, metadata)
    select e.session_id::uuid, e.seq, e.event_type, e.content, e.metadata::jsonb
    from unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[]) with ordinality
      as e (session_id, seq, event_type, content, metadata, n)
    -- A session deleted while its events waited takes them with it; on its foreign key they
    -- would fail this batch and every one after it, for every session.
    where exists (select 1 from sessions s where s.session_id = e.session_id::uuid)
    order by e.n
    -- A batch retried after a lost acknowledgement must not fail on its own rows.
    on conflict (session_id, seq) do nothing returning 1),
  counted as (
    update sessions set
      message_count = sessions.message_count + d.messages,
      input_tokens = sessions.input_tokens + d.input_tokens,
      output_tokens = sessions.output_tokens + d.output_tokens,
      updated_at = now()
    from unnest($6::text[], $7::int[], $8::bigint[], $9::bigint[])
      as d (session_id, messages, input_tokens, output_tokens)
    where sessions.session_id = d.session_id::uuid returning 1),
  drafted as (
    insert into response_drafts (response_id, session_id, text)
    select d.response_id::uuid, d.session_id::uuid, d.text
    from unnest($10::text[], $11::text[], $12::text[]) as d (response_id, session_id, text)
    where exists (select 1 from sessions s where s.session_id = d.session_id::uuid)
    on conflict (response_id) do update set text = excluded.text, updated_at = now() returning 1),
  undrafted as (
    delete from response_drafts where response_id = any($13::text[]::uuid[]) returning 1)
  select 1`;

function batchParams(
  batch: readonly PendingEvent[],
  counters: ReadonlyMap<string, CounterDelta>,
  drafts: ReadonlyMap<string, Draft>,
): unknown[] {
  const params: unknown[][] = Array.from({ length: 13 }, () => []);
  for (const event of batch) {
    params[0]!.push(event.sessionId);
    params[1]!.push(event.seq);
    params[2]!.push(event.eventType);
    params[3]!.push(event.content === null ? null : withoutNul(event.content));
    params[4]!.push(metadataJson(event.metadata));
  }
  for (const [sessionId, delta] of counters) {
    params[5]!.push(sessionId);
    params[6]!.push(delta.messages);
    params[7]!.push(delta.inputTokens);
    params[8]!.push(delta.outputTokens);
  }
  for (const [responseId, draft] of drafts) {
    if (draft.text === null) {
      params[12]!.push(responseId);
    } else {
      params[9]!.push(responseId);
      params[10]!.push(draft.sessionId);
      params[11]!.push(withoutNul(draft.text));
    }
  }
  return params;
}

/**
 * The metadata as jsonb text. A value JSON cannot hold (a BigInt in a tool's result, a cycle)
 * must not fail the batch: a failure on this thread, unlike one in the database, would let the
 * batches sent after it commit first. Such metadata is stored as a note saying why.
 */
function metadataJson(metadata: Record<string, unknown>): string {
  try {
    return JSON.stringify(storable(metadata));
  } catch (error) {
    return JSON.stringify({ unstorable: storable(String(error)) });
  }
}

/** Postgres text and jsonb cannot hold U+0000; it is dropped. */
function withoutNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '') : text;
}

/**
 * A value jsonb accepts: no U+0000 and no lone UTF-16 surrogate (a string cut in the middle of
 * an emoji), in strings or in keys.
 */
function storable(value: unknown): unknown {
  if (typeof value === 'string') return withoutNul(value).toWellFormed();
  if (Array.isArray(value)) return value.map(storable);
  if (typeof value !== 'object' || value === null) return value;
  const clean: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) clean[storable(key) as string] = storable(item);
  return clean;
}

function whole(value: number | undefined): number {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : 0;
}
