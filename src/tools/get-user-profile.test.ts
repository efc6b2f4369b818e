import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../db/connect.ts';
import { sessionEvents, sessions } from '../db/schema.ts';
import { getUserProfile, type UserProfile } from './get-user-profile.ts';
import type { ToolContext } from './types.ts';

const ids = {
  aliceFirst: '00000000-0000-4000-8000-00000000000a',
  aliceSummarised: '00000000-0000-4000-8000-00000000000b',
  aliceLaterNoSummary: '00000000-0000-4000-8000-00000000000c',
  aliceLive: '00000000-0000-4000-8000-00000000000d',
  bob: '00000000-0000-4000-8000-00000000000e',
};

let database: DatabaseHandle;

beforeAll(async () => {
  database = await connectDatabase({ pgliteDir: 'memory://' });
  const { db } = database;
  await db.insert(sessions).values([
    {
      sessionId: ids.aliceFirst,
      userId: 'alice',
      status: 'ended',
      startedAt: new Date('2026-01-05T09:00:00Z'),
      endedAt: new Date('2026-01-05T09:30:00Z'),
      title: 'Sourdough starter',
      summary: 'Alice asked how to feed a sourdough starter.',
    },
    {
      sessionId: ids.aliceSummarised,
      userId: 'alice',
      status: 'ended',
      startedAt: new Date('2026-02-10T18:00:00Z'),
      endedAt: new Date('2026-02-10T18:45:00Z'),
      title: 'Trip to Lisbon',
      summary: 'Planned three days in Lisbon with a budget of 900 euros.',
    },
    {
      // Ended later, but the summary job has not run yet: not the last summary.
      sessionId: ids.aliceLaterNoSummary,
      userId: 'alice',
      status: 'ended',
      startedAt: new Date('2026-03-01T08:00:00Z'),
      endedAt: new Date('2026-03-01T08:10:00Z'),
    },
    {
      sessionId: ids.aliceLive,
      userId: 'alice',
      startedAt: new Date('2026-03-02T08:00:00Z'),
      title: 'Live one',
      summary: 'A live session has no end yet, so it is not the last summary.',
    },
    {
      sessionId: ids.bob,
      userId: 'bob',
      status: 'ended',
      startedAt: new Date('2025-12-31T23:00:00Z'),
      endedAt: new Date('2026-04-01T00:00:00Z'),
      title: "Bob's secret",
      summary: 'Bob talked about something Alice must never see.',
    },
  ]);
  await db.insert(sessionEvents).values([
    { sessionId: ids.aliceFirst, seq: 1, eventType: 'user_message', content: 'How do I feed it?' },
    { sessionId: ids.aliceFirst, seq: 2, eventType: 'assistant_message', content: 'Flour, water.' },
    { sessionId: ids.aliceFirst, seq: 3, eventType: 'user_message', content: 'How often?' },
    { sessionId: ids.aliceSummarised, seq: 1, eventType: 'user_message', content: 'Lisbon!' },
    { sessionId: ids.aliceSummarised, seq: 2, eventType: 'tool_call', content: null },
    { sessionId: ids.aliceLive, seq: 1, eventType: 'user_message', content: 'Hello again' },
    { sessionId: ids.bob, seq: 1, eventType: 'user_message', content: 'One' },
    { sessionId: ids.bob, seq: 2, eventType: 'user_message', content: 'Two' },
  ]);
});

afterAll(async () => {
  await database?.close();
});

async function profileOf(
  userId: string,
  signal = new AbortController().signal,
): Promise<UserProfile> {
  const context: ToolContext = {
    userId,
    sessionId: ids.aliceLive,
    db: database.db,
    signal,
    stats: { activeSessions: () => 0, connectedSockets: () => 0 },
  };
  return (await getUserProfile.execute({}, context)) as UserProfile;
}

describe('get_user_profile', () => {
  it("counts the user's sessions and messages and finds their last summary", async () => {
    expect(await profileOf('alice')).toEqual({
      user_id: 'alice',
      first_seen: '2026-01-05T09:00:00.000Z',
      sessions: 4,
      messages: 4,
      last_summary: {
        session_id: ids.aliceSummarised,
        title: 'Trip to Lisbon',
        summary: 'Planned three days in Lisbon with a budget of 900 euros.',
        ended_at: '2026-02-10T18:45:00.000Z',
      },
    });
  });

  it("never counts another user's rows", async () => {
    const bob = await profileOf('bob');
    expect(bob).toMatchObject({ first_seen: '2025-12-31T23:00:00.000Z', sessions: 1, messages: 2 });
    expect(bob.last_summary?.session_id).toBe(ids.bob);
  });

  it('gives zero counts and nulls for a user it has never seen', async () => {
    expect(await profileOf('nobody')).toEqual({
      user_id: 'nobody',
      first_seen: null,
      sessions: 0,
      messages: 0,
      last_summary: null,
    });
  });

  it('treats a user id as data, not SQL', async () => {
    expect((await profileOf("alice' or '1'='1")).sessions).toBe(0);
  });

  it('does not query once its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(profileOf('alice', controller.signal)).rejects.toThrow('cancelled');
  });
});
