import { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { prepareStatements } from './prepared-statements.js';

export const PG_POOL = Symbol('PG_POOL');
export const DATABASE_URL = Symbol('DATABASE_URL');
/** CROSSDOCK_DB_QUERY_TIMEOUT_MS, for connections the service opens outside the pool. */
export const DATABASE_QUERY_TIMEOUT_MS = Symbol('DATABASE_QUERY_TIMEOUT_MS');

/**
 * The platform machinery's SQL goes through MikroORM's own pool: one pool per process, its parameterised
 * queries sent as prepared statements.
 */
export const pgPoolProvider = {
  provide: PG_POOL,
  inject: [MikroORM],
  useFactory: async (orm: MikroORM): Promise<pg.Pool> => prepareStatements((await orm.em.getConnection().getNativeClient()) as pg.Pool),
};
