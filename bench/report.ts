/** The benchmark's result file shape and its Markdown rendering, with the targets checked. */
import type { DurabilityResult } from './durability.ts';
import type { ProfileSummary } from './profile-summary.ts';

interface Spread {
  p50: number;
  p99: number;
  max: number;
}

export interface LoadRun {
  relay: string;
  sessions: number;
  connect_failed: number;
  connect_ms: number;
  completed: number;
  failed: number;
  failures: Record<string, number>;
  reconnects: number;
  tokens_expected: number;
  tokens_received: number;
  added_latency_ms: Spread;
  /** Added latency of each reply's first token only, and of all the others. */
  first_token_added_ms?: Spread;
  later_tokens_added_ms?: Spread;
  first_token_ms: Spread;
  clock_offset_ms: number;
  server: {
    cpu_seconds: number;
    cpu_percent_of_one_core: number;
    peak_rss_mib: number;
    event_loop_delay_ms: Spread;
    event_writer?: {
      batches: number;
      rows: number;
      max_batch_size: number;
      lag_ms: Spread & { count: number };
    };
  };
  durability: DurabilityResult | undefined;
}

export interface IdleRun {
  relay: string;
  sessions: number;
  connected: number;
  failed: number;
  rss_mib: number;
  baseline_rss_mib: number;
  kib_per_session: number;
  /**
   * RSS growth per session since the previous idle count: the cost of one more session,
   * whatever the server gave back or kept from its start-up.
   */
  added_kib_per_session?: number;
  /** JS heap in use, per session (the part of RSS the server's own objects take). */
  heap_kib_per_session: number;
}

export interface BenchResult {
  mode: string;
  database: string;
  date: string;
  commit: string;
  machine: { cores: number; cpu: string; memory_gib: number; node: string; platform: string };
  settings: {
    levels: number[];
    idle: number[];
    tokens: number;
    rate: number;
    rampMs: number;
    expected_reply_ms: number;
  };
  runs: LoadRun[];
  idle: IdleRun[];
  profiles: { sessions: number; top: ProfileSummary }[];
  duration_s: number;
  targets?: Target[];
}

export interface Target {
  target: string;
  measured: string;
  met: boolean | null;
}

const ratio = (value: number, floor: number | undefined) =>
  floor === undefined || !Number.isFinite(floor) || floor <= 0
    ? ''
    : ` (${(value / floor).toFixed(2)}×)`;

/** Highest session count whose added-latency p99 is ≤ 100 ms with every session complete. */
export function capacity(runs: LoadRun[], relay: string): number {
  let best = 0;
  for (const run of runs
    .filter((candidate) => candidate.relay === relay)
    .sort((a, b) => a.sessions - b.sessions)) {
    if (run.added_latency_ms.p99 <= 100 && run.failed === 0 && run.connect_failed === 0)
      best = run.sessions;
    else break;
  }
  return best;
}

export function evaluateTargets(result: BenchResult): Target[] {
  const find = (relay: string, sessions: number) =>
    result.runs.find((run) => run.relay === relay && run.sessions === sessions);
  const targets: Target[] = [];
  const full = find('parley', 1000);
  const fullFloor = find('floor', 1000);
  if (full) {
    const limit = fullFloor ? 1.5 * fullFloor.added_latency_ms.p99 : Number.NaN;
    const ok =
      full.failed === 0 &&
      full.tokens_received === full.tokens_expected &&
      full.durability?.passed === true;
    targets.push({
      target: '1,000 sessions: none failed, no token lost, durability check passes',
      measured: `${full.completed}/${full.sessions} complete, ${full.tokens_received}/${full.tokens_expected} tokens, durability ${full.durability?.passed ? 'passed' : 'FAILED'}`,
      met: ok,
    });
    targets.push({
      target: '1,000 sessions: added-latency p99 ≤ 1.5 × floor p99',
      measured: `${full.added_latency_ms.p99} ms vs ${fullFloor?.added_latency_ms.p99 ?? '?'} ms (limit ${Number.isFinite(limit) ? limit.toFixed(1) : '?'} ms)`,
      met: fullFloor ? full.added_latency_ms.p99 <= limit : null,
    });
  }
  const mid = find('parley', 300);
  const midFloor = find('floor', 300);
  if (mid) {
    targets.push({
      target: '300 sessions: added-latency p99 ≤ 25 ms',
      measured: `${mid.added_latency_ms.p99} ms`,
      met: mid.added_latency_ms.p99 <= 25,
    });
    targets.push({
      target: '300 sessions: time to first token p50 ≤ floor + 10 ms',
      measured: `${mid.first_token_ms.p50} ms vs floor ${midFloor?.first_token_ms.p50 ?? '?'} ms`,
      met: midFloor ? mid.first_token_ms.p50 <= midFloor.first_token_ms.p50 + 10 : null,
    });
  }
  const parleyCapacity = capacity(result.runs, 'parley');
  const floorCapacity = capacity(result.runs, 'floor');
  if (floorCapacity > 0) {
    const top = Math.max(...result.settings.levels);
    const capped = floorCapacity === top ? ` (the floor passed every level up to ${top})` : '';
    targets.push({
      target: 'sessions at p99 ≤ 100 ms, Parley ÷ floor ≥ 0.7',
      measured: `${parleyCapacity} ÷ ${floorCapacity} = ${(parleyCapacity / floorCapacity).toFixed(2)}${capped}`,
      met: parleyCapacity / floorCapacity >= 0.7,
    });
  }
  const idle = result.idle.filter((run) => run.relay === 'parley').at(-1);
  if (idle) {
    targets.push({
      target: `idle: ≤ 24 KiB RSS per connected session (at ${idle.sessions})`,
      measured:
        idle.added_kib_per_session === undefined
          ? `${idle.kib_per_session} KiB`
          : `${idle.kib_per_session} KiB over the baseline, ${idle.added_kib_per_session} KiB per session added since the previous count`,
      met:
        idle.sessions >= 5000
          ? Math.max(idle.kib_per_session, idle.added_kib_per_session ?? 0) <= 24
          : null,
    });
  }
  const loaded = full ?? result.runs.filter((run) => run.relay === 'parley').at(-1);
  if (loaded?.server.event_writer) {
    targets.push({
      target: `event writes keep up at ${loaded.sessions} sessions (${result.database}): lag p99 ≤ 1 s`,
      measured: `p99 ${loaded.server.event_writer.lag_ms.p99} ms, max ${loaded.server.event_writer.lag_ms.max} ms`,
      met: loaded.server.event_writer.lag_ms.p99 <= 1000,
    });
  }
  return targets;
}

