import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { SearchSources, type SearchHit } from '../../../platform/search/search-sources.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Orders in the operations search: by id, Crossdock's reference, a channel's order id, or the ERP's reference. */
@Injectable()
export class OrderSearch implements OnModuleInit {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly sources: SearchSources,
  ) {}

  onModuleInit(): void {
    this.sources.register((text) => this.search(text));
  }

  private async search(text: string): Promise<SearchHit[]> {
    // Each arm by an index: the id, the reference, the channel's order id, the ERP's reference.
    const { rows } = await this.pool.query<{ id: string; channel_id: string; channel_order_id: string; reference: string; erp_order_ref: string | null; status: string; correlation_id: string; matched: string }>(
      `select id, channel_id, channel_order_id, reference, erp_order_ref, status, correlation_id,
              case when id::text = lower($2) then 'orderId' when reference = $2 then 'reference' when channel_order_id = $2 then 'channelOrderId' else 'erpOrderRef' end as matched
         from sales_order
        where ($1::uuid is not null and id = $1::uuid) or reference = $2
           or channel_order_id = $2 or erp_order_ref = $2
        order by created_at desc limit 20`,
      [UUID.test(text) ? text : null, text],
    );
    return rows.map((r) => ({
      kind: 'order', id: r.id, matched: r.matched, correlationId: r.correlation_id,
      summary: { channelId: r.channel_id, channelOrderId: r.channel_order_id, reference: r.reference, erpOrderRef: r.erp_order_ref, status: r.status },
      links: [`/v1/ops/trace/${r.correlation_id}`, `/v1/orders/${r.id}`],
    }));
  }
}
