// Test runner settings: unit tests run in parallel; integration tests start real redis-server
// processes, so their files run one at a time to keep a 2-core machine from timing out.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
