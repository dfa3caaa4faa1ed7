import { MikroORM, type MigrationObject } from '@mikro-orm/core';
import pg from 'pg';
import { ormOptions } from './orm-options.js';

// One fixed key for the whole service: instances starting together run migrations one after the other.
const MIGRATION_LOCK_KEY = 0x43524f5353; // "CROSS"

/** Applies pending migrations under a PostgreSQL advisory lock; returns the names applied by this call. */
export async function migrateDatabase(databaseUrl: string, migrations: MigrationObject[]): Promise<string[]> {
  const lock = new pg.Client({ connectionString: databaseUrl, application_name: 'crossdock-migrate' });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const orm = await MikroORM.init(ormOptions({ databaseUrl, migrations, poolMax: 2 }));
    try {
      const applied = await orm.migrator.up();
      return applied.map((m) => m.name);
    } finally {
      await orm.close(true);
    }
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}

/** Names of the known migrations that the database has not recorded as executed. */
export async function pendingMigrations(
  query: (sql: string) => Promise<Array<{ name: string }>>,
  migrations: MigrationObject[],
): Promise<string[]> {
  const rows = await query('select name from mikro_orm_migrations');
  const executed = new Set(rows.map((r) => r.name.replace(/\.[jt]s$/, '')));
  return migrations.map((m) => m.name).filter((name) => !executed.has(name));
}
