/**
 * Parley wire protocol, version 1: the one definition of every frame a client and the server
 * exchange over `GET /ws/session/:sessionId`. Server, tests, web UI and benchmark import it.
 *
 * Glossary
 * - session: one conversation of one user, identified by a UUID. It lives in the `sessions`
 *   table and may be reopened later; while a socket is attached it is *active*.
 * - event: one server → client frame. Every event carries `type`, `session_id` and `seq`.
 * - seq: per-session integer that grows by one with each session event and is never reused, not
 *   even across a crash (seq numbers are reserved ahead in the database in blocks). Events meant
 *   for one socket only (session.ready, error, pong, response.snapshot, session.summary) take no
 *   number of their own: they carry the seq of the last session event that socket was sent, so
 *   the seq a client sees never decreases and is always a valid resume point.
 * - response: one answer of the model to one user message; it may span several model steps
 *   (tool calls, then text). Identified by `response_id`.
 * - tool call: the model asking the server to run one of Parley's tools; answered by a tool result.
 * - summary: what the model writes about a session once it has ended (stored on the session row).
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** Close codes Parley uses besides the standard ones (1000, 1001, 1009, 1011). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  messageTooBig: 1009,
  internalError: 1011,
  badRequest: 4400,
  forbidden: 4403,
  /** The session was deleted (through the HTTP API) while the socket was open. */
  sessionDeleted: 4410,
  rateLimited: 4429,
  /** The client read too slowly and fell too far behind. */
  slowConsumer: 4408,
} as const;

