/**
 * The history API: a user's past (and live) sessions and their stored events.
 *
 * Every route requires `user_id` and only ever shows that user's sessions; another user's
 * session answers 404 exactly like one that does not exist.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/connect.ts';
import { AppError } from '../errors.ts';
import type { SummaryQueue } from '../jobs/types.ts';
import {
  storedEventTypes,
  UserId as ProtocolUserId,
  type ServerEventType,
} from '../protocol/index.ts';
import { problemResponses } from './problem.ts';
import { CursorParameter } from './session-cursor.ts';
import {
  deleteSession,
  findSession,
  listEvents,
  listSessions,
  sessionExists,
} from './session-queries.ts';

export interface SessionsRoutesOptions {
  db: Database;
  summaries: SummaryQueue;
  /** Called after a session was deleted, so a live copy of it stops and lets its sockets go. */
  onSessionDeleted(sessionId: string): void;
}

// ---------------------------------------------------------------- inputs

/** The same rule as the WebSocket's `user_id`. */
const UserId = ProtocolUserId.describe(
  'Whose sessions to show; the same value the WebSocket was opened with',
);

function boundedInteger({
  name,
  min,
  max,
  fallback,
}: {
  name: string;
  min: number;
  max: number;
  fallback: number;
}) {
  const message = `${name} must be an integer from ${min} to ${max}`;
  return z.coerce
    .number({ error: message })
    .int(message)
    .min(min, message)
    .max(max, message)
    .default(fallback);
}

const UserQuery = z.object({ user_id: UserId });
const SessionParams = z.object({ id: z.uuid('id must be a UUID').describe('The session id') });

const ListQuery = z.object({
  user_id: UserId,
  limit: boundedInteger({ name: 'limit', min: 1, max: 100, fallback: 20 }).describe('Page size'),
  cursor: CursorParameter.optional(),
});

const EventsQuery = z.object({
  user_id: UserId,
  after_seq: boundedInteger({
    name: 'after_seq',
    min: 0,
    max: 2_147_483_647,
    fallback: 0,
  }).describe('Only events with a greater seq (the `next_after_seq` of the previous page)'),
  limit: boundedInteger({ name: 'limit', min: 1, max: 1000, fallback: 100 }).describe('Page size'),
});

// ---------------------------------------------------------------- outputs

const Timestamp = z.iso.datetime();

const Session = z
  .object({
    session_id: z.guid(),
    user_id: z.string(),
    status: z.enum(['active', 'ended']),
    title: z.string().nullable(),
    summary: z.string().nullable(),
    topics: z.array(z.string()).nullable(),
    tools_used: z.array(z.string()).nullable(),
    summary_status: z.enum(['pending', 'done', 'failed']).nullable(),
    summary_error: z.string().nullable(),
    summary_attempts: z.number().int(),
    summary_model: z.string().nullable(),
    summarized_at: Timestamp.nullable(),
    started_at: Timestamp,
    ended_at: Timestamp.nullable(),
    duration_seconds: z
      .number()
      .describe('Time spent active; counts up while the session is active'),
    message_count: z.number().int(),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    provider: z.string().nullable(),
    model: z.string().nullable(),
  })
  .describe('A session');

const wireEventTypes = [...Object.keys(storedEventTypes), 'response.snapshot'] as unknown as [
  ServerEventType,
  ...ServerEventType[],
];

const SessionEvent = z
  .object({
    seq: z.number().int(),
    event_type: z
      .string()
      .describe('The stored type: user_message, assistant_message, tool_call, …'),
    type: z
      .enum(wireEventTypes)
      .nullable()
      .describe('The WebSocket event it was sent as; null for session_started and session_ended'),
    content: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
  })
  .describe('A stored event');

