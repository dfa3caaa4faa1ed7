import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import type { MigrationObject } from '@mikro-orm/core';

export interface OrmSettings {
  databaseUrl: string;
  migrations: MigrationObject[];
  poolMax?: number;
  /** The service's queries (not the migrations', which may build indexes for long): see CROSSDOCK_DB_QUERY_TIMEOUT_MS. */
  queryTimeoutMs?: number;
}

/** The one MikroORM configuration, shared by the service, the migration runner and the tests. */
export function ormOptions({ databaseUrl, migrations, poolMax = 10, queryTimeoutMs }: OrmSettings): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: databaseUrl,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 30_000 },
    // A server that is away refuses at once; this bounds a connect that hangs, and the wait for a pooled
    // connection in a burst, which must not turn a slow moment into 503s. A server that vanished without
    // closing its connections (a failover) answers nothing: the query timeout and TCP keepalive find that.
    driverOptions: { connectionTimeoutMillis: 10_000, keepAlive: true, ...(queryTimeoutMs === undefined ? {} : { query_timeout: queryTimeoutMs }) },
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
