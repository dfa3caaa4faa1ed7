import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { DelayObjective } from '../../../platform/delivery/delay-objectives.js';
import type { ReconcileSchedules } from '../../../platform/reconciliation/reconcilers.js';

@Entity({ tableName: 'channel' })
export class ChannelEntity {
  @PrimaryKey({ type: 'text' })
  id: string;

  @Property({ type: 'text', nullable: true })
  name: string | null = null;

  @Property({ type: 'text' })
  kind: 'shopify' | 'webhook' | 'api';

  @Property({ type: 'json' })
  config: Record<string, unknown>;

  @Property({ type: 'json' })
  inventory: { warehouses: string[]; safetyStock: number; allocationPercent: number; lowStockThreshold?: number };

  @Property({ type: 'text' })
  oversell: 'reject' | 'backorder';

  @Property({ type: 'json', nullable: true })
  pricing: ChannelPricing | null = null;

  @Property({ type: 'json', nullable: true })
  limits: { ratePerSecond: number; burst: number; concurrency: number } | null = null;

  @Property({ type: 'json', nullable: true })
  slo: DelayObjective | null = null;

  /** Per domain, how often it is reconciled with this target. */
  @Property({ type: 'json', nullable: true })
  reconcile: ReconcileSchedules | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}

/** The list and currency a channel sells at, and what its order intake does when a line's price differs. */
export interface ChannelPricing {
  priceList: string;
  currency: string;
  tolerance?: number;
  tolerancePercent?: number;
  onMismatch?: 'ignore' | 'flag' | 'hold' | 'refuse';
}
