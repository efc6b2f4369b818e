/**
 * Drizzle mirror of the SQL in `migrations/`. The SQL files are the source of truth (they are
 * what a Supabase project applies); this file must describe the same tables.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';

export const sessions = pgTable('sessions', {
  sessionId: uuid('session_id').primaryKey(),
  userId: text('user_id').notNull(),
  status: text('status', { enum: ['active', 'ended'] })
    .notNull()
    .default('active'),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  activatedAt: timestamp('activated_at', { withTimezone: true }).notNull().defaultNow(),
  endedAt: timestamp('ended_at', { withTimezone: true }),
  durationSeconds: doublePrecision('duration_seconds').notNull().default(0),
  seqReserved: integer('seq_reserved').notNull().default(0),
  provider: text('provider'),
  model: text('model'),
  messageCount: integer('message_count').notNull().default(0),
  inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
  outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
  title: text('title'),
  summary: text('summary'),
  metadata: jsonb('metadata')
    .$type<Record<string, unknown>>()
    .notNull()
    .default(sql`'{}'::jsonb`),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  topics: jsonb('topics').$type<string[]>(),
  toolsUsed: jsonb('tools_used').$type<string[]>(),
  summaryStatus: text('summary_status', { enum: ['pending', 'done', 'failed'] }),
  summaryError: text('summary_error'),
  summaryAttempts: integer('summary_attempts').notNull().default(0),
  summaryModel: text('summary_model'),
  summarizedAt: timestamp('summarized_at', { withTimezone: true }),
  summaryJobId: text('summary_job_id'),
  instanceId: uuid('instance_id'),
});

export const instances = pgTable('instances', {
  instanceId: uuid('instance_id').primaryKey(),
  hostname: text('hostname').notNull(),
  pid: integer('pid').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
});

export const sessionEvents = pgTable(
  'session_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.sessionId, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    eventType: text('event_type').notNull(),
    content: text('content'),
    metadata: jsonb('metadata')
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [unique('session_events_session_seq_key').on(table.sessionId, table.seq)],
);

/** The columns that make a stored event (`StoredEvent`), for selects that read the log. */
export const storedEventColumns = {
  seq: sessionEvents.seq,
  eventType: sessionEvents.eventType,
  content: sessionEvents.content,
  metadata: sessionEvents.metadata,
};

export type SessionRow = typeof sessions.$inferSelect;
export type SessionEventRow = typeof sessionEvents.$inferSelect;
export type NewSessionEvent = typeof sessionEvents.$inferInsert;

export const responseDrafts = pgTable('response_drafts', {
  responseId: uuid('response_id').primaryKey(),
  sessionId: uuid('session_id')
    .notNull()
    .references(() => sessions.sessionId, { onDelete: 'cascade' }),
  text: text('text').notNull().default(''),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
