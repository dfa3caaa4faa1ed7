import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import type { MigrationObject } from '@mikro-orm/core';

export interface OrmSettings {
  databaseUrl: string;
  migrations: MigrationObject[];
  poolMax?: number;
}

/** The one MikroORM configuration, shared by the service, the migration runner and the tests. */
export function ormOptions({ databaseUrl, migrations, poolMax = 10 }: OrmSettings): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: databaseUrl,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 30_000 },
    // Connection attempts fail fast so that readiness answers while PostgreSQL is away.
    driverOptions: { connectionTimeoutMillis: 3_000 },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    debug: false,
    migrations: {
      migrationsList: migrations,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      snapshotOnMigrate: false,
      silent: true,
    },
  };
}
