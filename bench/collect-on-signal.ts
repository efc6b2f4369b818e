/**
 * Preloaded (`--import`) into a relay for the idle-footprint run, with `--expose-gc`: SIGUSR2
 * makes it collect garbage, so RSS readings count live memory, not garbage not yet collected.
 * Benchmark only; the server itself has no such hook.
 */
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
