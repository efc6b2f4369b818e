/**
 * Preloaded (`--import`) into a relay for the idle-footprint run, with `--expose-gc`: SIGUSR2
 * makes it collect garbage, so RSS readings count live memory, not garbage not yet collected.
 * It collects the main thread's heap only (a worker thread such as Parley's PGlite thread keeps
 * its garbage), which is one reason the report also gives the RSS added per session between
 * two idle counts. Benchmark only; the server itself has no such hook.
 */
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