/** Stable error codes carried by `error` events and `response.failed`. */
export const ErrorCode = {
  invalidJson: 'invalid_json',
  invalidFrame: 'invalid_frame',
  unknownType: 'unknown_type',
  emptyMessage: 'empty_message',
  messageTooLarge: 'message_too_large',
  binaryNotSupported: 'binary_not_supported',
  rateLimited: 'rate_limited',
  queueFull: 'queue_full',
  nothingToCancel: 'nothing_to_cancel',
  resumeNotFirst: 'resume_not_first',
  sessionEnding: 'session_ending',
  slowConsumer: 'slow_consumer',
  upstreamRateLimited: 'upstream_rate_limited',
  upstreamError: 'upstream_error',
  upstreamUnavailable: 'upstream_unavailable',
  upstreamTimeout: 'upstream_timeout',
  /** In a `tool.result`: the tool failed, timed out, or the model gave it bad input. */
  toolError: 'tool_error',
  internalError: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

// ---------------------------------------------------------------- client → server

export const UserMessageFrame = z.object({
  type: z.literal('user.message'),
  text: z.string(),
});
export const ResponseCancelFrame = z.object({ type: z.literal('response.cancel') });
export const PingFrame = z.object({ type: z.literal('ping') });
/** As the first frame: send me every session event after `after_seq`, then continue live. */
export const SessionResumeFrame = z.object({
  type: z.literal('session.resume'),
  after_seq: z.number().int().nonnegative(),
});

export const ClientFrame = z.discriminatedUnion('type', [
  UserMessageFrame,
  ResponseCancelFrame,
  PingFrame,
  SessionResumeFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export const clientFrameTypes = ClientFrame.options.map((option) => option.shape.type.value);

// ---------------------------------------------------------------- server → client

const envelope = {
  session_id: z.string(),
  seq: z.number().int().nonnegative(),
};

export const Usage = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof Usage>;

export const ErrorBody = z.object({ code: z.string(), message: z.string() });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const SessionReadyEvent = z.object({
  type: z.literal('session.ready'),
  ...envelope,
  protocol: z.literal(PROTOCOL_VERSION),
  user_id: z.string(),
  resumed: z.boolean(),
  model: z.string(),
  provider: z.string(),
  demo: z.boolean(),
  /** The newest session event the server has sent (to any socket); 0 before the first. */
  last_seq: z.number().int().nonnegative(),
  /** A response is streaming right now (its deltas follow live). */
  response_in_flight: z.boolean(),
});
export const MessageCreatedEvent = z.object({
  type: z.literal('message.created'),
  ...envelope,
  message_id: z.string(),
  role: z.literal('user'),
  text: z.string(),
  /** True when the message waits behind a response that is still streaming. */
  queued: z.boolean(),
});
export const ResponseStartedEvent = z.object({
  type: z.literal('response.started'),
  ...envelope,
  response_id: z.string(),
  message_id: z.string(),
});
export const ResponseTextDeltaEvent = z.object({
  type: z.literal('response.text.delta'),
  ...envelope,
  response_id: z.string(),
  delta: z.string(),
});
export const ToolCallEvent = z.object({
  type: z.literal('tool.call'),
  ...envelope,
  response_id: z.string(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.unknown(),
});
export const ToolResultEvent = z.object({
  type: z.literal('tool.result'),
  ...envelope,
  response_id: z.string(),
  call_id: z.string(),
  name: z.string(),
  result: z.unknown().optional(),
  error: ErrorBody.optional(),
  duration_ms: z.number().nonnegative(),
});
export const ResponseCompletedEvent = z.object({
  type: z.literal('response.completed'),
  ...envelope,
  response_id: z.string(),
  text: z.string(),
  finish_reason: z.string(),
  usage: Usage,
});
export const ResponseCancelledEvent = z.object({
  type: z.literal('response.cancelled'),
  ...envelope,
  response_id: z.string(),
  text: z.string(),
  reason: z.enum(['client', 'session_ended', 'shutdown']),
});
export const ResponseFailedEvent = z.object({
  type: z.literal('response.failed'),
  ...envelope,
  response_id: z.string(),
  text: z.string(),
  error: ErrorBody,
});
/**
 * The whole text of a response as of this point, sent on resume instead of deltas that can no
 * longer be replayed exactly. A client replaces the response's text with `text`; later deltas
 * of a `streaming` response append to it.
 */
export const ResponseSnapshotEvent = z.object({
  type: z.literal('response.snapshot'),
  ...envelope,
  response_id: z.string(),
  text: z.string(),
  status: z.enum(['streaming', 'completed', 'cancelled', 'failed', 'interrupted']),
});
export const ErrorEvent = z.object({
  type: z.literal('error'),
  ...envelope,
  code: z.string(),
  message: z.string(),
});
export const PongEvent = z.object({ type: z.literal('pong'), ...envelope });

/** Events sent to one socket only; they carry that socket's position instead of a new seq. */
export const connectionEventTypes = new Set<string>([
  'session.ready',
  'error',
  'pong',
  'response.snapshot',
  'session.summary',
]);
/**
 * A session of this user has been summarized (or its summary failed). Sent to every live
 * socket of the user, e.g. another tab, with that socket's own session_id and seq.
 */
export const SessionSummaryEvent = z.object({
  type: z.literal('session.summary'),
  ...envelope,
  summarized_session_id: z.string(),
  summary_status: z.enum(['done', 'failed']),
  title: z.string().nullable(),
  summary: z.string().nullable(),
  topics: z.array(z.string()),
  tools_used: z.array(z.string()),
  error: z.string().nullable(),
});

export const ServerEvent = z.discriminatedUnion('type', [
  SessionReadyEvent,
  MessageCreatedEvent,
  ResponseStartedEvent,
  ResponseTextDeltaEvent,
  ToolCallEvent,
  ToolResultEvent,
  ResponseCompletedEvent,
  ResponseCancelledEvent,
  ResponseFailedEvent,
  ResponseSnapshotEvent,
  ErrorEvent,
  PongEvent,
  SessionSummaryEvent,
]);
export type ServerEvent = z.infer<typeof ServerEvent>;
export type ServerEventType = ServerEvent['type'];
export type ServerEventOf<T extends ServerEventType> = Extract<ServerEvent, { type: T }>;

/** An event before the session stamps it with `session_id` and `seq`. */
export type EventBody = ServerEvent extends infer E
  ? E extends ServerEvent
    ? Omit<E, 'session_id' | 'seq'>
    : never
  : never;

/**
 * Which sent events are stored in `session_events`, and under which `event_type`.
 * Token deltas, pongs and protocol errors are not stored: the assistant's text is stored whole
 * with the event that ends its response.
 */
export const storedEventTypes = {
  'message.created': 'user_message',
  'response.started': 'response_started',
  'tool.call': 'tool_call',
  'tool.result': 'tool_result',
  'response.completed': 'assistant_message',
  'response.cancelled': 'response_cancelled',
  'response.failed': 'response_failed',
} as const satisfies Partial<Record<ServerEventType, string>>;
const wireTypeByStoredType = new Map<string, ServerEventType>(
  Object.entries(storedEventTypes).map(([wire, stored]) => [stored, wire as ServerEventType]),
);
wireTypeByStoredType.set('response_interrupted', 'response.snapshot');

/** The wire event a stored event was sent as (undefined for lifecycle records never sent). */
export function wireTypeOf(storedType: string): ServerEventType | undefined {
  return wireTypeByStoredType.get(storedType);
}

/** Who a session belongs to, until authentication arrives: the same rule everywhere. */
export const UserId = z
  .string({ error: 'user_id is required' })
  .regex(/^[A-Za-z0-9_.@:-]{1,128}$/, 'user_id must be 1-128 characters of A-Z a-z 0-9 _ . @ : -');

export type StoredEventType =
  | (typeof storedEventTypes)[keyof typeof storedEventTypes]
  | 'response_interrupted'
  | 'session_started'
  | 'session_ended';
