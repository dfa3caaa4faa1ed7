import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { SearchSources, type SearchHit } from '../../../platform/search/search-sources.js';

/** Customers in the operations search, by account number. */
@Injectable()
export class CustomerSearch implements OnModuleInit {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly sources: SearchSources,
  ) {}

  onModuleInit(): void {
    this.sources.register(async (text): Promise<SearchHit[]> => {
      const { rows } = await this.pool.query<{ name: string | null; version: number }>(
        `select fields->>'name' as name, version::int as version from customer where account_number = $1`, [text],
      );
      return rows.map((r) => ({
        kind: 'customer', id: text, matched: 'accountNumber', summary: { name: r.name, version: r.version },
        links: [`/v1/customers/${encodeURIComponent(text)}`, `/v1/ops/customer-conflicts?accountNumber=${encodeURIComponent(text)}`],
      }));
    });
  }
}
