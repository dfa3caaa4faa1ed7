import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { MIGRATIONS } from '../src/migrations/index.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/platform/database/embedded-postgres.js';
import { migrateDatabase } from '../src/platform/database/migrate.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// This file runs its own PostgreSQL, so that it can stop and start it under a running service.
const quiet = { info: () => undefined, warn: () => undefined };
let dataDir: string;
let port: number;
let database: EmbeddedDatabase;
let t: TestApp;

async function waitFor(path: string, status: number, timeoutMs = 20_000) {
  const started = Date.now();
  for (;;) {
    const answer = await t.request('GET', path, { token: null });
    if (answer.status === status) return answer;
    if (Date.now() - started > timeoutMs) throw new Error(`${path} stayed ${answer.status}: ${answer.text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'crossdock-ready-'));
  chmodSync(dataDir, 0o755);
  port = await freePort();
  database = await startEmbeddedPostgres(dataDir, quiet, { port });
  await migrateDatabase(database.url, MIGRATIONS);
  t = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await t?.close().catch(() => undefined);
  await database?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('readiness follows the database', () => {
  it('falls to 503 while PostgreSQL is stopped, the process stays up, and recovers with no restart', async () => {
    expect((await t.request('GET', '/health/ready', { token: null })).status).toBe(200);

    await database.stop();
    const down = await waitFor('/health/ready', 503);
    expect(down.headers.get('content-type')).toMatch(/problem\+json/);
    expect(down.body.detail).toContain('database');
    expect(down.body.checks.database.status).toBe('down');
    expect((await t.request('GET', '/health/live', { token: null })).status).toBe(200);
    const admin = await t.request('GET', '/v1/admin/channels');
    expect(admin.status).toBe(503);
    expect(admin.headers.get('retry-after')).toBe('5');
    expect(admin.body.type).toMatch(/database-unavailable$/);
    expect(admin.text).not.toMatch(/ECONNREFUSED|select|postgres/i);

    database = await startEmbeddedPostgres(dataDir, quiet, { port });
    await waitFor('/health/ready', 200);
    expect((await t.request('GET', '/v1/admin/channels')).status).toBe(200);
  });

  it('is 503 while migrations are missing', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("update mikro_orm_migrations set name = 'renamed' where name like 'Migration20261127000000Foundation%'");
      const answer = await t.request('GET', '/health/ready', { token: null });
      expect(answer.status).toBe(503);
      expect(JSON.stringify(answer.body.checks.database)).toContain('migrations not applied');
    } finally {
      await client.query("update mikro_orm_migrations set name = 'Migration20261127000000Foundation' where name = 'renamed'");
      await client.end();
    }
    expect((await t.request('GET', '/health/ready', { token: null })).status).toBe(200);
  });
});

