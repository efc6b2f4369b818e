import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../db/connect.ts';
import { sessionEvents, sessions, type NewSessionEvent } from '../db/schema.ts';
import { searchPastSessions, trimSnippet, type PastSessionSearch } from './search-past-sessions.ts';
import type { ToolContext } from './types.ts';

const ids = {
  /** Alice talks about Lisbon in passing. */
  aliceTravel: '00000000-0000-4000-8000-0000000000a1',
  /** Alice's session that is all about Lisbon: title and summary too. */
  aliceLisbon: '00000000-0000-4000-8000-0000000000a2',
  /** Alice's bread session: no Lisbon at all. */
  aliceBread: '00000000-0000-4000-8000-0000000000a3',
  /** Alice's live session, which mentions Lisbon and must never come back. */
  aliceCurrent: '00000000-0000-4000-8000-0000000000a4',
  /** Bob's session about Lisbon, which Alice must never see. */
  bobLisbon: '00000000-0000-4000-8000-0000000000b1',
};

let database: DatabaseHandle;

beforeAll(async () => {
  database = await connectDatabase({ pgliteDir: 'memory://' });
  const { db } = database;
  await db.insert(sessions).values([
    {
      sessionId: ids.aliceTravel,
      userId: 'alice',
      status: 'ended',
      startedAt: new Date('2026-01-10T10:00:00Z'),
      endedAt: new Date('2026-01-10T10:20:00Z'),
      title: 'Weekend plans',
      summary: 'Talked about weekend plans and the weather.',
    },
    {
      sessionId: ids.aliceLisbon,
      userId: 'alice',
      status: 'ended',
      startedAt: new Date('2026-02-01T10:00:00Z'),
      endedAt: new Date('2026-02-01T11:00:00Z'),
      title: 'Lisbon itinerary',
      summary: 'Planned a Lisbon trip: trams, pastel de nata, and the Lisbon oceanarium.',
    },
    {
      sessionId: ids.aliceBread,
      userId: 'alice',
      status: 'ended',
      startedAt: new Date('2026-02-15T10:00:00Z'),
      endedAt: new Date('2026-02-15T10:30:00Z'),
      title: 'Sourdough',
      summary: 'How to feed a sourdough starter.',
    },
    {
      sessionId: ids.aliceCurrent,
      userId: 'alice',
      startedAt: new Date('2026-03-01T10:00:00Z'),
      title: 'Lisbon again',
      summary: null,
    },
    {
      sessionId: ids.bobLisbon,
      userId: 'bob',
      status: 'ended',
      startedAt: new Date('2026-02-20T10:00:00Z'),
      endedAt: new Date('2026-02-20T10:30:00Z'),
      title: 'Lisbon apartment',
      summary: 'Bob is moving to Lisbon; private rent details.',
    },
  ]);
  const events: NewSessionEvent[] = [
    message(
      ids.aliceTravel,
      1,
      'user_message',
      'Maybe a short trip this weekend, Lisbon or Porto?',
    ),
    message(
      ids.aliceTravel,
      2,
      'assistant_message',
      'Both are lovely in spring; Porto is quieter.',
    ),
    message(ids.aliceLisbon, 1, 'user_message', 'Which trams should I take in Lisbon?'),
    message(ids.aliceLisbon, 2, 'assistant_message', 'Tram 28 crosses the old town of Lisbon.'),
    // Only user and assistant messages are searched, not tool traffic.
    message(ids.aliceBread, 1, 'tool_result', 'Lisbon weather: sunny, 18 degrees'),
    message(ids.aliceBread, 2, 'user_message', 'My starter smells like acetone.'),
    message(ids.aliceCurrent, 1, 'user_message', 'Remind me what we said about Lisbon trams?'),
    message(ids.bobLisbon, 1, 'user_message', 'The Lisbon apartment rent is 1400 euros.'),
  ];
  await db.insert(sessionEvents).values(events);
});

afterAll(async () => {
  await database?.close();
});

function message(
  sessionId: string,
  seq: number,
  eventType: string,
  content: string,
): NewSessionEvent {
  return { sessionId, seq, eventType, content };
}

async function search(
  input: { query: string; limit?: number },
  { userId = 'alice', sessionId = ids.aliceCurrent } = {},
): Promise<PastSessionSearch> {
  const context: ToolContext = {
    userId,
    sessionId,
    db: database.db,
    signal: new AbortController().signal,
    stats: { activeSessions: () => 0, connectedSockets: () => 0 },
  };
  const parsed = searchPastSessions.inputSchema.parse(input);
  return (await searchPastSessions.execute(parsed, context)) as PastSessionSearch;
}

