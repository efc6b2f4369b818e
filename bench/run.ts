/**
 * `npm run bench`: measures Parley against a floor (a bare relay) on this machine, in one run.
 *
 *   npm run bench                          full run on PGlite, 3 repeats per level (6–9 min)
 *   npm run bench -- --repeat 1            one run per level (≈ 3 min; verdicts less robust)
 *   npm run bench -- --db postgres         on Postgres (DATABASE_ADMIN_URL or postgres://postgres@127.0.0.1:5432/postgres)
 *   npm run bench -- --quick               a short run for development, one repeat (< 1 min)
 *   npm run bench -- --smoke               a few sessions, to prove the harness works (seconds)
 *   npm run bench -- --profile 1000        also writes a CPU profile of Parley at 1,000 sessions
 *                                          (of its first repeat; that run carries the profiler)
 *
 * Repeats: the machine is a VM whose cores are shared with other guests, so one run of a level
 * can be far off the next (CPU steal, the `st` of vmstat, comes and goes). Each level therefore
 * runs `--repeat` times with the relays taking turns (floor, Parley, floor, Parley, …) so both
 * see the same conditions; the report and the targets use the medians, and every run's figures,
 * with the steal measured over its load window, stay in the JSON.
 *
 * Processes: the bench upstream, the relay under test (Parley as `node src/main.ts`, or the
 * floor), and the load generator, each its own process, all on 127.0.0.1, all killed by PID at
 * the end of each step. Results: bench/results/<db>[-quick|-smoke].json and .md.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { checkDurability, type DurabilityResult } from './durability.ts';
import type { SessionTranscript } from './load.ts';
import {
  killAll,
  readProcess,
  sampleMachine,
  sampleProcessesNamed,
  sampleProcess,
  startNode,
  waitForHttp,
  type BenchProcess,
} from './processes.ts';
import { summarizeProfile } from './profile-summary.ts';
import {
  evaluateTargets,
  renderReport,
  summarizeLevels,
  type BenchResult,
  type LoadRun,
  type IdleRun,
} from './report.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = (file: string) => path.join(root, 'bench', file);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    db: { type: 'string', default: 'pglite' },
    'database-url': { type: 'string' },
    levels: { type: 'string' },
    idle: { type: 'string' },
    tokens: { type: 'string' },
    rate: { type: 'string' },
    'ramp-ms': { type: 'string' },
    profile: { type: 'string' },
    only: { type: 'string' },
    repeat: { type: 'string' },
    out: { type: 'string' },
  },
});

const mode = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
const defaults = {
  full: {
    levels: [100, 300, 500, 700, 1000, 1500],
    idle: [1000, 5000],
    tokens: 100,
    rate: 20,
    rampMs: 2000,
    repeat: 3,
  },
  quick: { levels: [50, 300], idle: [500], tokens: 40, rate: 20, rampMs: 1000, repeat: 1 },
  smoke: { levels: [4], idle: [20], tokens: 10, rate: 50, rampMs: 100, repeat: 1 },
}[mode];
const numbers = (text: string | undefined, fallback: number[]) =>
  text === undefined ? fallback : text.split(',').filter(Boolean).map(Number);
const settings = {
  levels: numbers(values.levels, defaults.levels),
  idle: numbers(values.idle, defaults.idle),
  tokens: Number(values.tokens ?? defaults.tokens),
  rate: Number(values.rate ?? defaults.rate),
  rampMs: Number(values['ramp-ms'] ?? defaults.rampMs),
  repeat: Number(values.repeat ?? defaults.repeat),
};
if (!Number.isInteger(settings.repeat) || settings.repeat < 1)
  throw new Error(`--repeat must be a whole number ≥ 1, not ${values.repeat}`);
const db = values.db === 'postgres' ? 'postgres' : 'pglite';
const adminUrl =
  values['database-url'] ??
  process.env.DATABASE_ADMIN_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const relays =
  values.only === 'parley' ? ['parley'] : values.only === 'floor' ? ['floor'] : ['floor', 'parley'];
const outDir = values.out ?? here('results');
const profileAt = values.profile ? Number(values.profile) : undefined;
const workDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'));
const expectedReplyMs = (settings.tokens / settings.rate) * 1000;

const log = (text: string) => process.stderr.write(`[bench] ${text}\n`);

/** A fresh database for one Parley process: a new PGlite directory, or a new Postgres database. */
async function freshDatabase(): Promise<{
  env: Record<string, string>;
  pgliteDir?: string;
  databaseUrl?: string;
  drop(): Promise<void>;
}> {
  if (db === 'pglite') {
    const dir = mkdtempSync(path.join(workDir, 'pglite-'));
    return {
      env: { PGLITE_DIR: dir },
      pgliteDir: dir,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `parley_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    databaseUrl: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

interface Relay {
  process: BenchProcess;
  url: string;
  metrics(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  /** Parley only: the database to check afterwards. */
  database?: Awaited<ReturnType<typeof freshDatabase>>;
}

async function startRelay(
  kind: string,
  upstreamUrl: string,
  { profile = false, collectable = false } = {},
): Promise<Relay> {
  const port = await unusedPort();
  const collect = collectable ? ['--expose-gc', '--import', here('collect-on-signal.ts')] : [];
  if (kind === 'floor') {
    const floor = startNode('floor', [
      ...collect,
      here('floor-relay.ts'),
      '--port',
      String(port),
      '--upstream',
      `${upstreamUrl}/v1`,
    ]);
    await floor.nextLine((line) => 'port' in line, 30_000);
    const url = `http://127.0.0.1:${port}`;
    return {
      process: floor,
      url,
      metrics: async () =>
        (await fetch(`${url}/metrics`)).json() as Promise<Record<string, unknown>>,
      stop: () => floor.stop(),
    };
  }
  const database = await freshDatabase();
  const profileDir = path.join(workDir, `profile-${Date.now()}`);
  const args = profile
    ? ['--cpu-prof', '--cpu-prof-dir', profileDir, path.join(root, 'src/main.ts')]
    : [...collect, path.join(root, 'src/main.ts')];
  const parley = startNode('parley', args, {
    ...database.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LLM_PROVIDER: 'openai-compatible',
    LLM_BASE_URL: `${upstreamUrl}/v1`,
    LLM_MODEL: 'bench',
    // Sessions stay open until the measurement is over (the harness then kills the server), so
    // no session ends, and no summary job runs, while figures are taken.
    SESSION_END_GRACE_MS: '600000',
    WS_RATE_LIMIT_PER_SECOND: '100',
    WS_RATE_LIMIT_BURST: '100',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, parley);
  let stopped = false;
  return {
    process: parley,
    url,
    database,
    metrics: async () => (await fetch(`${url}/metrics`)).json() as Promise<Record<string, unknown>>,
    async stop() {
      // Called again from the clean-up path of a run; the profiles are read once.
      if (stopped) return;
      stopped = true;
      if (profile) {
        // --cpu-prof writes the profile on a normal exit only.
        await parley.stop('SIGTERM', 60_000);
        // One file per thread: CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile, 0 = main.
        const exitedAt = performance.now();
        const threads: (typeof profiles)[number][] = [];
        for (const file of readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))) {
          const threadId = Number(file.split('.')[4]);
          const thread = threadId === 0 ? 'main thread' : `worker thread ${threadId}`;
          // Kept (not committed) for a closer look: open it in Chrome DevTools → Performance.
          const kept = path.join(
            outDir,
            'profiles',
            `${db}-${profileAt}-sessions-${threadId === 0 ? 'main' : `worker-${threadId}`}.cpuprofile`,
          );
          mkdirSync(path.dirname(kept), { recursive: true });
          copyFileSync(path.join(profileDir, file), kept);
          threads.push({
            sessions: profileAt!,
            thread,
            file: kept,
            window: { fromEndMs: exitedAt - loadWindow.start, toEndMs: exitedAt - loadWindow.end },
          });
        }
        // The window counts back from the main thread's end; a worker's profile ends earlier,
        // when the thread is closed during shutdown (the clock is the same for all threads).
        const endOf = (file: string) =>
          (JSON.parse(readFileSync(file, 'utf8')) as { endTime: number }).endTime;
        const main = threads.find((entry) => entry.thread === 'main thread');
        if (main) {
          const mainEnd = endOf(main.file);
          for (const entry of threads) {
            if (entry === main) continue;
            const earlierMs = (mainEnd - endOf(entry.file)) / 1000;
            entry.window = {
              fromEndMs: entry.window.fromEndMs - earlierMs,
              toEndMs: entry.window.toEndMs - earlierMs,
            };
          }
        }
        profiles.push(...threads.sort((a, b) => a.file.localeCompare(b.file)));
      } else {
        await parley.stop();
      }
    },
  };
}

