import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start servers and child processes; two cores do not gain from more workers.
    maxWorkers: 2,
    // The AWS SDK warns, once per process, that it will drop Node 20 some day.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