export function renderReport(result: BenchResult): string {
  result.targets ??= evaluateTargets(result);
  const { machine, settings } = result;
  const lines: string[] = [];
  lines.push(`## Parley benchmark — ${result.database}, ${result.mode} run`);
  lines.push('');
  lines.push(
    `${machine.cores} cores (${machine.cpu}), ${machine.memory_gib} GiB, Node ${machine.node}, ${machine.platform}; ` +
      `commit ${result.commit}; ${result.date.slice(0, 16).replace('T', ' ')} UTC; ${result.duration_s} s.`,
  );
  lines.push(
    `Each session sends one message; the upstream streams ${settings.tokens} tokens at ${settings.rate} tokens/s; ` +
      `starts are spread over ${settings.rampMs} ms. Upstream, relay and load generator share the machine.`,
  );
  lines.push('');
  lines.push(
    '| sessions | relay | added p50 | added p99 | added max | added p99: first tokens / the rest | first token p50 / p99 | tokens | failed | server CPU | peak RSS | loop delay p99 | write batches (rows/max) | write lag p99 | durability |',
  );
  lines.push(
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const run of result.runs) {
    const floor =
      run.relay === 'floor'
        ? undefined
        : result.runs.find((other) => other.relay === 'floor' && other.sessions === run.sessions);
    const writer = run.server.event_writer;
    const tokens =
      run.tokens_received === run.tokens_expected
        ? `${run.tokens_received} ✓`
        : `${run.tokens_received}/${run.tokens_expected} ✗`;
    lines.push(
      [
        '',
        run.sessions,
        run.relay,
        `${run.added_latency_ms.p50} ms${ratio(run.added_latency_ms.p50, floor?.added_latency_ms.p50)}`,
        `**${run.added_latency_ms.p99} ms**${ratio(run.added_latency_ms.p99, floor?.added_latency_ms.p99)}`,
        `${run.added_latency_ms.max} ms`,
        run.first_token_added_ms && run.later_tokens_added_ms
          ? `${run.first_token_added_ms.p99} / ${run.later_tokens_added_ms.p99} ms`
          : '—',
        `${run.first_token_ms.p50} / ${run.first_token_ms.p99} ms`,
        tokens,
        run.failed + run.connect_failed,
        `${run.server.cpu_seconds.toFixed(1)} s${ratio(run.server.cpu_seconds, floor?.server.cpu_seconds)}`,
        `${run.server.peak_rss_mib} MiB`,
        `${run.server.event_loop_delay_ms?.p99 ?? '?'} ms`,
        writer
          ? `${writer.batches} (${(writer.rows / Math.max(1, writer.batches)).toFixed(1)}/${writer.max_batch_size})`
          : '—',
        writer ? `${writer.lag_ms.p99} ms` : '—',
        run.durability
          ? run.durability.passed
            ? `✓ ${run.durability.events_found}/${run.durability.events_seen}`
            : `✗ missing ${run.durability.missing}, dup ${run.durability.duplicated}, order ${run.durability.out_of_order}`
          : '—',
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  if (result.idle.length > 0) {
    lines.push('');
    lines.push(
      '| idle sessions | relay | connected | RSS | RSS per session (over baseline) | RSS per session added since previous count | JS heap per session |',
    );
    lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const idle of result.idle) {
      lines.push(
        `| ${idle.sessions} | ${idle.relay} | ${idle.connected} | ${idle.rss_mib} MiB (from ${idle.baseline_rss_mib}) | ${idle.kib_per_session} KiB | ${idle.added_kib_per_session === undefined ? '—' : `${idle.added_kib_per_session} KiB`} | ${idle.heap_kib_per_session} KiB |`,
      );
    }
  }
  if (result.targets.length > 0) {
    lines.push('');
    lines.push('| target | measured | met |');
    lines.push('| --- | --- | :---: |');
    for (const target of result.targets)
      lines.push(
        `| ${target.target} | ${target.measured} | ${target.met === null ? 'n/a' : target.met ? '✓' : '✗ missed'} |`,
      );
  }
  for (const profile of result.profiles) {
    lines.push('');
    lines.push(
      `CPU profile of Parley at ${profile.sessions} sessions (${profile.top.total_ms} ms on CPU), self time by package:`,
    );
    lines.push('');
    for (const entry of profile.top.packages.slice(0, 10))
      lines.push(`- ${entry.name}: ${entry.percent} %`);
    lines.push('');
    lines.push('Top functions (self time):');
    lines.push('');
    for (const entry of profile.top.functions.slice(0, 12))
      lines.push(`- \`${entry.name}\`: ${entry.percent} %`);
  }
  lines.push('');
  return lines.join('\n');
}
