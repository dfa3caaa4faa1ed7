import { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';

export const PG_POOL = Symbol('PG_POOL');
export const DATABASE_URL = Symbol('DATABASE_URL');

/** The platform machinery's SQL goes through MikroORM's own pool: one pool per process. */
export const pgPoolProvider = {
  provide: PG_POOL,
  inject: [MikroORM],
  useFactory: async (orm: MikroORM): Promise<pg.Pool> => (await orm.em.getConnection().getNativeClient()) as pg.Pool,
};
