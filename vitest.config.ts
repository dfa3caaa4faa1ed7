import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Nest and MikroORM read decorator metadata, which only swc (not esbuild/oxc) emits.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  oxc: false,
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['reflect-metadata'],
    pool: 'forks',
    // Two files at once on two cores: the suite's processes mostly wait on PostgreSQL and on each other.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
