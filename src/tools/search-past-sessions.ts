import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/connect.ts';
import { defineTool } from './types.ts';

const maxSnippetLength = 200;

const inputSchema = z.object({
  query: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe('Words to look for, web-search style: "quoted phrase", or, -excluded.'),
  limit: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(5)
    .describe('How many sessions to return, best first (1 to 20, default 5).'),
});

export interface PastSessionMatch {
  session_id: string;
  started_at: string;
  title: string | null;
  /** The best matching passage, at most 200 characters. */
  snippet: string;
  /** Postgres ts_rank of the session's best match; higher is better. */
  rank: number;
}

export interface PastSessionSearch {
  query: string;
  results: PastSessionMatch[];
}

// `db.execute` returns the driver's own result (PGlite or node-postgres); both carry `rows`.
const resultRows = z.object({
  rows: z.array(
    z.object({
      session_id: z.string(),
      started_at: z.coerce.date(),
      title: z.string().nullable(),
      snippet: z.string().nullable(),
      rank: z.coerce.number(),
    }),
  ),
});

/**
 * Full-text search over one user's other sessions: their user and assistant messages, and each
 * session's title and summary. One result per session, carrying its best match.
 */
export async function findPastSessions({
  db,
  userId,
  excludeSessionId,
  query,
  limit,
}: {
  db: Database;
  userId: string;
  excludeSessionId: string;
  query: string;
  limit: number;
}): Promise<PastSessionMatch[]> {
  // Inlined at each use, not put in a CTE, so the planner can match the partial GIN index
  // `session_events_search_idx`: same expression, same event types.
  const tsQuery = sql`websearch_to_tsquery('english', ${query})`;
  const messageVector = sql`to_tsvector('english', coalesce(e.content, ''))`;
  // Title words weigh more than summary words, which weigh more than words said in passing.
  const sessionVector = sql`setweight(to_tsvector('english', coalesce(s.title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(s.summary, '')), 'B')`;

  const result = await db.execute(sql`
    with owned as (
      select s.session_id, s.started_at, s.title, s.summary
      from sessions s
      where s.user_id = ${userId} and s.session_id::text <> ${excludeSessionId}
    ),
    matches as (
      select e.session_id, ts_rank(${messageVector}, ${tsQuery}) as rank, e.content as passage
      from session_events e
      join owned o on o.session_id = e.session_id
      where e.event_type in ('user_message', 'assistant_message')
        and ${messageVector} @@ ${tsQuery}
      union all
      select s.session_id, ts_rank(${sessionVector}, ${tsQuery}), coalesce(s.summary, s.title)
      from owned s
      where ${sessionVector} @@ ${tsQuery}
    ),
    best as (
      select distinct on (m.session_id) m.session_id, m.rank, m.passage, o.started_at, o.title
      from matches m
      join owned o on o.session_id = m.session_id
      order by m.session_id, m.rank desc
    ),
    top as (
      select * from best
      order by rank desc, started_at desc, session_id
      limit ${limit}
    )
    select
      t.session_id::text as session_id,
      t.started_at,
      t.title,
      ts_headline('english', coalesce(t.passage, ''), ${tsQuery},
        'StartSel="", StopSel="", MinWords=8, MaxWords=16, MaxFragments=2, FragmentDelimiter=" … "')
        as snippet,
      t.rank
    from top t
    order by t.rank desc, t.started_at desc, t.session_id
  `);

  return resultRows.parse(result).rows.map((row) => ({
    session_id: row.session_id,
    started_at: row.started_at.toISOString(),
    title: row.title,
    snippet: trimSnippet(row.snippet ?? ''),
    rank: Number(row.rank.toFixed(6)),
  }));
}

/** Collapses whitespace and cuts at a word boundary so the snippet fits `maxSnippetLength`. */
export function trimSnippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= maxSnippetLength) return flat;
  const cut = flat.slice(0, maxSnippetLength - 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > maxSnippetLength / 2 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}

/** Lets the model recall what this user talked about in earlier sessions. */
export const searchPastSessions = defineTool({
  name: 'search_past_sessions',
  description:
    "Search the current user's earlier conversations (not this one) by words in their messages, " +
    'titles and summaries. Returns the best matching sessions with a snippet each, best first.',
  inputSchema,
  async execute({ query, limit }, { db, userId, sessionId, signal }): Promise<PastSessionSearch> {
    signal.throwIfAborted();
    const results = await findPastSessions({
      db,
      userId,
      excludeSessionId: sessionId,
      query,
      limit,
    });
    return { query, results };
  },
});
