/** The benchmark's result file shape and its Markdown rendering, with the targets checked. */
import type { DurabilityResult } from './durability.ts';
import type { MachineUsage } from './processes.ts';
import type { ProfileSummary } from './profile-summary.ts';
import { median, round } from './stats.ts';

interface Spread {
  p50: number;
  p99: number;
  max: number;
}

export interface LoadRun {
  relay: string;
  sessions: number;
  /** Which run of this level and relay, from 1; the relays take turns, repeat by repeat. */
  repeat: number;
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
    /** On Postgres: the database server's processes over the same window (not in `cpu_seconds`). */
    database_cpu_seconds?: number;
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
  /** The whole machine over the load window: CPU stolen by the hypervisor, and CPU in use. */
  machine: MachineUsage;
}

/**
 * One level and relay over all its repeats: the medians of the figures that vary from run to
 * run, and the failures, tokens and durability of all repeats together (a failure in any repeat
 * counts).
 */
export interface LevelSummary {
  relay: string;
  sessions: number;
  repeats: number;
  added_latency_ms: Spread;
  /** Each repeat's added-latency p99, in repeat order. */
  added_p99_per_repeat: number[];
  first_token_added_p99?: number;
  later_tokens_added_p99?: number;
  first_token_ms: { p50: number; p99: number };
  cpu_seconds: number;
  database_cpu_seconds?: number;
  peak_rss_mib: number;
  loop_delay_p99?: number;
  write_batches?: { batches: number; rows_per_batch: number; max_batch_size: number };
  write_lag_p99?: number;
  steal_percent: number;
  completed: number;
  failed: number;
  connect_failed: number;
  tokens_expected: number;
  tokens_received: number;
  durability?: Omit<DurabilityResult, 'sessions' | 'problems'> & { repeats_passed: number };
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
    /** Runs per level and relay. */
    repeat: number;
    expected_reply_ms: number;
  };
  runs: LoadRun[];
  /** `runs` summarized per level and relay (see `summarizeLevels`), for readers of the file. */
  medians?: LevelSummary[];
  idle: IdleRun[];
  profiles: { sessions: number; thread: string; top: ProfileSummary }[];
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

/** The median of what `pick` reads from each run, rounded for the report; undefined when none has it. */
function medianOf(runs: LoadRun[], pick: (run: LoadRun) => number | undefined): number | undefined {
  const values = runs.map(pick).filter((value): value is number => value !== undefined);
  return values.length === 0 ? undefined : round(median(values));
}

const sum = (runs: LoadRun[], pick: (run: LoadRun) => number) =>
  runs.reduce((total, run) => total + pick(run), 0);

