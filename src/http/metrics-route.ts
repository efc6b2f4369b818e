import { monitorEventLoopDelay, type Histogram } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { EventWriter } from '../db/event-writer.ts';
import type { SessionRegistry } from '../sessions/registry.ts';

export interface MetricsRouteOptions {
  registry: SessionRegistry;
  writer: EventWriter;
}

const nsToMs = (ns: number) => Math.round(ns / 1e4) / 100;
const usToMs = (us: number) => Math.round(us / 10) / 100;

function summary(histogram: Histogram, toMs: (value: number) => number) {
  if (histogram.count === 0) return { p50: 0, p99: 0, max: 0, count: 0 };
  return {
    p50: toMs(histogram.percentile(50)),
    p99: toMs(histogram.percentile(99)),
    max: toMs(histogram.max),
    count: histogram.count,
  };
}

/**
 * `GET /metrics`: this process's health in JSON, for operators and the benchmark. Counters are
 * totals since start; the event-loop delay and write-lag percentiles cover the time since the
 * previous request of /metrics (one scraper is assumed).
 */
export function metricsRoute(
  app: FastifyInstance,
  { registry, writer }: MetricsRouteOptions,
): void {
  let loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let since = performance.now();
  app.addHook('onClose', async function stopLoopDelayMonitor() {
    loopDelay.disable();
  });

  app.get('/metrics', async function metrics() {
    const sample = loopDelay;
    loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    sample.disable();
    const intervalMs = performance.now() - since;
    since = performance.now();
    const memory = process.memoryUsage();
    const stats = writer.stats;
    return {
      uptime_s: Math.round(process.uptime()),
      rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      active_sessions: registry.activeSessions,
      connected_sockets: registry.connectedSockets,
      interval_ms: Math.round(intervalMs),
      event_loop_delay_ms: summary(sample, nsToMs),
      event_writer: {
        batches: stats.batches,
        rows: stats.rows,
        pending: writer.pending,
        last_batch_size: stats.lastBatchSize,
        max_batch_size: stats.maxBatchSize,
        max_lag_ms: Math.round(stats.maxLagMs * 100) / 100,
        failures: stats.failures,
        lag_ms: summary(writer.takeLagHistogram(), usToMs),
      },
    };
  });
}
