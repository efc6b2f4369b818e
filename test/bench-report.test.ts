import { describe, expect, it } from 'vitest';
import {
  capacity,
  evaluateTargets,
  renderReport,
  summarizeLevels,
  type BenchResult,
  type LoadRun,
} from '../bench/report.ts';

/** A clean run of `sessions` with `p99` ms of added latency; `changes` overrides the rest. */
function loadRun(
  relay: string,
  sessions: number,
  repeat: number,
  p99: number,
  changes: Partial<LoadRun> = {},
): LoadRun {
  return {
    relay,
    sessions,
    repeat,
    connect_failed: 0,
    connect_ms: 100,
    completed: sessions,
    failed: 0,
    failures: {},
    reconnects: 0,
    tokens_expected: sessions * 10,
    tokens_received: sessions * 10,
    added_latency_ms: { p50: p99 / 10, p99, max: p99 * 2 },
    first_token_added_ms: { p50: 1, p99, max: p99 },
    later_tokens_added_ms: { p50: 1, p99, max: p99 },
    first_token_ms: { p50: 5, p99: 20, max: 30 },
    clock_offset_ms: 0,
    server: {
      cpu_seconds: 2,
      cpu_percent_of_one_core: 50,
      peak_rss_mib: 100,
      event_loop_delay_ms: { p50: 10, p99: 20, max: 30 },
      ...(relay === 'parley'
        ? {
            event_writer: {
              batches: 10,
              rows: 100,
              max_batch_size: 20,
              lag_ms: { p50: 5, p99: 40, max: 50, count: 100 },
            },
          }
        : {}),
    },
    durability:
      relay === 'parley'
        ? {
            passed: true,
            sessions,
            events_seen: sessions * 2,
            events_found: sessions * 2,
            missing: 0,
            duplicated: 0,
            out_of_order: 0,
            problems: [],
          }
        : undefined,
    machine: { steal_percent: repeat, busy_percent: 90 },
    ...changes,
  };
}

/** Runs of every level, the relays taking turns, with added p99 per repeat as given. */
function result(p99s: Record<string, Record<number, number[]>>): BenchResult {
  const levels = Object.keys(p99s.floor!).map(Number);
  const repeat = p99s.floor![levels[0]!]!.length;
  const runs: LoadRun[] = [];
  for (const sessions of levels)
    for (let index = 0; index < repeat; index += 1)
      for (const relay of ['floor', 'parley'])
        runs.push(loadRun(relay, sessions, index + 1, p99s[relay]![sessions]![index]!));
  return {
    mode: 'full',
    database: 'pglite',
    date: '2026-01-01T00:00:00.000Z',
    commit: 'abc1234',
    machine: { cores: 2, cpu: 'test', memory_gib: 4, node: 'v24.0.0', platform: 'linux x64' },
    settings: {
      levels,
      idle: [],
      tokens: 10,
      rate: 20,
      rampMs: 1000,
      repeat,
      expected_reply_ms: 500,
    },
    runs,
    idle: [],
    profiles: [],
    duration_s: 60,
  };
}

const target = (targets: ReturnType<typeof evaluateTargets>, start: string) =>
  targets.find((entry) => entry.target.startsWith(start))!;

