import type { ModelMessage } from 'ai';
import type { JSONValue } from '@ai-sdk/provider';

/**
 * What the model remembers of a session: the stored events that matter to it, in seq order.
 * Built from the database when a session opens and appended to as the conversation goes on,
 * through the same `transcriptEntry` conversion, so a restart changes nothing.
 */
export type TranscriptEntry =
  | { kind: 'user'; text: string }
  | { kind: 'assistant'; text: string }
  | { kind: 'tool_call'; callId: string; name: string; input: unknown }
  | { kind: 'tool_result'; callId: string; name: string; result?: unknown; error?: string };

/** A stored event, as written to and read from `session_events`. */
export interface StoredEvent {
  seq: number;
  eventType: string;
  content: string | null;
  metadata: Record<string, unknown>;
}

/** The transcript entry a stored event contributes, if any. */
export function transcriptEntry(event: StoredEvent): TranscriptEntry | undefined {
  const meta = event.metadata;
  switch (event.eventType) {
    case 'user_message':
      return { kind: 'user', text: event.content ?? '' };
    case 'assistant_message':
    case 'response_cancelled':
    case 'response_failed':
    case 'response_interrupted':
      // A cut-off answer is still what the user saw; the model should know it said it.
      return event.content ? { kind: 'assistant', text: event.content } : undefined;
    case 'tool_call':
      return {
        kind: 'tool_call',
        callId: String(meta.call_id),
        name: String(meta.name),
        input: meta.arguments ?? {},
      };
    case 'tool_result': {
      const error = meta.error as { message?: string } | undefined;
      return {
        kind: 'tool_result',
        callId: String(meta.call_id),
        name: String(meta.name),
        ...(error ? { error: error.message ?? 'tool failed' } : { result: meta.result ?? null }),
      };
    }
    default:
      return undefined;
  }
}

/** Rough token estimate (≈ 4 characters a token), cheap enough to run on every turn. */
export function estimateTokens(entry: TranscriptEntry): number {
  const size =
    entry.kind === 'user' || entry.kind === 'assistant'
      ? entry.text.length
      : JSON.stringify(entry).length;
  return Math.ceil(size / 4) + 4;
}

/**
 * The messages to send with the next request: the newest whole turns (a user message and what
 * followed it) that fit in `budgetTokens`. The newest turn is always kept. Tool calls without
 * results (a crash mid-tool) and results without calls are dropped, since providers reject them.
 */
export function buildModelMessages(
  entries: readonly TranscriptEntry[],
  budgetTokens: number,
): ModelMessage[] {
  const turns: TranscriptEntry[][] = [];
  for (const entry of entries) {
    if (entry.kind === 'user' || turns.length === 0) turns.push([]);
    turns.at(-1)!.push(entry);
  }
  const kept: TranscriptEntry[][] = [];
  let used = 0;
  for (let index = turns.length - 1; index >= 0; index -= 1) {
    const turn = turns[index]!;
    const cost = turn.reduce((sum, entry) => sum + estimateTokens(entry), 0);
    if (kept.length > 0 && used + cost > budgetTokens) break;
    kept.unshift(turn);
    used += cost;
  }
  const flat = kept.flat();
  // A conversation sent to a model must start with a user message.
  while (flat.length > 0 && flat[0]!.kind !== 'user') flat.shift();
  return toModelMessages(flat);
}

function toModelMessages(entries: readonly TranscriptEntry[]): ModelMessage[] {
  const answered = new Set(
    entries.filter((entry) => entry.kind === 'tool_result').map((entry) => entry.callId),
  );
  const called = new Set(
    entries.filter((entry) => entry.kind === 'tool_call').map((entry) => entry.callId),
  );
  const messages: ModelMessage[] = [];
  for (const entry of entries) {
    const last = messages.at(-1);
    switch (entry.kind) {
      case 'user':
        messages.push({ role: 'user', content: entry.text });
        break;
      case 'assistant':
        messages.push({ role: 'assistant', content: entry.text });
        break;
      case 'tool_call': {
        if (!answered.has(entry.callId)) break;
        const part = {
          type: 'tool-call' as const,
          toolCallId: entry.callId,
          toolName: entry.name,
          input: entry.input,
        };
        if (last?.role === 'assistant' && Array.isArray(last.content)) last.content.push(part);
        else messages.push({ role: 'assistant', content: [part] });
        break;
      }
      case 'tool_result': {
        if (!called.has(entry.callId)) break;
        const part = {
          type: 'tool-result' as const,
          toolCallId: entry.callId,
          toolName: entry.name,
          output:
            entry.error !== undefined
              ? { type: 'error-text' as const, value: entry.error }
              : { type: 'json' as const, value: (entry.result ?? null) as JSONValue },
        };
        if (last?.role === 'tool') last.content.push(part);
        else messages.push({ role: 'tool', content: [part] });
        break;
      }
    }
  }
  return messages;
}

/**
 * A session's transcript in answer order. A user message that arrived while another response
 * was streaming is stored (and numbered) when it arrives, but belongs in the conversation where
 * its own response starts; this keeps both the live and the reloaded order the same.
 */
export class Transcript {
  #entries: TranscriptEntry[] = [];
  #waiting: { seq: number; messageId: string; entry: TranscriptEntry }[] = [];

  constructor(events: Iterable<StoredEvent> = []) {
    for (const event of events) this.add(event);
  }

  add(event: StoredEvent): void {
    if (event.eventType === 'user_message') {
      const entry = transcriptEntry(event);
      if (entry) {
        this.#waiting.push({ seq: event.seq, messageId: String(event.metadata.message_id), entry });
      }
      return;
    }
    if (event.eventType === 'response_started') {
      const answered = this.#waiting.find((item) => item.messageId === event.metadata.message_id);
      const upTo = answered?.seq ?? -1;
      // The answered message joins the conversation, with any older one left unanswered.
      for (const item of this.#waiting.filter((candidate) => candidate.seq <= upTo)) {
        this.#entries.push(item.entry);
      }
      this.#waiting = this.#waiting.filter((candidate) => candidate.seq > upTo);
      return;
    }
    const entry = transcriptEntry(event);
    if (entry) this.#entries.push(entry);
  }

  /** Entries the model should see for the response that has just started. */
  get entries(): readonly TranscriptEntry[] {
    return this.#entries;
  }

  /** User messages accepted but not yet answered, oldest first. */
  get unanswered(): { messageId: string; text: string }[] {
    return this.#waiting.map((item) => ({
      messageId: item.messageId,
      text: item.entry.kind === 'user' ? item.entry.text : '',
    }));
  }
}
