/**
 * The durability check run after every load run: every user message and completed assistant
 * message a client saw is stored, at the seq it was seen with, with the same text, in the same
 * order, and nothing of them is stored twice. It reads the database directly, after the server
 * was killed (SIGKILL: what a client saw must already have been committed).
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { SessionTranscript } from './load.ts';

export interface DurabilityResult {
  passed: boolean;
  sessions: number;
  events_seen: number;
  events_found: number;
  missing: number;
  duplicated: number;
  out_of_order: number;
  /** A few examples of what went wrong, for the report. */
  problems: string[];
}

interface Row {
  session_id: string;
  seq: number;
  event_type: string;
  content: string | null;
}

const storedTypeOf = {
  'message.created': 'user_message',
  'response.completed': 'assistant_message',
} as const;

export async function checkDurability({
  transcripts,
  pgliteDir,
  databaseUrl,
}: {
  transcripts: SessionTranscript[];
  pgliteDir?: string;
  databaseUrl?: string;
}): Promise<DurabilityResult> {
  const query = await openDatabase({ pgliteDir, databaseUrl });
  const rowsBySession = new Map<string, Row[]>();
  try {
    const ids = transcripts.map((transcript) => transcript.sessionId);
    for (let start = 0; start < ids.length; start += 500) {
      const rows = await query(
        `select session_id::text as session_id, seq, event_type, content from session_events
         where session_id = any($1::uuid[]) and event_type in ('user_message', 'assistant_message')
         order by session_id, seq`,
        [ids.slice(start, start + 500)],
      );
      for (const row of rows) {
        let list = rowsBySession.get(row.session_id);
        if (!list) rowsBySession.set(row.session_id, (list = []));
        list.push(row);
      }
    }
  } finally {
    await query.close();
  }

  const result: DurabilityResult = {
    passed: true,
    sessions: transcripts.length,
    events_seen: 0,
    events_found: 0,
    missing: 0,
    duplicated: 0,
    out_of_order: 0,
    problems: [],
  };
  const problem = (text: string) => {
    if (result.problems.length < 10) result.problems.push(text);
  };
  for (const transcript of transcripts) {
    const rows = rowsBySession.get(transcript.sessionId) ?? [];
    const bySeq = new Map(rows.map((row) => [row.seq, row]));
    let previousSeq = 0;
    for (const event of transcript.events) {
      result.events_seen += 1;
      if (event.seq <= previousSeq) {
        result.out_of_order += 1;
        problem(`${transcript.sessionId}: seq ${event.seq} seen after ${previousSeq}`);
      }
      previousSeq = event.seq;
      const row = bySeq.get(event.seq);
      if (!row || row.event_type !== storedTypeOf[event.type] || row.content !== event.text) {
        result.missing += 1;
        problem(`${transcript.sessionId}: ${event.type} seq ${event.seq} not stored as seen`);
      } else {
        result.events_found += 1;
      }
    }
    // Each session saw everything of its own; a stored row it did not see is a duplicate
    // (only messages and completed replies are counted here, and clients saw all of those).
    const seenSeqs = new Set(transcript.events.map((event) => event.seq));
    const extra = rows.filter((row) => !seenSeqs.has(row.seq));
    if (extra.length > 0) {
      result.duplicated += extra.length;
      problem(
        `${transcript.sessionId}: ${extra.length} stored message(s) no client saw (seq ${extra.map((row) => row.seq).join(', ')})`,
      );
    }
  }
  result.passed = result.missing === 0 && result.duplicated === 0 && result.out_of_order === 0;
  return result;
}

type Query = ((text: string, params: unknown[]) => Promise<Row[]>) & { close(): Promise<void> };

async function openDatabase({
  pgliteDir,
  databaseUrl,
}: {
  pgliteDir?: string;
  databaseUrl?: string;
}): Promise<Query> {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return Object.assign(
      async (text: string, params: unknown[]) => (await client.query<Row>(text, params)).rows,
      {
        close: () => client.end(),
      },
    );
  }
  if (!pgliteDir) throw new Error('checkDurability needs pgliteDir or databaseUrl');
  const db = await PGlite.create(pgliteDir);
  return Object.assign(
    async (text: string, params: unknown[]) => (await db.query<Row>(text, params)).rows,
    {
      close: () => db.close(),
    },
  );
}
