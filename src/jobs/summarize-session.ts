import { generateText, Output } from 'ai';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ChatModel } from '../chat/models.ts';
import type { Database } from '../db/connect.ts';
import { sessionEvents, sessions } from '../db/schema.ts';
import { errorMessage } from '../errors.ts';

/** What the model is asked to return for a session. */
export const SessionSummary = z.object({
  summary: z
    .string()
    .describe('A few sentences on what the conversation was about and its outcome.'),
  title: z.string().describe('A title of at most 8 words.'),
  topics: z.array(z.string()).describe('A short list of topics (1-3 words each).'),
  tools_used: z.array(z.string()).describe('Names of the tools that were called, if any.'),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

export const emptySessionSummary = 'No messages were exchanged in this session.';

const instructions = [
  "You summarize a conversation between a user and an AI assistant for the user's history list.",
  'Reply with JSON only, an object with the keys "summary" (a few sentences), "title" (at most 8',
  'words), "topics" (a short list of short topics) and "tools_used" (tool names that were called).',
  'Describe what happened; do not invent anything that is not in the transcript.',
].join(' ');

/** How far a summary got, for the job's caller. */
export type SummarizeOutcome =
  | { status: 'done'; userId: string; summary: SessionSummary }
  | { status: 'skipped'; reason: 'missing' | 'active' };

export interface SummarizeOptions {
  db: Database;
  chatModel: ChatModel;
  sessionId: string;
  /** Estimated-token budget of the transcript sent to the model. */
  inputTokens: number;
  /** 1 for the first try. */
  attempt: number;
  signal: AbortSignal;
}

/**
 * Summarizes one ended session and stores the result on its row. Running it twice writes the
 * same row twice, nothing more. An empty session gets its summary without a model call.
 */
export async function summarizeSession(options: SummarizeOptions): Promise<SummarizeOutcome> {
  const { db, chatModel, sessionId } = options;
  const [session] = await db
    .select({ userId: sessions.userId, status: sessions.status })
    .from(sessions)
    .where(eq(sessions.sessionId, sessionId));
  if (!session) return { status: 'skipped', reason: 'missing' };
  // Reopened meanwhile: it is summarized again when it ends.
  if (session.status === 'active') return { status: 'skipped', reason: 'active' };

  const events = await db
    .select({
      eventType: sessionEvents.eventType,
      // Long messages are cut in SQL: the transcript is trimmed anyway and this keeps memory flat.
      content: sql<string | null>`left(${sessionEvents.content}, 4000)`,
      name: sql<string | null>`${sessionEvents.metadata} ->> 'name'`,
    })
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        inArray(sessionEvents.eventType, [
          'user_message',
          'assistant_message',
          'response_cancelled',
          'response_failed',
          'response_interrupted',
          'tool_call',
        ]),
      ),
    )
    .orderBy(asc(sessionEvents.seq));

  const toolsUsed = [
    ...new Set(events.filter((e) => e.eventType === 'tool_call').map((e) => e.name ?? '?')),
  ];
  let summary: SessionSummary;
  let model: string | null = chatModel.modelId;
  if (!events.some((event) => event.eventType === 'user_message')) {
    summary = { summary: emptySessionSummary, title: 'Empty session', topics: [], tools_used: [] };
    model = null;
  } else {
    const lines = events.map((event) => {
      switch (event.eventType) {
        case 'user_message':
          return `user: ${event.content ?? ''}`;
        case 'tool_call':
          return `tool_call: ${event.name ?? '?'}`;
        case 'response_cancelled':
          return `assistant (cut off by the user): ${event.content ?? ''}`;
        case 'response_failed':
          return `assistant (failed): ${event.content ?? ''}`;
        case 'response_interrupted':
          return `assistant (interrupted by a server restart): ${event.content ?? ''}`;
        default:
          return `assistant: ${event.content ?? ''}`;
      }
    });
    const result = await generateText({
      model: chatModel.model,
      instructions,
      prompt: `Transcript:\n${trimTranscript(lines, options.inputTokens).join('\n')}`,
      output: Output.object({ schema: SessionSummary }),
      // The job queue retries with backoff; retrying here too would multiply the attempts.
      maxRetries: 0,
      abortSignal: options.signal,
    });
    summary = result.output;
  }
  // What was called is a fact of the log, not something to ask the model.
  summary = { ...summary, title: clampWords(summary.title, 8), tools_used: toolsUsed };

  await db
    .update(sessions)
    .set({
      summary: summary.summary,
      title: summary.title,
      topics: summary.topics,
      toolsUsed: summary.tools_used,
      summaryStatus: 'done',
      summaryError: null,
      summaryAttempts: options.attempt,
      summaryModel: model,
      summarizedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(sessions.sessionId, sessionId));
  return { status: 'done', userId: session.userId, summary };
}

/** Records a failed attempt; on the last one the session's summary is marked failed. */
export async function recordSummaryFailure({
  db,
  sessionId,
  attempt,
  final,
  error,
}: {
  db: Database;
  sessionId: string;
  attempt: number;
  final: boolean;
  error: unknown;
}): Promise<{ userId: string } | undefined> {
  const rows = await db
    .update(sessions)
    .set({
      summaryAttempts: attempt,
      summaryError: errorMessage(error).slice(0, 1_000),
      ...(final ? { summaryStatus: 'failed' as const } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(sessions.sessionId, sessionId))
    .returning({ userId: sessions.userId });
  return rows[0];
}

/**
 * Keeps the transcript within budget: the opening of the conversation and as much of its end as
 * fits, with a marker where lines were left out.
 */
export function trimTranscript(lines: string[], budgetTokens: number): string[] {
  const cost = (line: string) => Math.ceil(line.length / 4) + 1;
  const total = lines.reduce((sum, line) => sum + cost(line), 0);
  if (total <= budgetTokens) return lines;
  const head: string[] = [];
  let used = 0;
  for (const line of lines.slice(0, 4)) {
    const clipped = line.length > 2_000 ? `${line.slice(0, 2_000)}…` : line;
    if (used + cost(clipped) > budgetTokens / 4) break;
    head.push(clipped);
    used += cost(clipped);
  }
  const tail: string[] = [];
  for (let index = lines.length - 1; index >= head.length; index -= 1) {
    const line = lines[index]!;
    if (used + cost(line) > budgetTokens) break;
    tail.unshift(line);
    used += cost(line);
  }
  const omitted = lines.length - head.length - tail.length;
  return omitted > 0 ? [...head, `[… ${omitted} lines omitted …]`, ...tail] : [...head, ...tail];
}

function clampWords(text: string, max: number): string {
  const words = text.trim().split(/\s+/);
  return words.length <= max ? text.trim() : words.slice(0, max).join(' ');
}
