import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Two tiers: unit tests need no service; integration tests get the real stack from test/setup/globalSetup.ts.
export default defineConfig({
  // `import … from 'kes'` (the tutorial's code, written as a user writes it) is the library's source in tests, as it
  // is for tsc (tsconfig.json paths); compiled, Node resolves it to dist/index.js through package.json's exports.
  resolve: { alias: [{ find: /^kes$/, replacement: fileURLToPath(new URL('./index.ts', import.meta.url)) }] },
  test: {
    // Files run in parallel on 2 cores; each isolates itself with random topics, groups, keys, databases.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.unit.test.ts'],
          exclude: ['node_modules/**', 'dist/**', '.kes/**', 'scratch/**'],
          // Pure tests take milliseconds; on 2 cores shared with the integration tier's services a worker can be
          // starved for seconds, which must not read as a failure.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['node_modules/**', 'dist/**', '.kes/**', 'scratch/**'],
          globalSetup: ['test/setup/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
