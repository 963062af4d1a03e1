import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // PostgreSQL + S3 for the suites that need them (skipped with one line when they cannot start).
    globalSetup: ['test/services/global-setup.ts'],
    reporters: ['default'],
  },
});
