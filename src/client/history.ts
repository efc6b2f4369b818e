/**
 * The history API from a client's side (`GET /api/sessions…`): a user's sessions for a list,
 * and a session's stored events turned back into the wire events they were sent as, so one
 * event handler serves live, replayed and stored events alike.
 */
import { z } from 'zod';
import { ServerEvent } from '../protocol/index.ts';

/** What a client reads of a session (the API sends more; unknown fields are dropped). */
export const SessionInfo = z.object({
  session_id: z.string(),
  status: z.enum(['active', 'ended']),
  title: z.string().nullable(),
  summary: z.string().nullable(),
  topics: z.array(z.string()).nullable(),
  summary_status: z.enum(['pending', 'done', 'failed']).nullable(),
  summary_error: z.string().nullable(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  duration_seconds: z.number(),
  message_count: z.number(),
  model: z.string().nullable(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

const SessionPage = z.object({
  sessions: z.array(SessionInfo),
  next_cursor: z.string().nullable(),
});
export type SessionPage = z.infer<typeof SessionPage>;

const StoredEvent = z.object({
  seq: z.number().int(),
  type: z.string().nullable(),
  content: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
});
const EventPage = z.object({
  events: z.array(StoredEvent),
  next_after_seq: z.number().int().nullable(),
});

const ModelInfo = z.object({ provider: z.string(), model: z.string(), demo: z.boolean() });
export type ModelInfo = z.infer<typeof ModelInfo>;

/** An HTTP answer that was not a success; `status` 404 means no such session (for this user). */
export class HistoryError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HistoryError';
    this.status = status;
  }
}

export interface ParleyHistoryOptions {
  /** Server base URL, `http://127.0.0.1:8000`; empty for the page's own origin. */
  url?: string;
  userId: string;
  fetch?: typeof fetch;
}

/** Reads a user's sessions and events over HTTP. */
export class ParleyHistory {
  readonly userId: string;
  readonly #base: string;
  readonly #fetch: typeof fetch;

  constructor({ url = '', userId, fetch: fetchImpl }: ParleyHistoryOptions) {
    this.userId = userId;
    this.#base = url.replace(/^ws/, 'http').replace(/\/$/, '');
    this.#fetch = fetchImpl ?? globalThis.fetch.bind(globalThis);
  }

  /** One page of the user's sessions, newest first. */
  async listSessions({
    limit = 30,
    cursor,
  }: { limit?: number; cursor?: string } = {}): Promise<SessionPage> {
    const query: Record<string, string> = { limit: String(limit) };
    if (cursor !== undefined) query.cursor = cursor;
    return SessionPage.parse(await this.#get('/api/sessions', query));
  }

  async getSession(sessionId: string): Promise<SessionInfo> {
    return SessionInfo.parse(await this.#get(`/api/sessions/${encodeURIComponent(sessionId)}`));
  }

  /**
   * Every stored event of a session after `afterSeq`, as wire events in seq order (all pages).
   * Lifecycle records that were never sent (session start and end) are left out.
   */
  async loadEvents(sessionId: string, { afterSeq = 0 } = {}): Promise<ServerEvent[]> {
    const events: ServerEvent[] = [];
    let cursor: number | null = afterSeq;
    while (cursor !== null) {
      const page = EventPage.parse(
        await this.#get(`/api/sessions/${encodeURIComponent(sessionId)}/events`, {
          after_seq: String(cursor),
          limit: '1000',
        }),
      );
      for (const stored of page.events) {
        const event = toWireEvent(sessionId, stored);
        if (event) events.push(event);
      }
      cursor = page.next_after_seq;
    }
    return events;
  }

  /** The model the server answers with (`GET /ready`); says whether it is the offline demo. */
  async modelInfo(): Promise<ModelInfo> {
    const response = await this.#fetch(`${this.#base}/ready`);
    return ModelInfo.parse(await response.json());
  }

  async #get(path: string, query: Record<string, string> = {}): Promise<unknown> {
    const search = new URLSearchParams({ user_id: this.userId, ...query });
    const response = await this.#fetch(`${this.#base}${path}?${search}`, {
      headers: { accept: 'application/json' },
    });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { detail?: string };
      throw new HistoryError(response.status, problem.detail ?? `HTTP ${response.status}`);
    }
    return response.json();
  }
}

/**
 * A stored event as the wire event it was sent as: its `metadata` holds the event's fields and
 * its `content` the `text`. Undefined for records that were never sent, or do not parse.
 */
export function toWireEvent(
  sessionId: string,
  stored: z.infer<typeof StoredEvent>,
): ServerEvent | undefined {
  if (stored.type === null) return undefined;
  const parsed = ServerEvent.safeParse({
    ...stored.metadata,
    type: stored.type,
    session_id: sessionId,
    seq: stored.seq,
    ...(stored.content !== null ? { text: stored.content } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}
