/**
 * Preloaded before the service (`node --import ./dist/instrumentation.js dist/main.js`): starts OpenTelemetry
 * tracing when the standard OTEL_* variables ask for it, and does nothing else otherwise (no SDK is loaded).
 *
 * Under ESM the order matters: the loader hook that lets the instrumentations patch ES-module imports
 * (import-in-the-middle) must be registered, and the instrumentations enabled, before anything imports pg,
 * Fastify or undici; a `--import` preload runs before the entry point's first import.
 */
import { register } from 'node:module';
import { tracingRequested } from './platform/observability/tracing.js';

// The instrumented modules that ES modules import (pg: the service, pg-boss, MikroORM; http and https: any server
// or client). Only these go through the hook: wrapping every module would slow the start for nothing.
const PATCHED_ON_IMPORT = ['pg', 'pg-pool', 'http', 'https'];

if (tracingRequested(process.env)) {
  // In-thread hooks where this Node has them fixed (24.11.1 and later), the loader thread before that.
  const hooks = await import('import-in-the-middle/register-hooks.mjs');
  if (hooks.supportsSyncHooks()) hooks.register({ include: PATCHED_ON_IMPORT });
  else register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include: PATCHED_ON_IMPORT } });
  const { startTracing } = await import('./platform/observability/tracing-sdk.js');
  startTracing();
}