describe('search_past_sessions', () => {
  it("finds the user's other sessions, one result per session, best first", async () => {
    const { query, results } = await search({ query: 'Lisbon' });
    expect(query).toBe('Lisbon');
    expect(results.map((result) => result.session_id)).toEqual([ids.aliceLisbon, ids.aliceTravel]);
    const [first, second] = results;
    // The session titled and summarised "Lisbon" outranks one that mentions it once.
    expect(first!.rank).toBeGreaterThan(second!.rank);
    expect(first).toMatchObject({
      started_at: '2026-02-01T10:00:00.000Z',
      title: 'Lisbon itinerary',
    });
    expect(first!.snippet).toContain('Lisbon');
    expect(second!.snippet).toContain('Lisbon');
    for (const result of results) expect(result.snippet.length).toBeLessThanOrEqual(200);
  });

  it('never returns the current session', async () => {
    const { results } = await search({ query: 'Lisbon trams' });
    expect(results.map((result) => result.session_id)).toEqual([ids.aliceLisbon]);

    // From another session, the one that was current shows up.
    const fromElsewhere = await search({ query: 'Lisbon trams' }, { sessionId: ids.aliceBread });
    expect(fromElsewhere.results.map((result) => result.session_id).sort()).toEqual(
      [ids.aliceLisbon, ids.aliceCurrent].sort(),
    );
  });

  it("never returns another user's sessions", async () => {
    const alice = await search({ query: 'apartment rent euros' });
    expect(alice.results).toEqual([]);

    const bob = await search({ query: 'Lisbon' }, { userId: 'bob', sessionId: ids.aliceCurrent });
    expect(bob.results.map((result) => result.session_id)).toEqual([ids.bobLisbon]);

    const mallory = await search({ query: 'Lisbon' }, { userId: 'mallory' });
    expect(mallory.results).toEqual([]);
  });

  it('searches only user and assistant messages among events', async () => {
    const { results } = await search({ query: 'sunny degrees' });
    expect(results).toEqual([]);
    const acetone = await search({ query: 'acetone' });
    expect(acetone.results.map((result) => result.session_id)).toEqual([ids.aliceBread]);
  });

  it('uses stemming and web-search syntax', async () => {
    const stemmed = await search({ query: 'planning' });
    expect(stemmed.results.map((result) => result.session_id)).toContain(ids.aliceLisbon);

    // Exclusion works per passage: every Lisbon passage of the itinerary session names trams.
    const excluded = await search({ query: 'Lisbon -trams' });
    expect(excluded.results.map((result) => result.session_id)).toEqual([ids.aliceTravel]);

    const phrase = await search({ query: '"old town"' });
    expect(phrase.results.map((result) => result.session_id)).toEqual([ids.aliceLisbon]);
  });

  it('respects the limit', async () => {
    const { results } = await search({ query: 'Lisbon', limit: 1 });
    expect(results.map((result) => result.session_id)).toEqual([ids.aliceLisbon]);
  });

  it('returns nothing, without failing, for no match or only stop words', async () => {
    expect((await search({ query: 'kangaroo' })).results).toEqual([]);
    expect((await search({ query: 'the and of' })).results).toEqual([]);
    expect((await search({ query: "'); drop table sessions; --" })).results).toEqual([]);
    expect(await database.db.$count(sessions)).toBe(5);
  });

  it('validates its input', () => {
    const schema = searchPastSessions.inputSchema;
    expect(schema.parse({ query: '  Lisbon ' })).toEqual({ query: 'Lisbon', limit: 5 });
    expect(schema.safeParse({ query: '   ' }).success).toBe(false);
    expect(schema.safeParse({ query: 'x'.repeat(201) }).success).toBe(false);
    expect(schema.safeParse({ query: 'x', limit: 0 }).success).toBe(false);
    expect(schema.safeParse({ query: 'x', limit: 21 }).success).toBe(false);
    expect(schema.safeParse({ query: 'x', limit: 2.5 }).success).toBe(false);
  });

  it('does not query once its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    const context: ToolContext = {
      userId: 'alice',
      sessionId: ids.aliceCurrent,
      db: database.db,
      signal: controller.signal,
      stats: { activeSessions: () => 0, connectedSockets: () => 0 },
    };
    await expect(
      searchPastSessions.execute({ query: 'Lisbon', limit: 5 }, context),
    ).rejects.toThrow('cancelled');
  });
});

describe('trimSnippet', () => {
  it('collapses whitespace and keeps short text whole', () => {
    expect(trimSnippet('  Tram 28\n crosses   the town ')).toBe('Tram 28 crosses the town');
  });

  it('cuts long text at a word boundary within 200 characters', () => {
    const snippet = trimSnippet('word '.repeat(100));
    expect(snippet.length).toBeLessThanOrEqual(200);
    expect(snippet.endsWith('word…')).toBe(true);
  });
});
