/**
 * Child processes of the benchmark and what the harness reads about them from /proc. Every
 * process is started with the open-file limit raised to the hard limit (thousands of sockets)
 * and is killed by its PID handle by whoever started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Everything it wrote to stderr (and stdout lines that were not JSON), for failure messages. */
  output(): string;
  /** Resolves with the next JSON line on stdout that satisfies `match`. */
  nextLine<T = Record<string, unknown>>(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<T>;
  /** Writes one JSON line to its stdin. */
  command(value: Record<string, unknown>): void;
  /** Kills it (SIGKILL unless told) and waits for the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Every child started and not yet exited, so an interrupted run can stop them all. */
const running = new Set<ChildProcess>();

/**
 * Kills (by PID) every child still running: for a harness stopped by a signal, whose children
 * would otherwise go on loading the machine.
 */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Starts `node <args>` under `bash -c 'ulimit -n <hard>; exec …'`, so the PID is node's own. */
export function startNode(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): BenchProcess {
  const quoted = [process.execPath, ...args]
    .map((part) => `'${part.replaceAll("'", "'\\''")}'`)
    .join(' ');
  const child = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${quoted}`], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<{
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: never) => void;
  }>();
  const backlog: Record<string, unknown>[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text);
    } catch {
      output += `${text}\n`;
      return;
    }
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line as never);
        return;
      }
    }
    backlog.push(line);
  });
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  return {
    name,
    child,
    pid: child.pid!,
    output: () => output,
    nextLine<T>(match: (line: Record<string, unknown>) => boolean, timeoutMs = 120_000) {
      const index = backlog.findIndex(match);
      if (index !== -1) return Promise.resolve(backlog.splice(index, 1)[0] as T);
      return new Promise<T>((resolve, reject) => {
        const waiter = { match, resolve: resolve as (line: never) => void };
        waiters.add(waiter);
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${name}: no answer within ${timeoutMs} ms\n${output.slice(-4000)}`));
        }, timeoutMs);
        void exited.then(() => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(
            new Error(
              `${name} exited (${child.exitCode ?? child.signalCode})\n${output.slice(-4000)}`,
            ),
          );
        });
        const settle = waiter.resolve;
        waiter.resolve = (line) => {
          clearTimeout(timer);
          settle(line);
        };
      });
    },
    command(value) {
      child.stdin!.write(`${JSON.stringify(value)}\n`);
    },
    async stop(signal = 'SIGKILL', graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      if (signal === 'SIGKILL') return exited;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `url` answers 2xx, or throws with the process's output. */
export async function waitForHttp(
  url: string,
  process: BenchProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process.child.exitCode !== null)
      throw new Error(`${process.name} exited early:\n${process.output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${process.name} did not answer ${url}:\n${process.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const clockTicksPerSecond = 100;

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
export function readProcess(pid: number): {
  cpuSeconds: number;
  rssBytes: number;
  peakRssBytes: number;
} {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds, rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** Samples a process every `intervalMs` until stopped: CPU used and the highest RSS seen. */
export function sampleProcess(pid: number, intervalMs = 200) {
  const first = readProcess(pid);
  let peakRss = first.rssBytes;
  let last = first;
  const timer = setInterval(() => {
    try {
      last = readProcess(pid);
      peakRss = Math.max(peakRss, last.rssBytes);
    } catch {
      // the process is gone; keep the last figures
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        last = readProcess(pid);
        peakRss = Math.max(peakRss, last.rssBytes);
      } catch {
        // gone
      }
      return { cpuSeconds: last.cpuSeconds - first.cpuSeconds, peakRssBytes: peakRss };
    },
  };
}

/** The machine's CPU time since boot, in clock ticks, from the aggregate `cpu` line of /proc/stat. */
export interface MachineCpuTimes {
  /** user + nice + system + irq + softirq: time spent running something. */
  busy: number;
  /** idle + iowait: time no task wanted a CPU (or waited on I/O). */
  idle: number;
  /** Time the hypervisor ran someone else while this VM had work to do. */
  steal: number;
  total: number;
}

export function readMachineCpu(): MachineCpuTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
  // counted in user and nice, so it is left out of the total.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy, idle: idle + iowait, steal, total: busy + idle + iowait + steal };
}

/** Share of the machine's CPU time over a window, in percent with one decimal. */
export interface MachineUsage {
  steal_percent: number;
  busy_percent: number;
}

/** Reads /proc/stat now; `stop()` reads it again and returns the shares over the window between. */
export function sampleMachine() {
  const first = readMachineCpu();
  return {
    stop(): MachineUsage {
      const last = readMachineCpu();
      const total = last.total - first.total;
      const percent = (ticks: number) => (total > 0 ? Math.round((ticks / total) * 1000) / 10 : 0);
      return {
        steal_percent: percent(last.steal - first.steal),
        busy_percent: percent(last.busy - first.busy),
      };
    },
  };
}

/**
 * CPU seconds used over a window by every process running `command` (the Postgres server: its
 * postmaster, background workers and the backends of the relay's connections). Processes that
 * start during the window count from zero; one that ends during it loses its share.
 */
export function sampleProcessesNamed(command: string) {
  const read = () => {
    const seconds = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== command) continue;
        seconds.set(pid, readProcess(pid).cpuSeconds);
      } catch {
        // gone meanwhile
      }
    }
    return seconds;
  };
  const first = read();
  return {
    stop(): number {
      let total = 0;
      for (const [pid, seconds] of read()) total += seconds - (first.get(pid) ?? 0);
      return Math.round(total * 100) / 100;
    },
  };
}
