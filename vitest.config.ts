import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Web UI tests that need a DOM say so at their top (`@vitest-environment jsdom`).
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
    // The browser tests need the built UI: built here, once, and only when its sources changed.
    globalSetup: ['test/support/build-web.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A poll waits on a real server (and, in the browser suite, a page loading and rendering
    // its history) while the other worker loads the same two cores: a second, the default,
    // is not always enough there. The timeout bounds a wait; it never lets a wrong value pass.
    expect: { poll: { timeout: 10_000 } },
    // Integration suites start servers and databases; two cores do not gain from more workers.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