const profiles: {
  sessions: number;
  thread: string;
  file: string;
  window: { fromEndMs: number; toEndMs: number };
}[] = [];
/** When the last load phase started and ended (performance.now()), to cut the profile to it. */
const loadWindow = { start: 0, end: 0 };

function startLoad(relayUrl: string, upstreamUrl: string): BenchProcess {
  return startNode('load', [here('load.ts'), '--url', relayUrl, '--upstream', upstreamUrl]);
}

async function loadRun(
  kind: string,
  sessions: number,
  repeat: number,
  upstreamUrl: string,
): Promise<LoadRun> {
  // One profile per run of the harness; the profiler slows the run it watches.
  const profile = kind === 'parley' && profileAt === sessions && repeat === 1;
  const relay = await startRelay(kind, upstreamUrl, { profile });
  const load = startLoad(relay.url, upstreamUrl);
  try {
    await load.nextLine((line) => line.event === 'started', 30_000);
    load.command({ cmd: 'connect', count: sessions });
    const connected = await load.nextLine<{ total: number; failed: number; ms: number }>(
      (line) => line.event === 'connected',
    );
    await relay.metrics(); // starts the interval the next scrape reports on
    const sampler = sampleProcess(relay.process.pid);
    const machineSampler = sampleMachine();
    const databaseSampler =
      kind === 'parley' && db === 'postgres' ? sampleProcessesNamed('postgres') : undefined;
    loadWindow.start = performance.now();
    const transcriptPath = path.join(workDir, `transcripts-${kind}-${sessions}-${repeat}.json`);
    load.command({
      cmd: 'run',
      sessions: connected.total,
      rampMs: settings.rampMs,
      tokensPerReply: settings.tokens,
      expectedReplyMs,
      timeoutMs: 30_000,
      transcriptPath,
    });
    const result = await load.nextLine<Record<string, unknown>>(
      (line) => line.event === 'result',
      settings.rampMs + expectedReplyMs + 90_000,
    );
    const usage = sampler.stop();
    const machine = machineSampler.stop();
    const databaseCpuSeconds = databaseSampler?.stop();
    loadWindow.end = performance.now();
    const metrics = await relay.metrics();
    load.command({ cmd: 'exit' });
    await load.nextLine((line) => line.event === 'exited', 30_000).catch(() => undefined);
    await load.stop();
    await relay.stop();
    let durability: DurabilityResult | undefined;
    if (relay.database) {
      const transcripts = JSON.parse(readFileSync(transcriptPath, 'utf8')) as SessionTranscript[];
      durability = await checkDurability({
        transcripts,
        pgliteDir: relay.database.pgliteDir,
        databaseUrl: relay.database.databaseUrl,
      });
    }
    const { event: _event, ...figures } = result;
    return {
      ...(figures as Omit<
        LoadRun,
        'relay' | 'repeat' | 'connect_failed' | 'connect_ms' | 'server' | 'durability' | 'machine'
      >),
      relay: kind,
      // The level, even when fewer sessions connected (the load generator counts those it ran):
      // repeats are grouped by level, and connect_failed tells the shortfall.
      sessions,
      repeat,
      connect_failed: connected.failed,
      connect_ms: connected.ms,
      server: {
        cpu_seconds: Math.round(usage.cpuSeconds * 100) / 100,
        ...(databaseCpuSeconds === undefined ? {} : { database_cpu_seconds: databaseCpuSeconds }),
        cpu_percent_of_one_core: Math.round(
          (usage.cpuSeconds / ((settings.rampMs + expectedReplyMs) / 1000)) * 100,
        ),
        peak_rss_mib: Math.round(usage.peakRssBytes / 1048576),
        event_loop_delay_ms:
          metrics.event_loop_delay_ms as LoadRun['server']['event_loop_delay_ms'],
        event_writer: metrics.event_writer as LoadRun['server']['event_writer'],
      },
      durability,
      machine,
    };
  } finally {
    await load.stop();
    await relay.stop().catch(() => undefined);
    await relay.database?.drop();
  }
}

