import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type pg from 'pg';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import type { Sql } from '../../../../platform/database/transaction.js';

/** A source system as the domains need it: the ERP backend it stands for, if any. */
export interface Source {
  id: string;
  erpBackend: string | null;
}

const CACHE_MS = 5_000;

/** A source system (null when there is none), through a 5-second cache; `sql`: read in the caller's transaction. */
export class SourceQuery extends Query<Source | null> {
  constructor(
    readonly sourceId: string,
    readonly sql?: Sql,
  ) {
    super();
  }
}

@QueryHandler(SourceQuery)
export class SourceHandler implements IQueryHandler<SourceQuery, Source | null> {
  private readonly cache = new Map<string, { source: Source | null; until: number }>();

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async execute({ sourceId, sql }: SourceQuery): Promise<Source | null> {
    const cached = this.cache.get(sourceId);
    if (cached && cached.until > Date.now()) return cached.source;
    const text = 'select id, erp_backend_id as "erpBackend" from source_system where id = $1';
    const { rows: [source] } = sql ? await sql.query<Source>(text, [sourceId]) : await this.pool.query<Source>(text, [sourceId]);
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(sourceId, { source: source ?? null, until: Date.now() + CACHE_MS });
    return source ?? null;
  }
}
