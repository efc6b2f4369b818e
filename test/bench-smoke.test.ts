import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../bench/report.ts';
import { median, round } from '../bench/stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(path.join(tmpdir(), 'parley-bench-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * Not a performance test: a tiny run of the real harness (upstream, floor, Parley, load
 * generator, durability check, report) so the benchmark cannot rot unnoticed. Two repeats, so
 * the interleaving of the relays and the medians over repeats are exercised too.
 */
describe('benchmark harness (smoke run)', () => {
  it('runs a few sessions against the floor and Parley and writes a sane result', async () => {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [path.join(root, 'bench/run.ts'), '--smoke', '--repeat', '2', '--out', out],
        { cwd: root, timeout: 170_000 },
        (error, _stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(),
      );
    });
    const result = JSON.parse(
      readFileSync(path.join(out, 'pglite-smoke.json'), 'utf8'),
    ) as BenchResult;
    const markdown = readFileSync(path.join(out, 'pglite-smoke.md'), 'utf8');
    expect(markdown).toContain('| parley |');
    expect(markdown).toContain('medians of 2 repeats');
    expect(markdown).toContain('| p99 per repeat |');
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.machine.node).toMatch(/^v24/);
    expect(result.commit).not.toBe('');
    expect(result.settings.repeat).toBe(2);
    // The relays take turns, repeat by repeat.
    expect(result.runs.map((run) => `${run.repeat} ${run.relay}`)).toEqual([
      '1 floor',
      '1 parley',
      '2 floor',
      '2 parley',
    ]);
    for (const run of result.runs) {
      expect(run.sessions).toBe(result.settings.levels[0]);
      expect(Number.isFinite(run.machine.steal_percent)).toBe(true);
      expect(run.machine.steal_percent).toBeGreaterThanOrEqual(0);
      expect(run.machine.steal_percent).toBeLessThanOrEqual(100);
      expect(run.machine.busy_percent).toBeGreaterThan(0);
      expect(run.machine.busy_percent).toBeLessThanOrEqual(100);
      expect(run.failed + run.connect_failed).toBe(0);
      expect(run.completed).toBe(run.sessions);
      expect(run.tokens_expected).toBe(run.sessions * result.settings.tokens);
      expect(run.tokens_received).toBe(run.tokens_expected);
      expect(Number.isFinite(run.added_latency_ms.p99)).toBe(true);
      expect(run.first_token_ms.p50).toBeGreaterThan(0);
      expect(run.server.cpu_seconds).toBeGreaterThan(0);
      expect(run.server.peak_rss_mib).toBeGreaterThan(0);
      expect(run.server.event_loop_delay_ms.p99).toBeGreaterThanOrEqual(0);
    }
    const parleyRuns = result.runs.filter((run) => run.relay === 'parley');
    for (const parley of parleyRuns) {
      expect(parley.durability).toMatchObject({
        passed: true,
        missing: 0,
        duplicated: 0,
        out_of_order: 0,
      });
      // One user message and one completed reply per session.
      expect(parley.durability!.events_found).toBe(parley.sessions * 2);
      expect(parley.server.event_writer!.rows).toBeGreaterThan(0);
    }
    // One summary per relay, from the medians of its two repeats.
    const p99s = parleyRuns.map((run) => run.added_latency_ms.p99);
    const summary = result.medians!.find((level) => level.relay === 'parley')!;
    expect(result.medians!.map((level) => [level.relay, level.repeats])).toEqual([
      ['floor', 2],
      ['parley', 2],
    ]);
    expect(summary.added_p99_per_repeat).toEqual(p99s);
    expect(summary.added_latency_ms.p99).toBe(round(median(p99s)));
    expect(summary.durability).toMatchObject({ passed: true, repeats_passed: 2 });
    expect(result.idle.find((idle) => idle.relay === 'parley')).toMatchObject({
      connected: 20,
      failed: 0,
    });
    // The targets read the medians and name each repeat's figure.
    const lags = parleyRuns.map((run) => round(run.server.event_writer!.lag_ms.p99));
    expect(
      result.targets!.find((target) => target.target.startsWith('event writes')),
    ).toMatchObject({
      measured: expect.stringContaining(
        `median p99 ${round(median(lags))} ms of ${lags.join(' / ')} ms`,
      ),
    });
  }, 180_000);
});
