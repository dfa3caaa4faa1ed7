import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Databases of one test run share this prefix, so the run drops exactly its own at the end. */
export const RUN_PREFIX = `cdt_${process.pid}_`;

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A new database: a copy of the migrated template, or empty (to exercise migrations themselves). */
export async function createDatabase(serverUrl: string, runPrefix: string, options: { template?: string } = {}): Promise<string> {
  const name = `${runPrefix}${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}${options.template ? ` template ${options.template}` : ''}`);
  } finally {
    await client.end();
  }
  return databaseUrl(serverUrl, name);
}
