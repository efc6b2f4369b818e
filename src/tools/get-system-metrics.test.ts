import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { formatDuration, getSystemMetrics, type SystemMetrics } from './get-system-metrics.ts';
import type { ToolContext } from './types.ts';

function contextWith(signal: AbortSignal): ToolContext {
  return {
    userId: 'user-a',
    sessionId: '00000000-0000-4000-8000-000000000001',
    db: {} as ToolContext['db'],
    signal,
    stats: { activeSessions: () => 3, connectedSockets: () => 5 },
  };
}

describe('get_system_metrics', () => {
  it('reports the server stats and real figures of this process and host', async () => {
    const metrics = (await getSystemMetrics.execute(
      {},
      contextWith(new AbortController().signal),
    )) as SystemMetrics;

    expect(metrics.active_sessions).toBe(3);
    expect(metrics.connected_sockets).toBe(5);

    expect(metrics.process.pid).toBe(process.pid);
    expect(metrics.process.node_version).toBe(process.version);
    expect(metrics.process.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(metrics.process.rss_bytes).toBeGreaterThan(metrics.process.heap_used_bytes);
    expect(metrics.process.rss_mib).toBeCloseTo(metrics.process.rss_bytes / 1024 / 1024, 0);
    expect(metrics.process.heap_used_bytes).toBeLessThanOrEqual(metrics.process.heap_total_bytes);

    expect(metrics.host.cpu_count).toBe(os.availableParallelism());
    expect(metrics.host.total_memory_bytes).toBe(os.totalmem());
    expect(metrics.host.free_memory_bytes).toBeLessThanOrEqual(metrics.host.total_memory_bytes);
    expect(metrics.host.load_average.one_minute).toBeGreaterThanOrEqual(0);

    expect(metrics.event_loop.window_ms).toBeGreaterThanOrEqual(49);
    expect(metrics.event_loop.utilization).toBeGreaterThanOrEqual(0);
    expect(metrics.event_loop.utilization).toBeLessThanOrEqual(1);
    expect(metrics.event_loop.delay_ms).toBeGreaterThanOrEqual(0);

    // The result goes to the model and the client as JSON.
    expect(JSON.parse(JSON.stringify(metrics))).toEqual(metrics);
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(getSystemMetrics.execute({}, contextWith(controller.signal))).rejects.toThrow(
      'cancelled',
    );

    const later = new AbortController();
    const pending = getSystemMetrics.execute({}, contextWith(later.signal));
    later.abort(new Error('cancelled while sampling'));
    await expect(pending).rejects.toThrow();
  });
});

describe('formatDuration', () => {
  it('leaves out leading zero units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59.9)).toBe('59s');
    expect(formatDuration(3_725)).toBe('1h 2m 5s');
    expect(formatDuration(2 * 86_400 + 7)).toBe('2d 0h 0m 7s');
  });
});