/** The runs of one level and relay, summarized (see `LevelSummary`). */
export function summarizeLevel(runs: LoadRun[]): LevelSummary {
  const sorted = [...runs].sort((a, b) => a.repeat - b.repeat);
  const first = sorted[0];
  if (!first) throw new Error('summarizeLevel needs at least one run');
  const of = (pick: (run: LoadRun) => number | undefined) => medianOf(sorted, pick);
  const required = (pick: (run: LoadRun) => number) => of(pick)!;
  const writers = sorted.flatMap((run) =>
    run.server.event_writer ? [run.server.event_writer] : [],
  );
  const checks = sorted.flatMap((run) => (run.durability ? [run.durability] : []));
  const checked = (pick: (check: DurabilityResult) => number) =>
    checks.reduce((total, check) => total + pick(check), 0);
  return {
    relay: first.relay,
    sessions: first.sessions,
    repeats: sorted.length,
    added_latency_ms: {
      p50: required((run) => run.added_latency_ms.p50),
      p99: required((run) => run.added_latency_ms.p99),
      max: required((run) => run.added_latency_ms.max),
    },
    added_p99_per_repeat: sorted.map((run) => run.added_latency_ms.p99),
    first_token_added_p99: of((run) => run.first_token_added_ms?.p99),
    later_tokens_added_p99: of((run) => run.later_tokens_added_ms?.p99),
    first_token_ms: {
      p50: required((run) => run.first_token_ms.p50),
      p99: required((run) => run.first_token_ms.p99),
    },
    cpu_seconds: required((run) => run.server.cpu_seconds),
    database_cpu_seconds: of((run) => run.server.database_cpu_seconds),
    peak_rss_mib: required((run) => run.server.peak_rss_mib),
    loop_delay_p99: of((run) => run.server.event_loop_delay_ms?.p99),
    write_batches:
      writers.length === 0
        ? undefined
        : {
            batches: round(median(writers.map((writer) => writer.batches))),
            rows_per_batch: round(
              median(writers.map((writer) => writer.rows / Math.max(1, writer.batches))),
            ),
            max_batch_size: round(median(writers.map((writer) => writer.max_batch_size))),
          },
    write_lag_p99: of((run) => run.server.event_writer?.lag_ms.p99),
    steal_percent: Math.round(median(sorted.map((run) => run.machine.steal_percent)) * 10) / 10,
    completed: sum(sorted, (run) => run.completed),
    failed: sum(sorted, (run) => run.failed),
    connect_failed: sum(sorted, (run) => run.connect_failed),
    tokens_expected: sum(sorted, (run) => run.tokens_expected),
    tokens_received: sum(sorted, (run) => run.tokens_received),
    durability:
      checks.length === 0
        ? undefined
        : {
            // Every repeat must have been checked and passed.
            passed: checks.length === sorted.length && checks.every((check) => check.passed),
            repeats_passed: checks.filter((check) => check.passed).length,
            events_seen: checked((check) => check.events_seen),
            events_found: checked((check) => check.events_found),
            missing: checked((check) => check.missing),
            duplicated: checked((check) => check.duplicated),
            out_of_order: checked((check) => check.out_of_order),
          },
  };
}