/**
 * RSS after a garbage collection, once two readings a second apart differ by less than 1 MiB
 * (at most 30 s): a server that has just started (PGlite creating its database, say) goes on
 * giving memory back for a while.
 */
async function settledRss(pid: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  let previous = readProcess(pid).rssBytes;
  for (let waited = 0; waited < 30_000; waited += 1_000) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const current = readProcess(pid).rssBytes;
    if (Math.abs(current - previous) < 1_048_576) return current;
    previous = current;
  }
  return previous;
}

/** Sessions connected before the idle baseline is read. */
const IDLE_WARMUP_SESSIONS = 20;

async function idleRun(kind: string, counts: number[], upstreamUrl: string): Promise<IdleRun[]> {
  const relay = await startRelay(kind, upstreamUrl, { collectable: true });
  const load = startLoad(relay.url, upstreamUrl);
  const results: IdleRun[] = [];
  try {
    await load.nextLine((line) => line.event === 'started', 30_000);
    // A few sessions first: a server that has just started (PGlite creating its database, say)
    // gives memory back once it does some work, which would otherwise count against sessions.
    load.command({ cmd: 'connect', count: IDLE_WARMUP_SESSIONS });
    const warm = await load.nextLine<{ total: number }>((line) => line.event === 'connected');
    const baseline = await settledRss(relay.process.pid);
    const baselineHeap = Number((await relay.metrics()).heap_used_bytes);
    let connected = warm.total;
    let previous: { rss: number; connected: number } | undefined;
    for (const count of counts) {
      load.command({ cmd: 'connect', count: count - connected });
      const answer = await load.nextLine<{ total: number; failed: number; ms: number }>(
        (line) => line.event === 'connected',
        300_000,
      );
      connected = answer.total;
      // Let allocation from opening sessions settle (and the collector run) before reading RSS.
      const rss = await settledRss(relay.process.pid);
      const added = previous
        ? Math.round(
            ((rss - previous.rss) / Math.max(1, answer.total - previous.connected) / 1024) * 10,
          ) / 10
        : undefined;
      previous = { rss, connected: answer.total };
      const heap = Number((await relay.metrics()).heap_used_bytes);
      results.push({
        relay: kind,
        sessions: count,
        connected: answer.total,
        failed: answer.failed,
        rss_mib: Math.round(rss / 1048576),
        baseline_rss_mib: Math.round(baseline / 1048576),
        kib_per_session:
          Math.round(((rss - baseline) / Math.max(1, answer.total - warm.total) / 1024) * 10) / 10,
        ...(added === undefined ? {} : { added_kib_per_session: added }),
        heap_kib_per_session:
          Math.round(((heap - baselineHeap) / Math.max(1, answer.total - warm.total) / 1024) * 10) /
          10,
      });
      log(`idle ${kind} ${count}: ${results.at(-1)!.kib_per_session} KiB/session`);
    }
    load.command({ cmd: 'exit' });
    await load.nextLine((line) => line.event === 'exited', 60_000).catch(() => undefined);
    return results;
  } finally {
    await load.stop();
    await relay.stop().catch(() => undefined);
    await relay.database?.drop();
  }
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--', 'src', 'bench', ':!bench/results'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    ).trim();
    return dirty ? `${commit} (+ uncommitted changes)` : commit;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const upstream = startNode('upstream', [
    here('upstream.ts'),
    '--tokens',
    String(settings.tokens),
    '--rate',
    String(settings.rate),
  ]);
  try {
    const { port } = await upstream.nextLine<{ port: number }>((line) => 'port' in line, 30_000);
    const upstreamUrl = `http://127.0.0.1:${port}`;
    const runs: LoadRun[] = [];
    for (const sessions of settings.levels) {
      // Relays take turns within a level, so a noisy stretch of the machine falls on both.
      for (let repeat = 1; repeat <= settings.repeat; repeat += 1) {
        for (const kind of relays) {
          log(
            `${kind}: ${sessions} sessions × ${settings.tokens} tokens at ${settings.rate}/s, repeat ${repeat}/${settings.repeat}`,
          );
          const run = await loadRun(kind, sessions, repeat, upstreamUrl);
          runs.push(run);
          log(
            `  p50 ${run.added_latency_ms.p50} p99 ${run.added_latency_ms.p99} ms, ttft p50 ${run.first_token_ms.p50} ms, ` +
              `${run.completed}/${run.sessions} ok, cpu ${run.server.cpu_seconds}s, ` +
              `steal ${run.machine.steal_percent} %, machine busy ${run.machine.busy_percent} %` +
              (run.durability ? `, durability ${run.durability.passed ? 'ok' : 'FAILED'}` : ''),
          );
        }
      }
      if (settings.repeat > 1)
        for (const level of summarizeLevels(runs).filter((entry) => entry.sessions === sessions))
          log(
            `${level.relay} ${sessions}: median p99 ${level.added_latency_ms.p99} ms ` +
              `(${level.added_p99_per_repeat.join(' / ')}), median steal ${level.steal_percent} %`,
          );
    }
    const idle: IdleRun[] = [];
    if (settings.idle.length > 0)
      for (const kind of relays) idle.push(...(await idleRun(kind, settings.idle, upstreamUrl)));
    const result: BenchResult = {
      mode,
      database: db,
      date: new Date().toISOString(),
      commit: gitCommit(),
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model ?? 'unknown',
        memory_gib: Math.round(totalmem() / 1024 ** 3),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      settings: { ...settings, expected_reply_ms: expectedReplyMs },
      runs,
      medians: summarizeLevels(runs),
      idle,
      profiles: profiles.map(({ sessions, thread, file, window }) => ({
        sessions,
        thread,
        top: summarizeProfile(file, { window }),
      })),
      duration_s: Math.round((Date.now() - startedAt) / 1000),
    };
    result.targets = evaluateTargets(result);
    mkdirSync(outDir, { recursive: true });
    const name = mode === 'full' ? db : `${db}-${mode}`;
    writeFileSync(path.join(outDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(path.join(outDir, `${name}.md`), renderReport(result));
    log(`results: ${path.join(outDir, `${name}.json`)} and .md (${result.duration_s} s)`);
    process.stdout.write(renderReport(result));
  } finally {
    await upstream.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

// Stopped by a signal, the harness takes its children with it (they were started by PID).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    rmSync(workDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

await main();

/**
 * A free port below Linux's ephemeral range (32768+), so the thousands of client sockets of a
 * run cannot take it between the check and the relay's listen.
 */
async function unusedPort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
