-- The text of responses still streaming, written about once a second, so that a response cut off
-- by a crash is kept as 'interrupted' with what had been said. A row lives only while its
-- response streams.
CREATE TABLE IF NOT EXISTS response_drafts (
  response_id uuid PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  text text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS response_drafts_session_idx ON response_drafts (session_id);
