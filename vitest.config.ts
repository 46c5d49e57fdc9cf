import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: [
            'protocol/**/*.test.ts',
            'server/**/*.test.ts',
            'cli/**/*.test.ts',
            'display/src/**/*.test.ts',
            'test/**/*.test.ts',
            'tools/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', 'test/browser/**'],
        },
      },
      {
        // Real Chromium against the real server: builds display/dist first when it is stale,
        // and gives a browser more time to start on a small machine.
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/browser/screens-in-step.test.ts'],
          globalSetup: ['test/browser/global-setup.ts'],
          // Two Chromiums at once is what a 2-core box takes; the group runs after the unit tests.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // What a page shows is polled; on a loaded 2-core box a frame can take a few seconds.
          expect: { poll: { timeout: 10_000, interval: 100 } },
        },
      },
      {
        // Measures how far apart two screens change, to the refresh: it runs last and alone, so
        // the box's other browser tests do not hold up its animation frames.
        extends: true,
        test: {
          name: 'in-step',
          include: ['test/browser/screens-in-step.test.ts'],
          globalSetup: ['test/browser/global-setup.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
