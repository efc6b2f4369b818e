import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start servers and databases; two cores do not gain from more workers.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