const SessionPage = z
  .object({
    sessions: z.array(Session),
    next_cursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` for the next page; null on the last'),
  })
  .describe('A page of sessions');

const EventPage = z
  .object({
    events: z.array(SessionEvent),
    next_after_seq: z
      .number()
      .int()
      .nullable()
      .describe('Pass as `after_seq` for the next page; null on the last'),
  })
  .describe('A page of stored events');

const SummaryRequested = z
  .object({
    session_id: z.guid(),
    summary_status: z.literal('pending'),
    job_id: z.string().nullable(),
  })
  .describe('The summary is queued');

// ---------------------------------------------------------------- routes

function sessionNotFound(): AppError {
  return new AppError('not_found', { status: 404, message: 'No such session.' });
}

const tags = ['sessions'];

/** `GET/DELETE /api/sessions…` and `POST /api/sessions/:id/summarize`. */
export function sessionsRoutes(
  app: FastifyInstance,
  { db, summaries, onSessionDeleted }: SessionsRoutesOptions,
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/sessions',
    {
      schema: {
        tags,
        operationId: 'listSessions',
        summary: "List a user's sessions, newest first",
        querystring: ListQuery,
        response: { 200: SessionPage, ...problemResponses(400) },
      },
    },
    async function listUserSessions(request) {
      const { user_id: userId, limit, cursor } = request.query;
      const page = await listSessions(db, { userId, limit, cursor });
      return { sessions: page.sessions, next_cursor: page.nextCursor };
    },
  );

  api.get(
    '/api/sessions/:id',
    {
      schema: {
        tags,
        operationId: 'getSession',
        summary: 'Get one session',
        params: SessionParams,
        querystring: UserQuery,
        response: { 200: Session, ...problemResponses(400, 404) },
      },
    },
    async function getSession(request) {
      const session = await findSession(db, {
        sessionId: request.params.id,
        userId: request.query.user_id,
      });
      if (session === undefined) throw sessionNotFound();
      return session;
    },
  );

  api.get(
    '/api/sessions/:id/events',
    {
      schema: {
        tags,
        operationId: 'listSessionEvents',
        summary: "A session's stored events, in seq order",
        params: SessionParams,
        querystring: EventsQuery,
        response: { 200: EventPage, ...problemResponses(400, 404) },
      },
    },
    async function listSessionEvents(request) {
      const { user_id: userId, after_seq: afterSeq, limit } = request.query;
      const sessionId = request.params.id;
      if (!(await sessionExists(db, { sessionId, userId }))) throw sessionNotFound();
      const page = await listEvents(db, { sessionId, afterSeq, limit });
      return { events: page.events, next_after_seq: page.nextAfterSeq };
    },
  );

  api.delete(
    '/api/sessions/:id',
    {
      schema: {
        tags,
        operationId: 'deleteSession',
        summary: 'Delete a session and its events',
        params: SessionParams,
        querystring: UserQuery,
        response: { 204: z.undefined().describe('Deleted'), ...problemResponses(400, 404) },
      },
    },
    async function deleteUserSession(request, reply) {
      const sessionId = request.params.id;
      if (!(await deleteSession(db, { sessionId, userId: request.query.user_id }))) {
        throw sessionNotFound();
      }
      onSessionDeleted(sessionId);
      try {
        await summaries.cancelSummary(sessionId);
      } catch (error) {
        // The session is gone either way; a summary job that still runs finds nothing to do.
        request.log.error(
          { err: error, sessionId },
          'could not cancel the summary of a deleted session',
        );
      }
      return reply.code(204).send();
    },
  );

  api.post(
    '/api/sessions/:id/summarize',
    {
      schema: {
        tags,
        operationId: 'summarizeSession',
        summary: 'Summarize an ended session (again)',
        params: SessionParams,
        querystring: UserQuery,
        response: { 202: SummaryRequested, ...problemResponses(400, 404, 409) },
      },
    },
    async function summarizeSession(request, reply) {
      const sessionId = request.params.id;
      const session = await findSession(db, { sessionId, userId: request.query.user_id });
      if (session === undefined) throw sessionNotFound();
      if (session.status === 'active') {
        throw new AppError('session_active', {
          status: 409,
          message: 'The session is still active; it is summarized when it ends.',
        });
      }
      const { jobId } = await summaries.requestSummary(sessionId);
      return reply
        .code(202)
        .send({ session_id: sessionId, summary_status: 'pending', job_id: jobId });
    },
  );
}
