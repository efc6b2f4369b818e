import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../bench/report.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(path.join(tmpdir(), 'parley-bench-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * Not a performance test: a tiny run of the real harness (upstream, floor, Parley, load
 * generator, durability check, report) so the benchmark cannot rot unnoticed.
 */
describe('benchmark harness (smoke run)', () => {
  it('runs a few sessions against the floor and Parley and writes a sane result', async () => {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [path.join(root, 'bench/run.ts'), '--smoke', '--out', out],
        { cwd: root, timeout: 110_000 },
        (error, _stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(),
      );
    });
    const result = JSON.parse(
      readFileSync(path.join(out, 'pglite-smoke.json'), 'utf8'),
    ) as BenchResult;
    expect(readFileSync(path.join(out, 'pglite-smoke.md'), 'utf8')).toContain('| parley |');
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.machine.node).toMatch(/^v24/);
    expect(result.commit).not.toBe('');
    expect(result.runs.map((run) => run.relay).sort()).toEqual(['floor', 'parley']);
    for (const run of result.runs) {
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
    const parley = result.runs.find((run) => run.relay === 'parley')!;
    expect(parley.durability).toMatchObject({
      passed: true,
      missing: 0,
      duplicated: 0,
      out_of_order: 0,
    });
    // One user message and one completed reply per session.
    expect(parley.durability!.events_found).toBe(parley.sessions * 2);
    expect(parley.server.event_writer!.rows).toBeGreaterThan(0);
    expect(result.idle.find((idle) => idle.relay === 'parley')).toMatchObject({
      connected: 20,
      failed: 0,
    });
    expect(result.targets!.length).toBeGreaterThan(0);
  }, 120_000);
});
