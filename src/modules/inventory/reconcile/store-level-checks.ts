import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { ShopifyInventoryReads } from '../../../connectors/channels/shopify/shopify-inventory-reads.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { IntegrationEvents } from '../../../platform/outbox/integration-events.js';
import { ReconciliationRuns } from '../../../platform/reconciliation/reconciliation-runs.js';
import { ChannelQuery } from '../../configuration/index.js';
import { lockSkus } from '../commands/stock-locks.js';
import { StoreLevelReported } from '../events/store-level-reported.js';
import { InventoryReconciler } from './inventory-reconciler.js';

// Shopify's updated_at has whole seconds: a delivery within the second after it may still be older than the change.
const UPDATED_AT_PRECISION_MS = 1_000;

/**
 * Levels a store told of (`inventory_levels/update`), checked on arrival against what the store was last sent, as a
 * scheduled run would check them: a difference (a merchant's edit) is a `channel-differs` finding of a run of its own
 * (trigger `pushed`), repaired in the same transaction. Crossdock's own figure coming back matches what was delivered,
 * or is still on its way, and a change older than the last delivery was overwritten by it: neither is a finding.
 */
@Injectable()
export class StoreLevelChecks implements OnModuleInit {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly events: IntegrationEvents,
    private readonly queries: QueryBus,
    private readonly reads: ShopifyInventoryReads,
    private readonly reconciler: InventoryReconciler,
    private readonly runs: ReconciliationRuns,
  ) {}

  onModuleInit(): void {
    this.events.subscribe('inventory', StoreLevelReported, (event) => this.check(event));
  }

  /** Idempotent: once repaired, the same level again finds the store's figure recorded, and the new version on its way. */
  async check(event: StoreLevelReported): Promise<void> {
    if (event.available === null) return;
    const channel = await this.queries.execute(new ChannelQuery(event.channelId));
    if (channel?.kind !== 'shopify') return;
    const { sku, warehouses } = await this.reads.levelOf(channel.id, event.inventoryItemId, event.locationId, channel.inventory.warehouses);
    if (!sku || warehouses.length === 0) return; // not a SKU of Crossdock's, or a location it does not publish to
    const held = new Map([[sku, { byWarehouse: Object.fromEntries(warehouses.map((w) => [w, event.available!])) }]]);
    const changedAt = event.updatedAt ? new Date(Date.parse(event.updatedAt) + UPDATED_AT_PRECISION_MS) : null;
    await inTransaction(this.pool, async (tx) => {
      await lockSkus(tx, [sku]);
      const { compared, findings } = await this.reconciler.drift(tx, channel, held, changedAt);
      if (findings.length > 0) await this.runs.settlePushed(tx, this.reconciler, `channel:${channel.id}`, compared, findings);
    });
  }
}