/** One summary per level and relay, in the order the runs first appear (level by level). */
export function summarizeLevels(runs: LoadRun[]): LevelSummary[] {
  const groups = new Map<string, LoadRun[]>();
  for (const run of runs) {
    const key = `${run.sessions} ${run.relay}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map(summarizeLevel);
}

/**
 * Highest session count whose median added-latency p99 is ≤ 100 ms with every session of every
 * repeat complete.
 */
export function capacity(levels: LevelSummary[], relay: string): number {
  let best = 0;
  for (const level of levels
    .filter((candidate) => candidate.relay === relay)
    .sort((a, b) => a.sessions - b.sessions)) {
    if (level.added_latency_ms.p99 <= 100 && level.failed === 0 && level.connect_failed === 0)
      best = level.sessions;
    else break;
  }
  return best;
}

/**
 * "p99 199 ms"; over several repeats "median p99 199 ms of 151 / 260 / 199 ms" (repeat order).
 */
function medianText(values: number[], what = ''): string {
  const middle = round(median(values));
  const label = what ? `${what} ` : '';
  return values.length === 1
    ? `${label}${middle} ms`
    : `median ${label}${middle} ms of ${values.join(' / ')} ms`;
}

/**
 * Checks the targets against the medians over repeats; the targets about failures, lost tokens
 * and durability hold only if they hold in every repeat.
 */
export function evaluateTargets(result: BenchResult): Target[] {
  const levels = summarizeLevels(result.runs);
  const find = (relay: string, sessions: number) =>
    levels.find((level) => level.relay === relay && level.sessions === sessions);
  /** What `pick` reads from each repeat of a level, in repeat order. */
  const perRepeat = (relay: string, sessions: number, pick: (run: LoadRun) => number) =>
    result.runs
      .filter((run) => run.relay === relay && run.sessions === sessions)
      .sort((a, b) => a.repeat - b.repeat)
      .map(pick);
  const targets: Target[] = [];
  const full = find('parley', 1000);
  const fullFloor = find('floor', 1000);
  if (full) {
    const limit = fullFloor ? 1.5 * fullFloor.added_latency_ms.p99 : Number.NaN;
    const ok =
      full.failed === 0 &&
      full.connect_failed === 0 &&
      full.tokens_received === full.tokens_expected &&
      full.durability?.passed === true;
    const durability = !full.durability?.passed
      ? 'FAILED'
      : full.repeats > 1
        ? `passed ${full.durability.repeats_passed}/${full.repeats}`
        : 'passed';
    targets.push({
      target: '1,000 sessions: none failed, no token lost, durability check passes',
      measured:
        (full.repeats > 1 ? `all ${full.repeats} repeats: ` : '') +
        `${full.completed}/${full.sessions * full.repeats} complete, ${full.tokens_received}/${full.tokens_expected} tokens, durability ${durability}`,
      met: ok,
    });
    const p99s = (relay: string) => perRepeat(relay, 1000, (run) => run.added_latency_ms.p99);
    targets.push({
      target: '1,000 sessions: added-latency p99 ≤ 1.5 × floor p99',
      measured: `${medianText(p99s('parley'))} vs floor ${fullFloor ? medianText(p99s('floor')) : '?'} (limit ${Number.isFinite(limit) ? limit.toFixed(1) : '?'} ms)`,
      met: fullFloor ? full.added_latency_ms.p99 <= limit : null,
    });
  }
  const mid = find('parley', 300);
  const midFloor = find('floor', 300);
  if (mid) {
    targets.push({
      target: '300 sessions: added-latency p99 ≤ 25 ms',
      measured: medianText(perRepeat('parley', 300, (run) => run.added_latency_ms.p99)),
      met: mid.added_latency_ms.p99 <= 25,
    });
    const ttft = (relay: string) => perRepeat(relay, 300, (run) => run.first_token_ms.p50);
    targets.push({
      target: '300 sessions: time to first token p50 ≤ floor + 10 ms',
      measured: `${medianText(ttft('parley'))} vs floor ${midFloor ? medianText(ttft('floor')) : '?'}`,
      met: midFloor ? mid.first_token_ms.p50 <= midFloor.first_token_ms.p50 + 10 : null,
    });
  }
  const parleyCapacity = capacity(levels, 'parley');
  const floorCapacity = capacity(levels, 'floor');
  if (floorCapacity > 0) {
    const top = Math.max(...result.settings.levels);
    const repeats = Math.max(...levels.map((level) => level.repeats));
    const notes = [
      ...(repeats > 1 ? [`median p99 of ${repeats} repeats per level`] : []),
      ...(floorCapacity === top ? [`the floor passed every level up to ${top}`] : []),
    ];
    targets.push({
      target: 'sessions at p99 ≤ 100 ms, Parley ÷ floor ≥ 0.7',
      measured:
        `${parleyCapacity} ÷ ${floorCapacity} = ${(parleyCapacity / floorCapacity).toFixed(2)}` +
        (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
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
  const loaded = full ?? levels.filter((level) => level.relay === 'parley').at(-1);
  if (loaded?.write_lag_p99 !== undefined) {
    const writers = result.runs
      .filter((run) => run.relay === 'parley' && run.sessions === loaded.sessions)
      .sort((a, b) => a.repeat - b.repeat)
      .flatMap((run) => (run.server.event_writer ? [run.server.event_writer] : []));
    const lags = writers.map((writer) => round(writer.lag_ms.p99));
    const max = round(Math.max(...writers.map((writer) => writer.lag_ms.max)));
    targets.push({
      target: `event writes keep up at ${loaded.sessions} sessions (${result.database}): lag p99 ≤ 1 s`,
      measured: `${medianText(lags, 'p99')}, max ${max} ms`,
      met: loaded.write_lag_p99 <= 1000,
    });
  }
  return targets;
}

export function renderReport(result: BenchResult): string {
  result.targets ??= evaluateTargets(result);
  const { machine, settings } = result;
  const levels = summarizeLevels(result.runs);
  const repeated = settings.repeat > 1;
  const steal = result.runs.map((run) => run.machine.steal_percent);
  const stealRange =
    steal.length === 0
      ? ''
      : Math.min(...steal) === Math.max(...steal)
        ? `; CPU steal ${Math.min(...steal)} %`
        : `; CPU steal ${Math.min(...steal)}–${Math.max(...steal)} % across runs`;
  const lines: string[] = [];
  lines.push(`## Parley benchmark — ${result.database}, ${result.mode} run`);
  lines.push('');
  lines.push(
    `${machine.cores} cores (${machine.cpu}), ${machine.memory_gib} GiB, Node ${machine.node}, ${machine.platform}; ` +
      `commit ${result.commit}; ${result.date.slice(0, 16).replace('T', ' ')} UTC; ${result.duration_s} s; ` +
      `${repeated ? `${settings.repeat} runs` : 'one run'} per level and relay${stealRange}.`,
  );
  lines.push(
    `Each session sends one message; the upstream streams ${settings.tokens} tokens at ${settings.rate} tokens/s; ` +
      `starts are spread over ${settings.rampMs} ms. Upstream, relay and load generator share the machine.`,
  );
  lines.push('');
  if (repeated) {
    lines.push(
      `Figures are medians of ${settings.repeat} repeats (the relays take turns: floor, Parley, floor, Parley, …); ` +
        'tokens, failed and durability count every repeat; ratios compare with the floor’s medians; ' +
        'steal is the share of the machine’s CPU time the hypervisor gave to other guests during the load.',
    );
    lines.push('');
  }
  const columns = [
    ['sessions', '---:'],
    ['relay', '---'],
    ['added p50', '---:'],
    ['added p99', '---:'],
    ...(repeated ? [['p99 per repeat', '---:']] : []),
    ['added max', '---:'],
    ['added p99: first tokens / the rest', '---:'],
    ['first token p50 / p99', '---:'],
    ['tokens', '---:'],
    ['failed', '---:'],
    ['server CPU', '---:'],
    ['steal', '---:'],
    ['peak RSS', '---:'],
    ['loop delay p99', '---:'],
    ['write batches (rows/max)', '---:'],
    ['write lag p99', '---:'],
    ['durability', '---'],
  ];
  lines.push(`| ${columns.map(([name]) => name).join(' | ')} |`);
  lines.push(`| ${columns.map(([, align]) => align).join(' | ')} |`);
  for (const level of levels) {
    const floor =
      level.relay === 'floor'
        ? undefined
        : levels.find((other) => other.relay === 'floor' && other.sessions === level.sessions);
    const added = level.added_latency_ms;
    const writes = level.write_batches;
    const tokens =
      level.tokens_received === level.tokens_expected
        ? `${level.tokens_received} ✓`
        : `${level.tokens_received}/${level.tokens_expected} ✗`;
    const durability = level.durability;
    const cells = [
      level.sessions,
      level.relay,
      `${added.p50} ms${ratio(added.p50, floor?.added_latency_ms.p50)}`,
      `**${added.p99} ms**${ratio(added.p99, floor?.added_latency_ms.p99)}`,
      ...(repeated ? [`${level.added_p99_per_repeat.join(' / ')} ms`] : []),
      `${added.max} ms`,
      level.first_token_added_p99 !== undefined && level.later_tokens_added_p99 !== undefined
        ? `${level.first_token_added_p99} / ${level.later_tokens_added_p99} ms`
        : '—',
      `${level.first_token_ms.p50} / ${level.first_token_ms.p99} ms`,
      tokens,
      level.failed + level.connect_failed,
      `${level.cpu_seconds.toFixed(1)} s${ratio(level.cpu_seconds, floor?.cpu_seconds)}` +
        (level.database_cpu_seconds === undefined
          ? ''
          : ` + ${level.database_cpu_seconds.toFixed(1)} s Postgres`),
      `${level.steal_percent.toFixed(1)} %`,
      `${level.peak_rss_mib} MiB`,
      `${level.loop_delay_p99 ?? '?'} ms`,
      writes
        ? `${writes.batches} (${writes.rows_per_batch.toFixed(1)}/${writes.max_batch_size})`
        : '—',
      level.write_lag_p99 === undefined ? '—' : `${level.write_lag_p99} ms`,
      durability
        ? durability.passed
          ? `✓ ${durability.events_found}/${durability.events_seen}`
          : `✗ missing ${durability.missing}, dup ${durability.duplicated}, order ${durability.out_of_order}` +
            (repeated ? ` (${durability.repeats_passed}/${level.repeats} repeats passed)` : '')
        : '—',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
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
      `CPU profile of Parley at ${profile.sessions} sessions, ${profile.thread} (${profile.top.total_ms} ms on CPU over the load), self time by package:`,
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
