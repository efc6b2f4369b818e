-- Parley schema v1: sessions and their event log. Plain PostgreSQL (runs unchanged on Supabase,
-- on a self-hosted server and on the embedded PGlite).
CREATE TABLE IF NOT EXISTS sessions (
  session_id uuid PRIMARY KEY,
  user_id text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
  started_at timestamptz NOT NULL DEFAULT now(),
  -- when the session last became active (a reopened session counts its time again from here)
  activated_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  duration_seconds double precision NOT NULL DEFAULT 0,
  -- highest seq handed out to the live session; events never use a seq at or below it again
  seq_reserved integer NOT NULL DEFAULT 0,
  provider text,
  model text,
  message_count integer NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  title text,
  summary text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS sessions_user_started_idx ON sessions (user_id, started_at DESC, session_id DESC);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS session_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  seq integer NOT NULL,
  event_type text NOT NULL,
  content text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT session_events_session_seq_key UNIQUE (session_id, seq)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS session_events_search_idx ON session_events
  USING gin (to_tsvector('english', coalesce(content, '')))
  WHERE event_type IN ('user_message', 'assistant_message');
