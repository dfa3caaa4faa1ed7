import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { SearchSources, type SearchHit } from '../../../platform/search/search-sources.js';

/** Shipments in the operations search, by their id. */
@Injectable()
export class ShipmentSearch implements OnModuleInit {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly sources: SearchSources,
  ) {}

  onModuleInit(): void {
    this.sources.register(async (text): Promise<SearchHit[]> => {
      const { rows } = await this.pool.query<{ id: string; order_id: string; status: string; tracking_number: string | null; correlation_id: string }>(
        'select id, order_id, status, tracking_number, correlation_id from shipment where id = $1', [text],
      );
      return rows.map((r) => ({
        kind: 'shipment', id: r.id, matched: 'shipmentId', correlationId: r.correlation_id,
        summary: { orderId: r.order_id, status: r.status, trackingNumber: r.tracking_number },
        links: [`/v1/ops/trace/${r.correlation_id}`, `/v1/shipments/${r.id}`, `/v1/orders/${r.order_id}`],
      }));
    });
  }
}
