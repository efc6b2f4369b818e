-- Durable summaries and crash recovery.
ALTER TABLE sessions
  ADD COLUMN IF NOT EXISTS topics jsonb,
  ADD COLUMN IF NOT EXISTS tools_used jsonb,
  ADD COLUMN IF NOT EXISTS summary_status text CHECK (summary_status IN ('pending', 'done', 'failed')),
  ADD COLUMN IF NOT EXISTS summary_error text,
  ADD COLUMN IF NOT EXISTS summary_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS summary_model text,
  ADD COLUMN IF NOT EXISTS summarized_at timestamptz,
  ADD COLUMN IF NOT EXISTS summary_job_id text,
  -- the server process that holds the session open while it is active
  ADD COLUMN IF NOT EXISTS instance_id uuid;
--> statement-breakpoint
-- One row per running server process; a process whose heartbeat is older than the lease is dead,
-- and the sessions it held open are ended and summarized by whoever notices.
CREATE TABLE IF NOT EXISTS instances (
  instance_id uuid PRIMARY KEY,
  hostname text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS sessions_active_instance_idx ON sessions (instance_id) WHERE status = 'active';
