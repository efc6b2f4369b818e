import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTool } from './types.ts';

/** How long the event loop is watched to measure how busy and how late it is right now. */
const sampleWindowMs = 50;

export interface SystemMetrics {
  active_sessions: number;
  connected_sockets: number;
  process: {
    pid: number;
    node_version: string;
    uptime_seconds: number;
    uptime: string;
    rss_bytes: number;
    rss_mib: number;
    heap_used_bytes: number;
    heap_used_mib: number;
    heap_total_bytes: number;
    heap_total_mib: number;
    external_bytes: number;
    external_mib: number;
  };
  host: {
    platform: string;
    arch: string;
    cpu_count: number;
    /** 1, 5 and 15 minute load averages; always zero on Windows. */
    load_average: { one_minute: number; five_minutes: number; fifteen_minutes: number };
    total_memory_bytes: number;
    total_memory_mib: number;
    free_memory_bytes: number;
    free_memory_mib: number;
    uptime_seconds: number;
  };
  event_loop: {
    window_ms: number;
    /** Share of the window the loop spent running code rather than waiting, 0 to 1. */
    utilization: number;
    /** How much later than asked a timer fired at the end of the window. */
    delay_ms: number;
    /** This process's CPU time over the window, as a percentage of one core. */
    process_cpu_percent: number;
  };
}

/** Real figures of this process, its host and this server; reads nothing from the database. */
export const getSystemMetrics = defineTool({
  name: 'get_system_metrics',
  description:
    "Report this server's live health: active sessions and connected sockets, process uptime, " +
    'memory and Node.js version, host CPU count, load averages and memory, and how busy the ' +
    'event loop is right now.',
  inputSchema: z.object({}),
  async execute(_input, { stats, signal }): Promise<SystemMetrics> {
    signal.throwIfAborted();
    const loopBefore = performance.eventLoopUtilization();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await sleep(sampleWindowMs, undefined, { signal });
    const windowMs = performance.now() - started;
    const loop = performance.eventLoopUtilization(loopBefore);
    const cpu = process.cpuUsage(cpuBefore);

    const memory = process.memoryUsage();
    const [oneMinute = 0, fiveMinutes = 0, fifteenMinutes = 0] = os.loadavg();
    const uptimeSeconds = process.uptime();
    return {
      active_sessions: stats.activeSessions(),
      connected_sockets: stats.connectedSockets(),
      process: {
        pid: process.pid,
        node_version: process.version,
        uptime_seconds: Math.round(uptimeSeconds),
        uptime: formatDuration(uptimeSeconds),
        rss_bytes: memory.rss,
        rss_mib: mebibytes(memory.rss),
        heap_used_bytes: memory.heapUsed,
        heap_used_mib: mebibytes(memory.heapUsed),
        heap_total_bytes: memory.heapTotal,
        heap_total_mib: mebibytes(memory.heapTotal),
        external_bytes: memory.external,
        external_mib: mebibytes(memory.external),
      },
      host: {
        platform: process.platform,
        arch: process.arch,
        cpu_count: os.availableParallelism(),
        load_average: {
          one_minute: round(oneMinute, 2),
          five_minutes: round(fiveMinutes, 2),
          fifteen_minutes: round(fifteenMinutes, 2),
        },
        total_memory_bytes: os.totalmem(),
        total_memory_mib: mebibytes(os.totalmem()),
        free_memory_bytes: os.freemem(),
        free_memory_mib: mebibytes(os.freemem()),
        uptime_seconds: Math.round(os.uptime()),
      },
      event_loop: {
        window_ms: round(windowMs, 1),
        utilization: round(loop.utilization, 3),
        delay_ms: round(Math.max(0, windowMs - sampleWindowMs), 1),
        process_cpu_percent: round(((cpu.user + cpu.system) / 1000 / windowMs) * 100, 1),
      },
    };
  },
});

function mebibytes(bytes: number): number {
  return round(bytes / 1024 / 1024, 1);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** '3d 4h 5m 6s', leaving out leading zero units. */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.floor(totalSeconds);
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  for (const [suffix, size] of units) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || parts.length > 0 || suffix === 's') parts.push(`${amount}${suffix}`);
  }
  return parts.join(' ');
}
