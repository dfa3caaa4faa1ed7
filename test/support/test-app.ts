import { Writable } from 'node:stream';
import type { DynamicModule, Type } from '@nestjs/common';
import pg from 'pg';
import { inject } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.js';
import { readEnv } from '../../src/config/env.js';
import { MIGRATIONS } from '../../src/migrations/index.js';
import type { ConfigurationDocument } from '../../src/modules/configuration/index.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import { createDatabase } from './databases.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** Every test app seals connector secrets, as production should. */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestAppOptions {
  env?: Record<string, string>;
  databaseUrl?: string;
  configuration?: ConfigurationDocument;
  additionalModules?: Array<Type | DynamicModule>;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is, for malformed and oversized bodies. */
  rawBody?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

/** The whole service on a fresh database, listening on a free port, its logs kept in memory. */
export async function startTestApp(options: TestAppOptions = {}) {
  const databaseUrl = options.databaseUrl ?? (await freshDatabase());
  const env = readEnv({ PORT: '0', LOG_LEVEL: 'debug', LOG_FORMAT: 'json', CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN, CROSSDOCK_SECRET_KEY: TEST_SECRET_KEY, DATABASE_URL: databaseUrl, ...options.env });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: env.logLevel, format: 'json', destination });
  const app: NestFastifyApplication = await createApp({ env, databaseUrl, adminToken: ADMIN_TOKEN, migrations: MIGRATIONS, logger, configuration: options.configuration, additionalModules: options.additionalModules });
  await app.listen({ port: env.port, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });

  async function request(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(baseUrl + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  return {
    app,
    baseUrl,
    databaseUrl,
    logs,
    request,
    sql: async <R extends pg.QueryResultRow = any>(text: string, params: unknown[] = []) => (await pool.query<R>(text, params)).rows,
    async close() {
      await pool.end();
      await app.close();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;

export function freshDatabase(options: { empty?: boolean } = {}): Promise<string> {
  return createDatabase(inject('serverUrl'), inject('runPrefix'), options.empty ? {} : { template: inject('templateDatabase') });
}

/** A valid channel body of each kind, for tests that need one. */
export const sampleChannel = (overrides: Record<string, unknown> = {}) => ({
  kind: 'webhook',
  name: 'B2B portal',
  config: { url: 'https://portal.example.com/hooks', secret: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ=' },
  inventory: { warehouses: ['WH-EAST'], safetyStock: 1, allocationPercent: 100 },
  oversell: 'reject',
  ...overrides,
});

export const sampleErpBackend = (overrides: Record<string, unknown> = {}) => ({
  kind: 'business-central',
  role: 'cloud',
  config: {
    tenantId: 'tenant-1',
    environment: 'production',
    companyId: 'c0ffee00-0000-0000-0000-000000000001',
    clientId: 'client-1',
    clientSecret: 'bc-client-secret-value',
  },
  limits: { ratePerSecond: 5, burst: 10, concurrency: 2 },
  maintenanceWindows: [{ timeZone: 'Europe/Berlin', days: ['sun'], start: '02:00', end: '04:00' }],
  ...overrides,
});

/**
 * An on-demand sync (`POST /v1/admin/erp-backends/{id}/sync/...`), sent again while the schedule's own run of it
 * holds the backend (409 "retry shortly"), as an operator would.
 */
export async function syncNow(t: TestApp, path: string, timeoutMs = 15_000): Promise<Answer> {
  const started = Date.now();
  for (;;) {
    const answer = await t.request('POST', path);
    if (answer.status !== 409 || Date.now() - started > timeoutMs) return answer;
    await new Promise((r) => setTimeout(r, 100));
  }
}