describe('benchmark report over repeats', () => {
  it('summarizes each level and relay by the medians of its repeats', () => {
    const levels = summarizeLevels(
      result({
        floor: { 300: [10, 30, 20] },
        parley: { 300: [15, 90, 25] },
      }).runs,
    );
    expect(levels.map((level) => [level.sessions, level.relay, level.repeats])).toEqual([
      [300, 'floor', 3],
      [300, 'parley', 3],
    ]);
    const parley = levels[1]!;
    expect(parley.added_latency_ms).toEqual({ p50: 2.5, p99: 25, max: 50 });
    expect(parley.added_p99_per_repeat).toEqual([15, 90, 25]);
    expect(parley.steal_percent).toBe(2);
    expect(parley.tokens_expected).toBe(9000);
    expect(parley.durability).toMatchObject({
      passed: true,
      repeats_passed: 3,
      events_found: 1800,
    });
  });

  it('takes the mean of the middle two for an even number of repeats', () => {
    const [floor] = summarizeLevels(
      result({ floor: { 100: [10, 20] }, parley: { 100: [10, 20] } }).runs,
    );
    expect(floor!.added_latency_ms.p99).toBe(15);
  });

  it('checks the latency targets against the medians, naming every repeat', () => {
    const targets = evaluateTargets(
      result({
        floor: { 300: [10, 12, 11], 1000: [120, 140, 133] },
        // One bad repeat at each level: its median still meets the targets.
        parley: { 300: [20, 400, 24], 1000: [151, 260, 199] },
      }),
    );
    expect(target(targets, '1,000 sessions: added-latency')).toEqual({
      target: '1,000 sessions: added-latency p99 ≤ 1.5 × floor p99',
      measured:
        'median 199 ms of 151 / 260 / 199 ms vs floor median 133 ms of 120 / 140 / 133 ms (limit 199.5 ms)',
      met: true,
    });
    expect(target(targets, '300 sessions: added-latency')).toMatchObject({
      measured: 'median 24 ms of 20 / 400 / 24 ms',
      met: true,
    });
    expect(target(targets, 'event writes')).toMatchObject({
      measured: 'median p99 40 ms of 40 / 40 / 40 ms, max 50 ms',
      met: true,
    });
  });

  it('finds capacity from the median p99 of each level', () => {
    const bench = result({
      floor: { 500: [50, 60, 70], 700: [90, 300, 95], 1000: [150, 90, 200] },
      parley: { 500: [40, 500, 60], 700: [120, 101, 99], 1000: [80, 80, 80] },
    });
    const levels = summarizeLevels(bench.runs);
    expect(capacity(levels, 'floor')).toBe(700);
    // 700's median is 101 ms, so 1,000 (under 100 ms) does not count.
    expect(capacity(levels, 'parley')).toBe(500);
    expect(target(evaluateTargets(bench), 'sessions at p99')).toMatchObject({
      measured: '500 ÷ 700 = 0.71 (median p99 of 3 repeats per level)',
      met: true,
    });
  });

  it('fails the target on failures, lost tokens or durability if any one repeat has them', () => {
    const p99s = { floor: { 1000: [50, 50, 50] }, parley: { 1000: [50, 50, 50] } };
    const clean = evaluateTargets(result(p99s));
    expect(target(clean, '1,000 sessions: none failed')).toEqual({
      target: '1,000 sessions: none failed, no token lost, durability check passes',
      measured: 'all 3 repeats: 3000/3000 complete, 30000/30000 tokens, durability passed 3/3',
      met: true,
    });
    const spoil = (changes: Partial<LoadRun>) => {
      const bench = result(p99s);
      const index = bench.runs.findIndex((run) => run.relay === 'parley' && run.repeat === 2);
      bench.runs[index] = { ...bench.runs[index]!, ...changes };
      return target(evaluateTargets(bench), '1,000 sessions: none failed');
    };
    expect(spoil({ failed: 1, completed: 999 }).met).toBe(false);
    expect(spoil({ tokens_received: 9999 }).met).toBe(false);
    const durability = spoil({
      durability: {
        passed: false,
        sessions: 1000,
        events_seen: 2000,
        events_found: 1999,
        missing: 1,
        duplicated: 0,
        out_of_order: 0,
        problems: [],
      },
    });
    expect(durability).toMatchObject({ met: false, measured: expect.stringContaining('FAILED') });
  });

  it('renders one row per level and relay, with each repeat’s p99 and the steal', () => {
    const markdown = renderReport(
      result({ floor: { 300: [10, 30, 20] }, parley: { 300: [15, 90, 25] } }),
    );
    expect(markdown).toContain('3 runs per level and relay; CPU steal 1–3 % across runs.');
    expect(markdown).toContain('Figures are medians of 3 repeats');
    expect(markdown).toContain('| p99 per repeat |');
    expect(markdown).toContain(
      '| 300 | parley | 2.5 ms (1.25×) | **25 ms** (1.25×) | 15 / 90 / 25 ms |',
    );
    expect(markdown.match(/^\| 300 \|/gm)).toHaveLength(2);
  });

  it('reads as a single run when there is one repeat', () => {
    const markdown = renderReport(result({ floor: { 300: [10] }, parley: { 300: [15] } }));
    expect(markdown).toContain('one run per level and relay; CPU steal 1 %.');
    expect(markdown).not.toContain('median');
    expect(markdown).not.toContain('p99 per repeat');
    expect(markdown).toContain('| 300 | parley | 1.5 ms (1.50×) | **15 ms** (1.50×) | 30 ms |');
    expect(markdown).toContain('| 300 sessions: added-latency p99 ≤ 25 ms | 15 ms | ✓ |');
  });
});
