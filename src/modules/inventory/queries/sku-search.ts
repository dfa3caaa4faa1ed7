import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { SearchSources, type SearchHit } from '../../../platform/search/search-sources.js';

/** SKUs in the operations search: its positions, summed over the warehouses. */
@Injectable()
export class SkuSearch implements OnModuleInit {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly sources: SearchSources,
  ) {}

  onModuleInit(): void {
    this.sources.register(async (text): Promise<SearchHit[]> => {
      const { rows } = await this.pool.query<{ warehouses: number; on_hand: number; reserved: number }>(
        'select count(*)::int as warehouses, sum(on_hand)::float8 as on_hand, sum(reserved)::float8 as reserved from stock_position where sku = $1 having count(*) > 0', [text],
      );
      return rows.map((r) => ({
        kind: 'sku', id: text, matched: 'sku', summary: { warehouses: r.warehouses, onHand: r.on_hand, reserved: r.reserved },
        links: [`/v1/inventory/${encodeURIComponent(text)}`],
      }));
    });
  }
}
