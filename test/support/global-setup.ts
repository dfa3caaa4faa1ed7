import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import type { TestProject } from 'vitest/node';
import { MIGRATIONS } from '../../src/migrations/index.js';
import { BOSS_SCHEMA } from '../../src/platform/delivery/boss.service.js';
import { migrateDatabase } from '../../src/platform/database/migrate.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/platform/database/embedded-postgres.js';
import { databaseUrl, RUN_PREFIX } from './databases.js';

declare module 'vitest' {
  interface ProvidedContext {
    serverUrl: string;
    templateDatabase: string;
    runPrefix: string;
  }
}

/**
 * One PostgreSQL for the run (TEST_DATABASE_URL's server, else an embedded one), and one template database
 * with every migration and the queue schema; each test file copies the template into a database of its own.
 */
export default async function setup(project: TestProject) {
  // Process-level tests start the compiled service, as `npm start` does.
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    dataDir = mkdtempSync(join(tmpdir(), 'crossdock-test-pg-'));
    chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user when the tests run as root
    embedded = await startEmbeddedPostgres(dataDir, { info: () => undefined, warn: (m) => console.warn(m) });
    serverUrl = embedded.url;
  }
  const template = `${RUN_PREFIX}template`;
  await admin(serverUrl, (client) => client.query(`create database ${template}`));
  const templateUrl = databaseUrl(serverUrl, template);
  await migrateDatabase(templateUrl, MIGRATIONS);
  const boss = new PgBoss({ connectionString: templateUrl, schema: BOSS_SCHEMA, supervise: false, schedule: false });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.stop({ graceful: false, close: true });

  project.provide('serverUrl', serverUrl);
  project.provide('templateDatabase', template);
  project.provide('runPrefix', RUN_PREFIX);

  return async () => {
    await admin(serverUrl, async (client) => {
      const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${RUN_PREFIX}%`]);
      for (const { datname } of rows) await client.query(`drop database if exists ${datname} with (force)`);
    }).catch((error: unknown) => console.warn('could not drop test databases', error));
    await embedded?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
}

async function admin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
